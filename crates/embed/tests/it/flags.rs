//! The command line: Go flag syntax, every value type, derived defaults.

use std::path::PathBuf;
use std::time::Duration;

use etcd_embed::config::{ClusterState, Config};

use crate::{run, run_with, url_strings};

#[test]
fn defaults_are_etcds() {
    let c = run(&[]);
    assert_eq!(c.name, "default");
    assert_eq!(c.data_dir, PathBuf::from("default.etcd"));
    assert_eq!(c.wal_dir, None);
    assert_eq!(
        c.wal_dir_or_default(),
        PathBuf::from("default.etcd/member/wal")
    );
    assert_eq!(c.snapshot_count, 100_000);
    assert_eq!(c.snapshot_catchup_entries, 5_000);
    assert_eq!(c.heartbeat_interval, Duration::from_millis(100));
    assert_eq!(c.election_timeout, Duration::from_millis(1000));
    assert_eq!(c.request_timeout(), Duration::from_secs(7));
    assert_eq!(url_strings(&c.listen_peer_urls), ["http://localhost:2380"]);
    assert_eq!(
        url_strings(&c.listen_client_urls),
        ["http://localhost:2379"]
    );
    assert!(c.listen_client_http_urls.is_empty());
    assert!(c.listen_metrics_urls.is_empty());
    assert_eq!(
        url_strings(&c.initial_advertise_peer_urls),
        ["http://localhost:2380"]
    );
    assert_eq!(
        url_strings(&c.advertise_client_urls),
        ["http://localhost:2379"]
    );
    assert_eq!(c.initial_cluster, "default=http://localhost:2380");
    assert_eq!(c.initial_cluster_state, ClusterState::New);
    assert_eq!(c.initial_cluster_token, "etcd-cluster");
    assert_eq!(c.max_request_bytes, 1_572_864);
    assert_eq!(c.max_txn_ops, 128);
    assert_eq!(c.quota_backend_bytes, 0);
    assert_eq!(c.max_concurrent_streams, u32::MAX);
    assert!(c.strict_reconfig_check);
    assert!(c.pre_vote);
    assert_eq!((c.max_snapshots, c.max_wals), (5, 5));
    assert_eq!(c.auto_compaction_mode, "periodic");
    assert_eq!(c.auto_compaction_retention, "0");
    assert!(!c.force_new_cluster);
    assert_eq!(c.log_level, "info");
    assert_eq!(c.logger, "zap");
    assert_eq!(c.log_outputs, ["default"]);
    assert!(!c.enable_pprof);
    assert_eq!(c.metrics, "basic");
    assert!(c.client_tls.is_empty() && c.peer_tls.is_empty());
    assert!(!c.client_tls.auto_tls && !c.peer_tls.auto_tls);
    assert!(c.cipher_suites.is_empty());
    assert_eq!(
        (c.tls_min_version.as_deref(), c.tls_max_version.as_deref()),
        (None, None)
    );
    assert_eq!(c.self_signed_cert_validity, 1);
    assert!(!c.socket_reuse_port && !c.socket_reuse_address);
    assert_eq!(c.grpc_keepalive_min_time, Duration::from_secs(5));
    assert_eq!(c.grpc_keepalive_interval, Duration::from_secs(7200));
    assert_eq!(c.grpc_keepalive_timeout, Duration::from_secs(20));
    assert_eq!(c.auth_token, "simple");
    assert_eq!(c.bcrypt_cost, 10);
    assert_eq!(c.auth_token_ttl, 300);
    assert_eq!(c.cors, ["*"]);
    assert_eq!(c.host_whitelist, ["*"]);
    assert!(c.explicitly_set.is_empty());
    assert_eq!(c.validate(), Ok(()));
    assert_eq!(format!("{c:?}"), format!("{:?}", Config::default()));
}

