//! `--config-file` / `ETCD_CONFIG_FILE`: etcd's YAML keys, nested TLS sections, errors,
//! and the file replacing flags and environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use etcd_embed::config::{ClusterState, Config, ConfigError};

use crate::{fail, run_with, url_strings};

/// A file in the style of etcd's `etcd.conf.yml.sample`, with every kind of value.
const SAMPLE: &str = r#"
# This is the configuration file for the etcd server.
name: 'infra1'
data-dir: /var/lib/etcd/infra1
wal-dir: /var/lib/etcd-wal
snapshot-count: 10000
heartbeat-interval: 200
election-timeout: 2000
quota-backend-bytes: 8589934592
listen-peer-urls: http://10.0.1.11:2380
listen-client-urls: http://10.0.1.11:2379,http://127.0.0.1:2379
max-snapshots: 3
max-wals: 7
cors:
initial-advertise-peer-urls: http://10.0.1.11:2380
advertise-client-urls: http://10.0.1.11:2379
discovery:
discovery-fallback: 'proxy'
discovery-proxy:
discovery-srv:
initial-cluster: infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380
initial-cluster-token: 'etcd-cluster-1'
initial-cluster-state: 'existing'
strict-reconfig-check: false
enable-v2: false
enable-pprof: true
proxy: 'off'
proxy-failure-wait: 5000
proxy-refresh-interval: 30000
proxy-dial-timeout: 1000
proxy-write-timeout: 5000
proxy-read-timeout: 0
client-transport-security:
  cert-file: /etc/etcd/server.crt
  key-file: /etc/etcd/server.key
  client-cert-auth: true
  trusted-ca-file: /etc/etcd/ca.crt
  auto-tls: false
  allowed-cn: client-cn
peer-transport-security:
  cert-file: /etc/etcd/peer.crt
  key-file: /etc/etcd/peer.key
  client-cert-auth: true
  trusted-ca-file: /etc/etcd/peer-ca.crt
  auto-tls: true
  allowed-cn: peer-cn
  allowed-hostname: peer.example.com
  crl-file: /etc/etcd/peer.crl
  skip-client-san-verification: true
