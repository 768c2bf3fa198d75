//! The configuration a member starts from ([`Config`]), with etcd's defaults and the
//! small derived values the server needs (WAL directory, request timeout).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use etcd_transport::TlsInfo;
use url::Url;

use super::flags::{self, Target};
use super::values;

/// `--initial-cluster-state`: bootstrap a new cluster or join an existing one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ClusterState {
    #[default]
    New,
    Existing,
}

impl ClusterState {
    /// The flag value: `new` or `existing`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterState::New => "new",
            ClusterState::Existing => "existing",
        }
    }
}

impl fmt::Display for ClusterState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything etcd can be told at start-up, under etcd's names (`--snapshot-count` is
/// `snapshot_count`). Built by [`parse`](super::parse) from flags and `ETCD_*` variables,
/// by [`Config::from_yaml_file`], or by serde from a map with etcd's YAML keys.
///
/// Flags that nothing in this implementation reads yet are kept as given (or at their
/// default) in [`Config::other_flags`], under their current etcd name.
#[derive(Clone, Debug)]
pub struct Config {
    pub name: String,
    /// `<name>.etcd` unless given.
    pub data_dir: PathBuf,
    pub wal_dir: Option<PathBuf>,
    pub snapshot_count: u64,
    pub snapshot_catchup_entries: u64,
    /// `--heartbeat-interval`, given in milliseconds.
    pub heartbeat_interval: Duration,
    /// `--election-timeout`, given in milliseconds.
    pub election_timeout: Duration,
    pub initial_election_tick_advance: bool,
    pub max_snapshots: u32,
    pub max_wals: u32,
    /// 0 means the default quota (2 GiB).
    pub quota_backend_bytes: i64,
    /// None: the backend's own default.
    pub backend_batch_interval: Option<Duration>,
    /// 0: the backend's own default.
    pub backend_batch_limit: u64,
    pub max_txn_ops: u64,
    pub max_request_bytes: u64,
    pub max_concurrent_streams: u32,
    pub grpc_keepalive_min_time: Duration,
    pub grpc_keepalive_interval: Duration,
    pub grpc_keepalive_timeout: Duration,
    pub socket_reuse_port: bool,
    pub socket_reuse_address: bool,

    /// Every URL list is sorted and free of duplicates, as etcd keeps them.
    pub listen_peer_urls: Vec<Url>,
    pub listen_client_urls: Vec<Url>,
    pub listen_client_http_urls: Vec<Url>,
    pub listen_metrics_urls: Vec<Url>,
    pub initial_advertise_peer_urls: Vec<Url>,
    /// Empty when `--listen-client-urls` was given without it (an error in `validate`).
    pub advertise_client_urls: Vec<Url>,
    /// `name=url,...`; unless given, built from `name` and the advertised peer URLs, or
    /// empty when a discovery method is configured.
    pub initial_cluster: String,
    pub initial_cluster_state: ClusterState,
    pub initial_cluster_token: String,
    pub discovery: String,
    pub discovery_srv: String,
    pub discovery_srv_name: String,
    pub discovery_endpoints: Vec<String>,
    pub discovery_token: String,
    pub strict_reconfig_check: bool,
    pub pre_vote: bool,
    /// `periodic` or `revision`.
    pub auto_compaction_mode: String,
    pub auto_compaction_retention: String,

    /// Client-facing TLS; `auto_tls` is `--auto-tls`.
    pub client_tls: TlsInfo,
    /// Peer TLS; `auto_tls` is `--peer-auto-tls`.
    pub peer_tls: TlsInfo,
    /// In the order given.
    pub cipher_suites: Vec<String>,
    pub tls_min_version: Option<String>,
    pub tls_max_version: Option<String>,
    /// Years.
    pub self_signed_cert_validity: u32,
    /// `*` or origins; empty also means all.
    pub cors: Vec<String>,
    /// `*` or host names; empty also means all.
    pub host_whitelist: Vec<String>,

    pub auth_token: String,
    pub bcrypt_cost: u32,
    /// Seconds.
    pub auth_token_ttl: u32,

    pub enable_pprof: bool,
    /// `basic` or `extensive`.
    pub metrics: String,

    /// `zap` (or the deprecated `capnslog`, which logs the same way here).
    pub logger: String,
    /// debug, info, warn, error, panic or fatal.
    pub log_level: String,
    /// Never empty: `default` (stderr), `stderr`, `stdout` or file paths.
    pub log_outputs: Vec<String>,

    pub force_new_cluster: bool,
    pub unsafe_no_fsync: bool,