#[test]
fn single_and_double_dash_with_and_without_equals() {
    let c = run(&[
        "-name",
        "n1",
        "--snapshot-count",
        "5",
        "-heartbeat-interval=50",
        "--election-timeout=500",
        "-initial-cluster-state=existing",
    ]);
    assert_eq!(c.name, "n1");
    assert_eq!(c.snapshot_count, 5);
    assert_eq!(c.heartbeat_interval, Duration::from_millis(50));
    assert_eq!(c.election_timeout, Duration::from_millis(500));
    assert_eq!(c.initial_cluster_state, ClusterState::Existing);
    for name in [
        "name",
        "snapshot-count",
        "heartbeat-interval",
        "election-timeout",
    ] {
        assert!(c.is_set(name), "{name}");
    }
}

#[test]
fn booleans() {
    let c = run(&[
        "--force-new-cluster",
        "--pre-vote=false",
        "-strict-reconfig-check=0",
        "--enable-pprof=T",
    ]);
    assert!(c.force_new_cluster);
    assert!(!c.pre_vote);
    assert!(!c.strict_reconfig_check);
    assert!(c.enable_pprof);
}

#[test]
fn a_boolean_does_not_take_the_next_argument() {
    let e = crate::fail(&["--force-new-cluster", "false"], &[]);
    assert_eq!(e.to_string(), "'false' is not a valid flag");
}

#[test]
fn url_lists_are_sorted_and_unique() {
    let c = run(&[
        "--listen-client-urls=http://10.0.0.2:2379,http://10.0.0.1:2379,http://10.0.0.2:2379",
        "--advertise-client-urls",
        "https://b:2379, https://a:2379",
        "--listen-metrics-urls=http://127.0.0.1:2381",
        "--listen-client-http-urls=unix://localhost:0",
    ]);
    assert_eq!(
        url_strings(&c.listen_client_urls),
        ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]
    );
    assert_eq!(
        url_strings(&c.advertise_client_urls),
        ["https://a:2379", "https://b:2379"]
    );
    assert_eq!(
        url_strings(&c.listen_metrics_urls),
        ["http://127.0.0.1:2381"]
    );
    assert_eq!(
        url_strings(&c.listen_client_http_urls),
        ["unix://localhost:0"]
    );
}

#[test]
fn durations_and_numbers_in_go_syntax() {
    let c = run(&[
        "--grpc-keepalive-min-time=1m30s",
        "--grpc-keepalive-interval=0",
        "--grpc-keepalive-timeout=1.5s",
        "--backend-batch-interval=10ms",
        "--max-request-bytes=0x100000",
        "--quota-backend-bytes=-1",
        "--max-concurrent-streams=100",
    ]);
    assert_eq!(c.grpc_keepalive_min_time, Duration::from_secs(90));
    assert_eq!(c.grpc_keepalive_interval, Duration::ZERO);
    assert_eq!(c.grpc_keepalive_timeout, Duration::from_millis(1500));
    assert_eq!(c.backend_batch_interval, Some(Duration::from_millis(10)));
    assert_eq!(c.max_request_bytes, 1 << 20);
    assert_eq!(c.quota_backend_bytes, -1);
    assert_eq!(c.max_concurrent_streams, 100);
}