self-signed-cert-validity: 2
log-level: debug
logger: zap
log-outputs: [stderr]
force-new-cluster: false
auto-compaction-mode: periodic
auto-compaction-retention: "1"
cipher-suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]
tls-min-version: 'TLS1.2'
grpc-keepalive-min-time: 10000000000
grpc-keepalive-interval: 3600000000000
max-request-bytes: 10485760
max-txn-ops: 1024
max-concurrent-streams: 1000
pre-vote: false
experimental-initial-corrupt-check: true
experimental-watch-progress-notify-interval: 300000000000
experimental-compaction-batch-limit: 500
unsafe-no-fsync: true
listen-metrics-urls: http://127.0.0.1:2381
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_full_file_sets_every_kind_of_value() {
    let dir = tempfile::tempdir().unwrap();
    let c = Config::from_yaml_file(&write(dir.path(), "etcd.yml", SAMPLE)).unwrap();
    assert_eq!(c.name, "infra1");
    assert_eq!(c.data_dir, PathBuf::from("/var/lib/etcd/infra1"));
    assert_eq!(c.wal_dir_or_default(), PathBuf::from("/var/lib/etcd-wal"));
    assert_eq!(c.snapshot_count, 10_000);
    assert_eq!(c.heartbeat_interval, Duration::from_millis(200));
    assert_eq!(c.election_timeout, Duration::from_millis(2000));
    assert_eq!(c.quota_backend_bytes, 8 << 30);
    assert_eq!(url_strings(&c.listen_peer_urls), ["http://10.0.1.11:2380"]);
    assert_eq!(
        url_strings(&c.listen_client_urls),
        ["http://10.0.1.11:2379", "http://127.0.0.1:2379"]
    );
    assert_eq!((c.max_snapshots, c.max_wals), (3, 7));
    assert_eq!(c.cors, ["*"], "a null value keeps the default");
    assert_eq!(
        url_strings(&c.initial_advertise_peer_urls),
        ["http://10.0.1.11:2380"]
    );
    assert_eq!(
        url_strings(&c.advertise_client_urls),
        ["http://10.0.1.11:2379"]
    );
    assert_eq!(
        c.initial_cluster,
        "infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380"
    );
    assert_eq!(c.initial_cluster_token, "etcd-cluster-1");
    assert_eq!(c.initial_cluster_state, ClusterState::Existing);
    assert!(!c.strict_reconfig_check);
    assert!(c.enable_pprof);
    assert_eq!(c.other_flag("proxy"), Some("off"));

    let t = &c.client_tls;
    assert_eq!(
        t.cert_file.as_deref(),
        Some(Path::new("/etc/etcd/server.crt"))
    );
    assert_eq!(
        t.key_file.as_deref(),
        Some(Path::new("/etc/etcd/server.key"))
    );
    assert_eq!(
        t.trusted_ca_file.as_deref(),
        Some(Path::new("/etc/etcd/ca.crt"))
    );
    assert!(t.client_cert_auth && !t.auto_tls);
    assert_eq!(t.allowed_cn, ["client-cn"]);
    let p = &c.peer_tls;
    assert_eq!(
        p.cert_file.as_deref(),
        Some(Path::new("/etc/etcd/peer.crt"))
    );
    assert_eq!(p.key_file.as_deref(), Some(Path::new("/etc/etcd/peer.key")));
    assert_eq!(
        p.trusted_ca_file.as_deref(),
        Some(Path::new("/etc/etcd/peer-ca.crt"))
    );
    assert_eq!(p.crl_file.as_deref(), Some(Path::new("/etc/etcd/peer.crl")));
    assert!(p.client_cert_auth && p.auto_tls);
    assert_eq!(p.allowed_cn, ["peer-cn"]);
    assert_eq!(p.allowed_hostname, ["peer.example.com"]);
    assert_eq!(
        c.other_bool("peer-skip-client-san-verification"),
        Some(true)
    );

    assert_eq!(c.self_signed_cert_validity, 2);
    assert_eq!(c.log_level, "debug");
    assert_eq!(c.log_outputs, ["stderr"]);
    assert_eq!(c.auto_compaction_retention, "1");
    assert_eq!(
        c.cipher_suites,
        [
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        ]
    );
    assert_eq!(c.tls_min_version.as_deref(), Some("TLS1.2"));
    assert_eq!(c.grpc_keepalive_min_time, Duration::from_secs(10));
    assert_eq!(c.grpc_keepalive_interval, Duration::from_secs(3600));
    assert_eq!(c.max_request_bytes, 10 << 20);
    assert_eq!(c.max_txn_ops, 1024);
    assert_eq!(c.max_concurrent_streams, 1000);
    assert!(!c.pre_vote);
    assert_eq!(
        c.other_bool("experimental-initial-corrupt-check"),
        Some(true)
    );
    assert_eq!(
        c.other_duration("watch-progress-notify-interval"),
        Some(Duration::from_secs(300))
    );
    assert_eq!(c.other_i64("compaction-batch-limit"), Some(500));
    assert!(c.unsafe_no_fsync);
    assert_eq!(
        url_strings(&c.listen_metrics_urls),
        ["http://127.0.0.1:2381"]
    );
    assert!(c.is_set("snapshot-count"));
    assert!(!c.is_set("max-learners"));
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn derived_values_follow_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "c.yml",
        "name: n7\ninitial-advertise-peer-urls: http://10.0.0.7:2380\n",
    );
    let c = Config::from_yaml_file(&path).unwrap();
    assert_eq!(c.data_dir, PathBuf::from("n7.etcd"));
    assert_eq!(c.initial_cluster, "n7=http://10.0.0.7:2380");
    // Unlike the command line, the file keeps the default advertise URLs (as etcd).
    let path = write(
        dir.path(),
        "d.yml",
        "listen-client-urls: http://127.0.0.1:2379\n",
    );
    let c = Config::from_yaml_file(&path).unwrap();
    assert_eq!(
        url_strings(&c.advertise_client_urls),
        ["http://localhost:2379"]
    );
}