    /// The value of every other etcd flag (experimental ones, v2 proxy, discovery
    /// details, tracing, ...), keyed by its current etcd name without dashes in front,
    /// holding the default unless it was given.
    pub other_flags: BTreeMap<String, String>,
    /// Names of the flags (or config-file keys) given explicitly, both as given and
    /// under the current name when an old alias was used.
    pub explicitly_set: BTreeSet<String>,
}

/// `http://localhost:2380`
fn default_peer_url() -> Vec<Url> {
    url_list("http://localhost:2380")
}

/// `http://localhost:2379`
fn default_client_url() -> Vec<Url> {
    url_list("http://localhost:2379")
}

fn url_list(s: &str) -> Vec<Url> {
    Url::parse(s).into_iter().collect()
}

impl Default for Config {
    fn default() -> Self {
        let other_flags = flags::all()
            .filter(|f| matches!(f.target, Target::Other(_)))
            .map(|f| (f.name.to_string(), f.default.to_string()))
            .collect();
        Config {
            name: "default".to_string(),
            data_dir: PathBuf::from("default.etcd"),
            wal_dir: None,
            snapshot_count: 100_000,
            snapshot_catchup_entries: 5_000,
            heartbeat_interval: Duration::from_millis(100),
            election_timeout: Duration::from_millis(1000),
            initial_election_tick_advance: true,
            max_snapshots: 5,
            max_wals: 5,
            quota_backend_bytes: 0,
            backend_batch_interval: None,
            backend_batch_limit: 0,
            max_txn_ops: 128,
            max_request_bytes: 1_572_864,
            max_concurrent_streams: u32::MAX,
            grpc_keepalive_min_time: Duration::from_secs(5),
            grpc_keepalive_interval: Duration::from_secs(2 * 3600),
            grpc_keepalive_timeout: Duration::from_secs(20),
            socket_reuse_port: false,
            socket_reuse_address: false,
            listen_peer_urls: default_peer_url(),
            listen_client_urls: default_client_url(),
            listen_client_http_urls: Vec::new(),
            listen_metrics_urls: Vec::new(),
            initial_advertise_peer_urls: default_peer_url(),
            advertise_client_urls: default_client_url(),
            initial_cluster: "default=http://localhost:2380".to_string(),
            initial_cluster_state: ClusterState::New,
            initial_cluster_token: "etcd-cluster".to_string(),
            discovery: String::new(),
            discovery_srv: String::new(),
            discovery_srv_name: String::new(),
            discovery_endpoints: Vec::new(),
            discovery_token: String::new(),
            strict_reconfig_check: true,
            pre_vote: true,
            auto_compaction_mode: "periodic".to_string(),
            auto_compaction_retention: "0".to_string(),
            client_tls: TlsInfo::default(),
            peer_tls: TlsInfo::default(),
            cipher_suites: Vec::new(),
            tls_min_version: None,
            tls_max_version: None,
            self_signed_cert_validity: 1,
            cors: vec!["*".to_string()],
            host_whitelist: vec!["*".to_string()],
            auth_token: "simple".to_string(),
            bcrypt_cost: 10,
            auth_token_ttl: 300,
            enable_pprof: false,
            metrics: "basic".to_string(),
            logger: "zap".to_string(),
            log_level: "info".to_string(),
            log_outputs: vec!["default".to_string()],
            force_new_cluster: false,
            unsafe_no_fsync: false,
            other_flags,
            explicitly_set: BTreeSet::new(),
        }
    }
}

impl Config {
    /// `--wal-dir`, or `<data-dir>/member/wal`.
    pub fn wal_dir_or_default(&self) -> PathBuf {
        match &self.wal_dir {
            Some(dir) => dir.clone(),
            None => self.data_dir.join("member").join("wal"),
        }
    }