#[test]
fn tls_flags_fill_the_client_and_peer_sections() {
    let c = run(&[
        "--cert-file=server.crt",
        "--key-file=server.key",
        "--trusted-ca-file=ca.crt",
        "--client-cert-auth",
        "--client-crl-file=client.crl",
        "--client-cert-allowed-hostname=client.example.com",
        "--auto-tls",
        "--peer-cert-file=peer.crt",
        "--peer-key-file=peer.key",
        "--peer-trusted-ca-file=peer-ca.crt",
        "--peer-client-cert-auth=true",
        "--peer-crl-file=peer.crl",
        "--peer-cert-allowed-cn=etcd-peer",
        "--peer-cert-allowed-hostname=peer.example.com",
        "--peer-auto-tls",
        "--cipher-suites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "--tls-min-version=TLS1.2",
        "--tls-max-version=TLS1.3",
        "--self-signed-cert-validity=3",
        "--experimental-peer-skip-client-san-verification",
    ]);
    let t = &c.client_tls;
    assert_eq!(t.cert_file.as_deref(), Some("server.crt".as_ref()));
    assert_eq!(t.key_file.as_deref(), Some("server.key".as_ref()));
    assert_eq!(t.trusted_ca_file.as_deref(), Some("ca.crt".as_ref()));
    assert_eq!(t.crl_file.as_deref(), Some("client.crl".as_ref()));
    assert_eq!(t.allowed_hostname, ["client.example.com"]);
    assert!(t.client_cert_auth && t.auto_tls && !t.is_empty());
    let p = &c.peer_tls;
    assert_eq!(p.cert_file.as_deref(), Some("peer.crt".as_ref()));
    assert_eq!(p.key_file.as_deref(), Some("peer.key".as_ref()));
    assert_eq!(p.trusted_ca_file.as_deref(), Some("peer-ca.crt".as_ref()));
    assert_eq!(p.crl_file.as_deref(), Some("peer.crl".as_ref()));
    assert_eq!(p.allowed_cn, ["etcd-peer"]);
    assert_eq!(p.allowed_hostname, ["peer.example.com"]);
    assert!(p.client_cert_auth && p.auto_tls);
    assert_eq!(
        c.cipher_suites,
        [
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        ]
    );
    assert_eq!(c.tls_min_version.as_deref(), Some("TLS1.2"));
    assert_eq!(c.tls_max_version.as_deref(), Some("TLS1.3"));
    assert_eq!(c.self_signed_cert_validity, 3);
    assert_eq!(
        c.other_bool("peer-skip-client-san-verification"),
        Some(true)
    );
}

#[test]
fn experimental_and_new_names_share_one_value() {
    let (c, notices) = run_with(
        &[
            "--experimental-watch-progress-notify-interval=5s",
            "--experimental-initial-corrupt-check",
            "--experimental-snapshot-catchup-entries=123",
            "--compaction-batch-limit=7",
        ],
        &[],
    );
    assert_eq!(
        c.other_duration("watch-progress-notify-interval"),
        Some(Duration::from_secs(5))
    );
    assert_eq!(
        c.other_bool("experimental-initial-corrupt-check"),
        Some(true)
    );
    assert_eq!(c.snapshot_catchup_entries, 123);
    assert_eq!(c.other_i64("compaction-batch-limit"), Some(7));
    assert!(c.is_set("experimental-watch-progress-notify-interval"));
    assert!(c.is_set("watch-progress-notify-interval"));
    assert!(
        notices.contains(
            &"--experimental-watch-progress-notify-interval is deprecated; use --watch-progress-notify-interval instead"
                .to_string()
        ),
        "{notices:?}"
    );
}

#[test]
fn data_dir_and_initial_cluster_follow_the_name() {
    let c = run(&[
        "--name=infra0",
        "--initial-advertise-peer-urls=http://10.0.0.10:2380",
    ]);
    assert_eq!(c.data_dir, PathBuf::from("infra0.etcd"));
    assert_eq!(c.initial_cluster, "infra0=http://10.0.0.10:2380");
    let members = c.initial_cluster_members().unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].0, "infra0");
    assert_eq!(url_strings(&members[0].1), ["http://10.0.0.10:2380"]);

    let c = run(&[
        "--name=infra0",
        "--data-dir=/var/lib/etcd",
        "--initial-cluster=a=http://a:1",
    ]);
    assert_eq!(c.data_dir, PathBuf::from("/var/lib/etcd"));
    assert_eq!(c.initial_cluster, "a=http://a:1");

    // etcd falls back to <name>.etcd for an empty --data-dir too.
    let c = run(&["--name=n", "--data-dir="]);
    assert_eq!(c.data_dir, PathBuf::from("n.etcd"));
}