#[test]
fn the_file_replaces_flags_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "etcd.yml",
        "name: from-file\nsnapshot-count: 42\n",
    );
    let path_str = path.to_str().unwrap();
    let (c, notices) = run_with(
        &[
            "--config-file",
            path_str,
            "--name=from-flag",
            "--snapshot-count=7",
        ],
        &[("ETCD_MAX_TXN_OPS", "9"), ("ETCD_NAME", "from-env")],
    );
    assert_eq!(c.name, "from-file");
    assert_eq!(c.snapshot_count, 42);
    assert_eq!(c.max_txn_ops, 128);
    assert!(
        notices[0].starts_with("loaded server configuration from \""),
        "{notices:?}"
    );
    assert!(notices[0].contains("will be ignored"), "{notices:?}");

    let (c, _) = run_with(&["--name=from-flag"], &[("ETCD_CONFIG_FILE", path_str)]);
    assert_eq!(c.name, "from-file");
}

#[test]
fn flags_are_still_checked_when_a_file_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "etcd.yml", "name: x\n");
    let e = fail(&["--config-file", path.to_str().unwrap(), "--bogus"], &[]);
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn unknown_keys_are_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let e =
        Config::from_yaml_file(&write(dir.path(), "a.yml", "name: x\nbogus-key: 1\n")).unwrap_err();
    assert_eq!(
        e,
        ConfigError::UnknownConfigKey {
            key: "bogus-key".into()
        }
    );
    assert_eq!(e.to_string(), "unknown key \"bogus-key\" in config file");
    assert_eq!(e.exit_code(), 1);
    let e = Config::from_yaml_file(&write(
        dir.path(),
        "b.yml",
        "peer-transport-security:\n  cert: x\n",
    ))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown key \"peer-transport-security.cert\" in config file"
    );
}

#[test]
fn a_missing_file_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.yml");
    let e = Config::from_yaml_file(&path).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("open {}: no such file or directory", path.display())
    );
    assert_eq!(e.exit_code(), 1);
    let e = fail(&["--config-file", path.to_str().unwrap()], &[]);
    assert!(e.to_string().contains("absent.yml"));
}

#[test]
fn bad_values_and_bad_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let e =
        Config::from_yaml_file(&write(dir.path(), "a.yml", "election-timeout: abc\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value \"abc\" for election-timeout in config file: parse error"
    );
    let e = Config::from_yaml_file(&write(dir.path(), "b.yml", "listen-client-urls: foo\n"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value \"foo\" for listen-client-urls in config file: URL scheme must be http, https, unix, or unixs: foo"
    );
    let e = Config::from_yaml_file(&write(dir.path(), "c.yml", "name: [x\n")).unwrap_err();
    assert!(matches!(e, ConfigError::ConfigFileSyntax { .. }), "{e:?}");
    assert!(e.to_string().contains("c.yml"), "{e}");
}

#[test]
fn serde_deserialize_uses_the_same_keys() {
    let c: Config =
        serde_yaml::from_str("name: s1\nheartbeat-interval: 50\nelection-timeout: 500\n").unwrap();
    assert_eq!(c.name, "s1");
    assert_eq!(c.heartbeat_interval, Duration::from_millis(50));
    assert_eq!(c.data_dir, PathBuf::from("s1.etcd"));
    let c: Config =
        serde_json::from_str(r#"{"name": "j1", "log-outputs": ["stdout"], "pre-vote": false}"#)
            .unwrap();
    assert_eq!(c.name, "j1");
    assert_eq!(c.log_outputs, ["stdout"]);
    assert!(!c.pre_vote);
    let e = serde_yaml::from_str::<Config>("nope: 1\n").unwrap_err();
    assert!(e.to_string().contains("unknown key \"nope\""), "{e}");
}
