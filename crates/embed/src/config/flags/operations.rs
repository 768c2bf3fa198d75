//! Operational flags: auth, profiling and monitoring, logging, the v2 proxy (accepted
//! only), and the unsafe switches.

use super::{
    Flag, Kind, Section, check_bool, check_text, check_uint, choice, listed_choice, set_urls, text,
    unique_strings,
};
use crate::config::values::{parse_bool, parse_u32};

/// `--log-level` values etcd supports.
pub(crate) const LOG_LEVELS: &[&str] = &["debug", "info", "warn", "error", "panic", "fatal"];
/// `--logger` values etcd 3.4 accepts (`capnslog` is deprecated; it logs like `zap` here).
pub(crate) const LOGGERS: &[&str] = &["zap", "capnslog"];

pub(super) const FLAGS: &[Flag] = &[
    Flag::field(
        Section::Auth,
        "auth-token",
        Kind::Text,
        "simple",
        "Specify a v3 authentication token type and its options ('simple' or 'jwt').",
        |c, v| {
            c.auth_token = text(v);
            Ok(())
        },
    ),
    Flag::field(
        Section::Auth,
        "bcrypt-cost",
        Kind::Number,
        "10",
        "Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31.",
        |c, v| {
            c.bcrypt_cost = parse_u32(v)?;
            Ok(())
        },
    ),
    Flag::field(
        Section::Auth,
        "auth-token-ttl",
        Kind::Number,
        "300",
        "Time (in seconds) of the auth-token-ttl.",
        |c, v| {
            c.auth_token_ttl = parse_u32(v)?;
            Ok(())
        },
    ),
    Flag::field(
        Section::Monitoring,
        "enable-pprof",
        Kind::Bool,
        "false",
        "Enable runtime profiling data via HTTP server. Address is at client URL + \"/debug/pprof/\"",
        |c, v| {
            c.enable_pprof = parse_bool(v)?;
            Ok(())
        },
    ),
    Flag::field(
        Section::Monitoring,
        "metrics",
        Kind::Text,
        "basic",
        "Set level of detail for exported metrics, specify 'extensive' to include server side grpc histogram metrics.",
        |c, v| {
            c.metrics = text(v);
            Ok(())
        },
    ),
    Flag::field(
        Section::Monitoring,
        "listen-metrics-urls",
        Kind::List,
        "",
        "List of URLs to listen on for the /metrics and /health endpoints. For https, the client URL TLS info is used.",
        |c, v| set_urls(&mut c.listen_metrics_urls, v),
    ),
    Flag::field(
        Section::Logging,
        "logger",
        Kind::Text,
        "zap",
        "Currently only supports 'zap' for structured logging ('capnslog' is accepted and logs the same way).",
        |c, v| {
            c.logger = listed_choice(v, LOGGERS)?;
            Ok(())
        },
    ),
    Flag::field(
        Section::Logging,
        "log-outputs",
        Kind::List,
        "default",
        "Specify 'stdout' or 'stderr' to skip journald logging even when running under systemd, or list of comma separated output targets.",
        |c, v| {
            c.log_outputs = unique_strings(v);
            if c.log_outputs.is_empty() {
                c.log_outputs = vec!["default".to_string()];
            }
            Ok(())
        },
    ),
    Flag::alias(Section::Logging, "log-output", Kind::List, "log-outputs"),
    Flag::field(
        Section::Logging,
        "log-level",
        Kind::Text,
        "info",
        "Configures log level. Only supports debug, info, warn, error, panic, or fatal.",
        |c, v| {
            c.log_level = listed_choice(v, LOG_LEVELS)?;
            Ok(())
        },
    ),
    Flag::other(
        Section::Logging,
        "log-format",
        Kind::Text,
        "json",
        "Configures log format. Only supports json, console.",
        |v| listed_choice(v, &["json", "console"]).map(drop),
    ),
    Flag::other(
        Section::Logging,
        "enable-log-rotation",
        Kind::Bool,
        "false",
        "Enable log rotation of a single log-outputs file target.",
        check_bool,
    ),
    Flag::other(
        Section::Logging,
        "log-rotation-config-json",
        Kind::Text,
        r#"{"maxsize": 100, "maxage": 0, "maxbackups": 0, "localtime": false, "compress": false}"#,
        "Configures log rotation if enabled with a JSON logger config. MaxSize(MB), MaxAge(days,0=no limit), MaxBackups(0=no limit), LocalTime(use computers local time), Compress(gzip).",
        check_text,
    ),
    Flag::other(
        Section::Logging,
        "disable-log-sampling",
        Kind::Bool,
        "false",
        "Disable log sampling.",
        check_bool,
    ),
    Flag::other(
        Section::Logging,
        "debug",
        Kind::Bool,
        "false",
        "Enable debug-level logging for etcd. Deprecated: use '--log-level=debug' instead.",
        check_bool,
    ),
    Flag::other(
        Section::Logging,
        "log-package-levels",
        Kind::Text,
        "",
        "Specify a particular log level for each etcd package (eg: 'etcdmain=CRITICAL,etcdserver=DEBUG'). Deprecated; ignored.",
        check_text,
    ),
    Flag::other(
        Section::Proxy,
        "proxy",
        Kind::Text,
        "off",
        "Proxy mode setting ('off', 'readonly' or 'on').",
        |v| choice(v, &["off", "readonly", "on"]).map(drop),
    ),
    Flag::other(
        Section::Proxy,
        "proxy-failure-wait",
        Kind::Number,
        "5000",
        "Time (in milliseconds) an endpoint will be held in a failed state.",
        check_uint,
    ),
    Flag::other(
        Section::Proxy,
        "proxy-refresh-interval",
        Kind::Number,
        "30000",
        "Time (in milliseconds) of the endpoints refresh interval.",
        check_uint,
    ),
    Flag::other(
        Section::Proxy,
        "proxy-dial-timeout",
        Kind::Number,
        "1000",
        "Time (in milliseconds) for a dial to timeout.",
        check_uint,
    ),
    Flag::other(
        Section::Proxy,
        "proxy-write-timeout",
        Kind::Number,
        "5000",
        "Time (in milliseconds) for a write to timeout.",
        check_uint,
    ),
    Flag::other(
        Section::Proxy,
        "proxy-read-timeout",
        Kind::Number,
        "0",
        "Time (in milliseconds) for a read to timeout.",
        check_uint,
    ),
    Flag::field(
        Section::Unsafe,
        "force-new-cluster",
        Kind::Bool,
        "false",
        "Force to create a new one-member cluster.",
        |c, v| {
            c.force_new_cluster = parse_bool(v)?;
            Ok(())
        },
    ),
    Flag::field(
        Section::Unsafe,
        "unsafe-no-fsync",
        Kind::Bool,
        "false",
        "Disables fsync, unsafe, will cause data loss.",
        |c, v| {
            c.unsafe_no_fsync = parse_bool(v)?;
            Ok(())
        },
    ),
];
