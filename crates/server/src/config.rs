//! What a member needs to run, already validated and resolved by the embedding layer.

use std::path::PathBuf;
use std::time::Duration;

/// Server settings. URLs are kept as the strings users gave (etcd derives IDs from them).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub name: String,
    pub data_dir: PathBuf,
    pub wal_dir: PathBuf,
    /// `--initial-cluster` as (name, peer URLs), used only when bootstrapping.
    pub initial_cluster: Vec<(String, Vec<String>)>,
    /// `--initial-cluster-state new`.
    pub new_cluster: bool,
    pub initial_cluster_token: String,
    pub advertise_client_urls: Vec<String>,
    pub advertise_peer_urls: Vec<String>,
    pub snapshot_count: u64,
    pub snapshot_catchup_entries: u64,
    /// One raft tick.
    pub heartbeat: Duration,
    pub election_timeout: Duration,
    pub max_request_bytes: usize,
    pub max_txn_ops: usize,
    /// 0 means etcd's default (2 GiB).
    pub quota_backend_bytes: u64,
    pub pre_vote: bool,
    pub strict_reconfig_check: bool,
    /// Memory the backend may use as cache.
    pub backend_cache_bytes: u64,
    /// WAL segment size (64 MiB like etcd; tests use less).
    pub wal_segment_size: u64,
    /// Joining an existing cluster (`--initial-cluster-state existing` with no data
    /// directory yet): the cluster as its members reported it.
    pub join: Option<JoinCluster>,
    /// TLS for dialing peers (None: plain http).
    pub peer_tls: Option<etcd_transport::TlsInfo>,
    /// How often an idle watcher created with `progress_notify` is told the current
    /// revision (`--watch-progress-notify-interval`; etcd's default is 10 minutes).
    /// Never zero.
    pub watch_progress_notify_interval: Duration,
    /// How often the leader proposes checkpoints of remaining lease TTLs
    /// (`--experimental-lease-checkpoint-interval`; etcd's default is 5 minutes), or None
    /// when checkpointing is off. Never zero.
    ///
    /// Unlike etcd, checkpointing is on unless `--experimental-enable-lease-checkpoint=false`
    /// is given explicitly: a new leader then resumes each lease from its last checkpointed
    /// remaining TTL instead of resetting it to the granted TTL, so a lease nobody renews
    /// still expires in bounded time across leader changes.
    pub lease_checkpoint_interval: Option<Duration>,
}

/// An existing cluster as fetched from its members' peer URLs.
#[derive(Clone, Debug)]
pub struct JoinCluster {
    pub cluster_id: u64,
    pub members: Vec<crate::membership::Member>,
}

/// etcd's default `--watch-progress-notify-interval`.
pub const DEFAULT_WATCH_PROGRESS_NOTIFY_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// etcd's default backend quota when `--quota-backend-bytes` is 0.
pub const DEFAULT_QUOTA_BYTES: u64 = 2 * 1024 * 1024 * 1024;

impl ServerConfig {
    /// Election timeout in ticks, as raft counts it.
    pub fn election_ticks(&self) -> usize {
        let hb = self.heartbeat.as_millis().max(1);
        ((self.election_timeout.as_millis() / hb) as usize).max(2)
    }

    /// How long a proposal may wait for its result: 5 s + 2 x election timeout (etcd).
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(5) + 2 * self.election_timeout
    }

    pub fn quota_bytes(&self) -> u64 {
        if self.quota_backend_bytes == 0 {
            DEFAULT_QUOTA_BYTES
        } else {
            self.quota_backend_bytes
        }
    }

    pub fn member_dir(&self) -> PathBuf {
        self.data_dir.join("member")
    }

    pub fn backend_dir(&self) -> PathBuf {
        self.member_dir().join("db")
    }

    /// Snapshots received from or staged for other members.
    pub fn snap_dir(&self) -> PathBuf {
        self.member_dir().join("snap")
    }

    /// A config for tests: one member named `name` in `data_dir`, fast timings.
    pub fn for_test(name: &str, data_dir: PathBuf) -> ServerConfig {
        let peer = "http://127.0.0.1:2380".to_string();
        ServerConfig {
            name: name.to_string(),
            wal_dir: data_dir.join("member").join("wal"),
            data_dir,
            initial_cluster: vec![(name.to_string(), vec![peer.clone()])],
            new_cluster: true,
            initial_cluster_token: "etcd-cluster".into(),
            advertise_client_urls: vec!["http://127.0.0.1:2379".into()],
            advertise_peer_urls: vec![peer],
            snapshot_count: 100_000,
            snapshot_catchup_entries: 5_000,
            heartbeat: Duration::from_millis(10),
            election_timeout: Duration::from_millis(100),
            max_request_bytes: 1_572_864,
            max_txn_ops: 128,
            quota_backend_bytes: 0,
            pre_vote: true,
            strict_reconfig_check: true,
            backend_cache_bytes: 8 << 20,
            wal_segment_size: 4 << 20,
            join: None,
            peer_tls: None,
            watch_progress_notify_interval: DEFAULT_WATCH_PROGRESS_NOTIFY_INTERVAL,
            lease_checkpoint_interval: Some(etcd_lease::DEFAULT_CHECKPOINT_INTERVAL),
        }
    }
}
