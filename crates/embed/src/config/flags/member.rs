//! Member flags: identity, storage, raft timing, request limits, listeners.

use std::time::Duration;

use super::{Flag, Kind, Section, check_duration, check_text, opt_path, set_urls, text};
use crate::config::values::{parse_bool, parse_duration, parse_u32, parse_u32_strconv, parse_u64};

const S: Section = Section::Member;

pub(super) const FLAGS: &[Flag] = &[
    Flag::field(
        S,
        "name",
        Kind::Text,
        "default",
        "Human-readable name for this member.",
        |c, v| {
            c.name = text(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "data-dir",
        Kind::Text,
        "",
        "Path to the data directory.",
        |c, v| {
            c.data_dir = v.into();
            Ok(())
        },
    )
    .shown("${name}.etcd"),
    Flag::field(
        S,
        "wal-dir",
        Kind::Text,
        "",
        "Path to the dedicated wal directory.",
        |c, v| {
            c.wal_dir = opt_path(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "snapshot-count",
        Kind::Number,
        "100000",
        "Number of committed transactions to trigger a snapshot to disk.",
        |c, v| {
            c.snapshot_count = parse_u64(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "heartbeat-interval",
        Kind::Number,
        "100",
        "Time (in milliseconds) of a heartbeat interval.",
        |c, v| {
            c.heartbeat_interval = Duration::from_millis(parse_u64(v)?);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "election-timeout",
        Kind::Number,
        "1000",
        "Time (in milliseconds) for an election to timeout. See tuning documentation for details.",
        |c, v| {
            c.election_timeout = Duration::from_millis(parse_u64(v)?);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "initial-election-tick-advance",
        Kind::Bool,
        "true",
        "Whether to fast-forward initial election ticks on boot for faster election.",
        |c, v| {
            c.initial_election_tick_advance = parse_bool(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "listen-peer-urls",
        Kind::List,
        "http://localhost:2380",
        "List of URLs to listen on for peer traffic.",
        |c, v| set_urls(&mut c.listen_peer_urls, v),
    ),
    Flag::field(
        S,
        "listen-client-urls",
        Kind::List,
        "http://localhost:2379",
        "List of URLs to listen on for client grpc traffic and http as long as --listen-client-http-urls is not specified.",
        |c, v| set_urls(&mut c.listen_client_urls, v),
    ),
    Flag::field(
        S,
        "listen-client-http-urls",
        Kind::List,
        "",
        "List of URLs to listen on for http only client traffic. Enabling this flag removes http services from --listen-client-urls.",
        |c, v| set_urls(&mut c.listen_client_http_urls, v),
    ),
    Flag::field(
        S,
        "max-snapshots",
        Kind::Number,
        "5",
        "Maximum number of snapshot files to retain (0 is unlimited).",
        |c, v| {
            c.max_snapshots = parse_u32(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "max-wals",
        Kind::Number,
        "5",
        "Maximum number of wal files to retain (0 is unlimited).",
        |c, v| {
            c.max_wals = parse_u32(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "quota-backend-bytes",
        Kind::Number,
        "0",
        "Raise alarms when backend size exceeds the given quota (0 defaults to low space quota).",
        |c, v| {
            c.quota_backend_bytes = crate::config::values::parse_i64(v)?;
            Ok(())
        },
    ),
    Flag::other(
        S,
        "backend-bbolt-freelist-type",
        Kind::Text,
        "map",
        "BackendFreelistType specifies the type of freelist that boltdb backend uses(array and map are supported types).",
        check_text,
    ),
    Flag::field(
        S,
        "backend-batch-interval",
        Kind::Duration,
        "0s",
        "BackendBatchInterval is the maximum time before commit the backend transaction.",
        |c, v| {
            let d = parse_duration(v)?;
            c.backend_batch_interval = (!d.is_zero()).then_some(d);
            Ok(())
        },
    )
    .shown(""),
    Flag::field(
        S,
        "backend-batch-limit",
        Kind::Number,
        "0",
        "BackendBatchLimit is the maximum operations before commit the backend transaction.",
        |c, v| {
            c.backend_batch_limit = parse_u64(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "max-txn-ops",
        Kind::Number,
        "128",
        "Maximum number of operations permitted in a transaction.",
        |c, v| {
            c.max_txn_ops = parse_u64(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "max-request-bytes",
        Kind::Number,
        "1572864",
        "Maximum client request size in bytes the server will accept.",
        |c, v| {
            c.max_request_bytes = parse_u64(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "max-concurrent-streams",
        Kind::Number,
        "4294967295",
        "Maximum concurrent streams that each client can open at a time.",
        |c, v| {
            c.max_concurrent_streams = parse_u32_strconv(v)?;
            Ok(())
        },
    )
    .shown("math.MaxUint32"),
    Flag::other(
        S,
        "enable-grpc-gateway",
        Kind::Bool,
        "true",
        "Enable GRPC gateway.",
        super::check_bool,
    ),
    Flag::field(
        S,
        "grpc-keepalive-min-time",
        Kind::Duration,
        "5s",
        "Minimum duration interval that a client should wait before pinging server.",
        |c, v| {
            c.grpc_keepalive_min_time = parse_duration(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "grpc-keepalive-interval",
        Kind::Duration,
        "2h",
        "Frequency duration of server-to-client ping to check if a connection is alive (0 to disable).",
        |c, v| {
            c.grpc_keepalive_interval = parse_duration(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "grpc-keepalive-timeout",
        Kind::Duration,
        "20s",
        "Additional duration of wait before closing a non-responsive connection (0 to disable).",
        |c, v| {
            c.grpc_keepalive_timeout = parse_duration(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "socket-reuse-port",
        Kind::Bool,
        "false",
        "Enable to set socket option SO_REUSEPORT on listeners allowing rebinding of a port already in use.",
        |c, v| {
            c.socket_reuse_port = parse_bool(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "socket-reuse-address",
        Kind::Bool,
        "false",
        "Enable to set socket option SO_REUSEADDR on listeners allowing binding to an address in TIME_WAIT state.",
        |c, v| {
            c.socket_reuse_address = parse_bool(v)?;
            Ok(())
        },
    ),
    Flag::other(
        S,
        "raft-read-timeout",
        Kind::Duration,
        "5s",
        "Read timeout set on each rafthttp connection",
        check_duration,
    ),
    Flag::other(
        S,
        "raft-write-timeout",
        Kind::Duration,
        "5s",
        "Write timeout set on each rafthttp connection",
        check_duration,
    ),
    Flag::field(
        S,
        "snapshot-catchup-entries",
        Kind::Number,
        "5000",
        "Number of entries for a slow follower to catch up after compacting the raft storage entries.",
        |c, v| {
            c.snapshot_catchup_entries = parse_u64(v)?;
            Ok(())
        },
    ),
    Flag::alias(
        S,
        "experimental-snapshot-catchup-entries",
        Kind::Number,
        "snapshot-catchup-entries",
    ),
    // The config-file key of etcd 3.5.
    Flag::alias(
        S,
        "experimental-snapshot-catch-up-entries",
        Kind::Number,
        "snapshot-catchup-entries",
    )
    .hidden(),
    Flag::alias(
        S,
        "experimental-backend-bbolt-freelist-type",
        Kind::Text,
        "backend-bbolt-freelist-type",
    ),
];