    /// How long a proposal may wait for its result: 5 s plus two election timeouts,
    /// as etcd's `ReqTimeout`.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(5) + 2 * self.election_timeout
    }

    /// True when the flag (or config-file key) was given explicitly, under this name.
    pub fn is_set(&self, flag: &str) -> bool {
        self.explicitly_set.contains(flag)
    }

    /// The raw value of a flag kept in [`Config::other_flags`] (current etcd name).
    pub fn other_flag(&self, flag: &str) -> Option<&str> {
        self.other_flags.get(flag).map(String::as_str)
    }

    /// A boolean flag of [`Config::other_flags`]; None when absent or not a boolean.
    pub fn other_bool(&self, flag: &str) -> Option<bool> {
        self.other_flag(flag)
            .and_then(|v| values::parse_bool(v).ok())
    }

    /// A duration flag of [`Config::other_flags`] (Go syntax such as `10m`).
    pub fn other_duration(&self, flag: &str) -> Option<Duration> {
        self.other_flag(flag)
            .and_then(|v| values::parse_duration(v).ok())
    }

    /// An integer flag of [`Config::other_flags`].
    pub fn other_i64(&self, flag: &str) -> Option<i64> {
        self.other_flag(flag)
            .and_then(|v| values::parse_i64(v).ok())
    }

    /// `--watch-progress-notify-interval` (alias
    /// `--experimental-watch-progress-notify-interval`): 10 minutes unless given. Zero when
    /// given as zero or negative, which the server configuration refuses, as etcd does.
    pub fn watch_progress_notify_interval(&self) -> Duration {
        self.other_duration("watch-progress-notify-interval")
            .unwrap_or(DEFAULT_WATCH_PROGRESS_NOTIFY_INTERVAL)
    }

    /// How often the leader checkpoints remaining lease TTLs, or None when checkpointing
    /// is off. `--experimental-lease-checkpoint-interval` (etcd's default, 5 minutes, when
    /// not given or not positive).
    ///
    /// Checkpointing is on by default, unlike etcd's: `--experimental-enable-lease-checkpoint`
    /// is honoured only when given explicitly as false. Our documented choice, so remaining
    /// TTLs survive leader changes instead of being reset to the granted TTL.
    pub fn lease_checkpoint_interval(&self) -> Option<Duration> {
        let enable = "experimental-enable-lease-checkpoint";
        if self.is_set(enable) && self.other_bool(enable) == Some(false) {
            return None;
        }
        let interval = self
            .other_duration("experimental-lease-checkpoint-interval")
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_LEASE_CHECKPOINT_INTERVAL);
        Some(interval)
    }
}

/// etcd's default `--watch-progress-notify-interval`.
const DEFAULT_WATCH_PROGRESS_NOTIFY_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// etcd's default lease checkpoint interval.
const DEFAULT_LEASE_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(5 * 60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_etcds() {
        let c = Config::default();
        assert_eq!(c.name, "default");
        assert_eq!(c.data_dir, PathBuf::from("default.etcd"));
        assert_eq!(c.snapshot_count, 100_000);
        assert_eq!(c.max_request_bytes, 1_572_864);
        assert_eq!(c.initial_cluster, "default=http://localhost:2380");
        assert_eq!(c.listen_client_urls[0].as_str(), "http://localhost:2379/");
        assert_eq!(
            c.other_flag("experimental-initial-corrupt-check"),
            Some("false")
        );
        assert_eq!(
            c.other_duration("watch-progress-notify-interval"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(c.other_bool("enable-grpc-gateway"), Some(true));
        assert_eq!(c.other_i64("compaction-batch-limit"), Some(1000));
    }

    #[test]
    fn watch_progress_and_lease_checkpoint_settings() {
        let mut c = Config::default();
        assert_eq!(c.watch_progress_notify_interval(), Duration::from_secs(600));
        assert_eq!(
            c.lease_checkpoint_interval(),
            Some(Duration::from_secs(300)),
            "checkpointing is on by default"
        );
        c.other_flags
            .insert("watch-progress-notify-interval".into(), "200ms".into());
        assert_eq!(
            c.watch_progress_notify_interval(),
            Duration::from_millis(200)
        );
        c.other_flags
            .insert("experimental-lease-checkpoint-interval".into(), "1s".into());
        assert_eq!(c.lease_checkpoint_interval(), Some(Duration::from_secs(1)));
        let enable = "experimental-enable-lease-checkpoint";
        c.other_flags.insert(enable.into(), "false".into());
        assert!(
            c.lease_checkpoint_interval().is_some(),
            "the default false does not turn it off"
        );
        c.explicitly_set.insert(enable.into());
        assert_eq!(c.lease_checkpoint_interval(), None);
    }

    #[test]
    fn wal_dir_defaults_under_data_dir() {
        let mut c = Config {
            data_dir: PathBuf::from("x.etcd"),
            ..Config::default()
        };
        assert_eq!(c.wal_dir_or_default(), PathBuf::from("x.etcd/member/wal"));
        c.wal_dir = Some(PathBuf::from("/fast/wal"));
        assert_eq!(c.wal_dir_or_default(), PathBuf::from("/fast/wal"));
    }

    #[test]
    fn request_timeout_is_five_seconds_plus_two_elections() {
        let mut c = Config::default();
        assert_eq!(c.request_timeout(), Duration::from_secs(7));
        c.election_timeout = Duration::from_millis(2500);
        assert_eq!(c.request_timeout(), Duration::from_secs(10));
    }

    #[test]
    fn cluster_state_names() {
        assert_eq!(ClusterState::New.to_string(), "new");
        assert_eq!(ClusterState::Existing.as_str(), "existing");
        assert_eq!(ClusterState::default(), ClusterState::New);
    }
}