#[test]
fn discovery_clears_the_default_initial_cluster() {
    let c = run(&["--discovery-srv=example.com"]);
    assert_eq!(c.initial_cluster, "");
    assert_eq!(c.discovery_srv, "example.com");
    let c = run(&["--discovery-endpoints=b:2379,a:2379", "--discovery-token=t"]);
    assert_eq!(c.discovery_endpoints, ["a:2379", "b:2379"]);
    assert_eq!(c.initial_cluster, "");
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn a_typical_three_member_command_line_validates() {
    let c = run(&[
        "--name",
        "infra1",
        "--listen-peer-urls",
        "http://10.0.1.11:2380",
        "--initial-advertise-peer-urls",
        "http://10.0.1.11:2380",
        "--listen-client-urls",
        "http://10.0.1.11:2379,http://127.0.0.1:2379",
        "--advertise-client-urls",
        "http://10.0.1.11:2379",
        "--initial-cluster-token",
        "etcd-cluster-1",
        "--initial-cluster",
        "infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380",
        "--initial-cluster-state",
        "new",
    ]);
    assert_eq!(c.validate(), Ok(()));
    let members = c.initial_cluster_members().unwrap();
    let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["infra0", "infra1", "infra2"]);
}

#[test]
fn listening_explicitly_requires_advertising() {
    let c = run(&["--listen-client-urls=http://127.0.0.1:2379"]);
    let e = c.validate().unwrap_err();
    assert_eq!(
        e.to_string(),
        "--advertise-client-urls is required when --listen-client-urls is set explicitly"
    );
    assert_eq!(e.exit_code(), 1);
    // etcd 3.4 has no such rule for peers: the default advertised peer URL stays.
    let c = run(&["--listen-peer-urls=http://127.0.0.1:12380"]);
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn logging_and_misc_flags() {
    let c = run(&[
        "--log-level=debug",
        "--logger=zap",
        "--log-outputs=stdout,/var/log/etcd.log",
        "--metrics=extensive",
        "--auth-token=jwt,pub-key=a,priv-key=b,sign-method=RS256",
        "--bcrypt-cost=4",
        "--auth-token-ttl=60",
        "--auto-compaction-mode=revision",
        "--auto-compaction-retention=1000",
        "--cors=http://a.example.com:80",
        "--host-whitelist=b.example.com,a.example.com",
        "--socket-reuse-port",
        "--socket-reuse-address",
        "--unsafe-no-fsync",
        "--max-txn-ops=256",
        "--max-snapshots=0",
        "--max-wals=10",
        "--wal-dir=/wal",
    ]);
    assert_eq!(c.log_level, "debug");
    assert_eq!(c.log_outputs, ["/var/log/etcd.log", "stdout"]);
    assert_eq!(c.metrics, "extensive");
    assert_eq!(c.auth_token, "jwt,pub-key=a,priv-key=b,sign-method=RS256");
    assert_eq!((c.bcrypt_cost, c.auth_token_ttl), (4, 60));
    assert_eq!(c.auto_compaction_mode, "revision");
    assert_eq!(c.auto_compaction_retention, "1000");
    assert_eq!(c.cors, ["http://a.example.com:80"]);
    assert_eq!(c.host_whitelist, ["a.example.com", "b.example.com"]);
    assert!(c.socket_reuse_port && c.socket_reuse_address && c.unsafe_no_fsync);
    assert_eq!((c.max_txn_ops, c.max_snapshots, c.max_wals), (256, 0, 10));
    assert_eq!(c.wal_dir_or_default(), PathBuf::from("/wal"));
}

#[test]
fn deprecated_etcd34_logging_flags() {
    let (c, notices) = run_with(
        &["--debug", "--logger=capnslog", "--log-output=stderr"],
        &[],
    );
    assert_eq!(c.log_level, "debug");
    assert_eq!(c.logger, "capnslog");
    assert_eq!(c.log_outputs, ["stderr"]);
    assert!(
        notices.iter().any(|n| n.contains("'--debug'")),
        "{notices:?}"
    );
    assert!(
        notices.iter().any(|n| n.contains("capnslog")),
        "{notices:?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| n.contains("--log-output is deprecated")),
        "{notices:?}"
    );
}

#[test]
fn etcd2_flags_are_ignored_with_a_warning() {
    let (c, notices) = run_with(&["-peer-election-timeout=5", "-v"], &[]);
    assert_eq!(format!("{c:?}"), format!("{:?}", Config::default()));
    assert_eq!(
        notices,
        [
            "flag \"-peer-election-timeout\" is no longer supported - ignoring.",
            "flag \"-v\" is no longer supported - ignoring."
        ]
    );
}
