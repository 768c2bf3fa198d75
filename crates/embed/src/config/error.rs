//! Everything that can be wrong with a configuration, in etcd's words where etcd has
//! words for it.

use std::path::PathBuf;

use super::values::go_quote;

/// A configuration error. Command-line syntax errors exit with 2 (as Go's `flag`
/// package makes etcd do); everything else exits with 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("flag provided but not defined: -{name}")]
    UnknownFlag { name: String },
    #[error("bad flag syntax: {arg}")]
    BadFlagSyntax { arg: String },
    #[error("flag needs an argument: -{name}")]
    MissingFlagValue { name: String },
    #[error("invalid boolean value {} for -{name}: {reason}", go_quote(value))]
    InvalidBoolFlag {
        name: String,
        value: String,
        reason: String,
    },
    #[error("invalid value {} for flag -{name}: {reason}", go_quote(value))]
    InvalidFlagValue {
        name: String,
        value: String,
        reason: String,
    },

    #[error("'{arg}' is not a valid flag")]
    NotAFlag { arg: String },
    #[error("invalid value {} for {key}: {reason}", go_quote(value))]
    InvalidEnvValue {
        key: String,
        value: String,
        reason: String,
    },
    #[error(
        "conflicting environment variable {} is shadowed by corresponding command-line flag (either unset environment variable or disable flag)",
        go_quote(key)
    )]
    EnvConflict { key: String },

    #[error("open {}: {reason}", path.display())]
    ConfigFileRead { path: PathBuf, reason: String },
    #[error("cannot parse config file {}: {reason}", path.display())]
    ConfigFileSyntax { path: PathBuf, reason: String },
    #[error("unknown key {} in config file", go_quote(key))]
    UnknownConfigKey { key: String },
    #[error("invalid value {} for {key} in config file: {reason}", go_quote(value))]
    InvalidConfigValue {
        key: String,
        value: String,
        reason: String,
    },

    #[error("unknown logger option {}", go_quote(logger))]
    UnknownLogger { logger: String },
    #[error(
        "unknown log level {} (only debug, info, warn, error, panic or fatal)",
        go_quote(level)
    )]
    UnknownLogLevel { level: String },
    #[error("multi logoutput for \"default\" is not supported yet")]
    MultipleDefaultLogOutputs,
    #[error("expected IP in URL for binding ({url})")]
    BindUrlNotIp { url: String },
    #[error("{url}: {reason}")]
    BadBindUrl { url: String, reason: String },
    #[error("--{flag} {} must be \"host:port\" ({reason})", go_quote(urls))]
    AdvertiseUrlNotHostPort {
        flag: &'static str,
        urls: String,
        reason: String,
    },
    #[error(
        "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", \"discovery\" or \"discovery-srv\""
    )]
    ConflictingBootstrapFlags,
    #[error("both --discovery-token and --discovery-endpoints must be set")]
    DiscoveryTokenWithoutEndpoints,
    #[error("--{flag} must be >0 (set to {value}{unit})")]
    MustBePositive {
        flag: &'static str,
        value: u64,
        unit: &'static str,
    },
    #[error(
        "--election-timeout[{election_ms}ms] should be at least as 5 times as --heartbeat-interval[{heartbeat_ms}ms]"
    )]
    ElectionTimeoutTooShort {
        election_ms: u128,
        heartbeat_ms: u128,
    },
    #[error(
        "--election-timeout[{election_ms}ms] is too long, and should be set less than {max_ms}ms"
    )]
    ElectionTimeoutTooLong { election_ms: u128, max_ms: u128 },
    #[error("--advertise-client-urls is required when --listen-client-urls is set explicitly")]
    UnsetAdvertiseClientUrls,
    #[error("--initial-advertise-peer-urls is required when --listen-peer-urls is set explicitly")]
    UnsetAdvertisePeerUrls,
    #[error("unknown auto-compaction-mode {}", go_quote(mode))]
    UnknownCompactionMode { mode: String },
    #[error("invalid auto-compaction-retention {} ({reason})", go_quote(retention))]
    InvalidCompactionRetention { retention: String, reason: String },
    #[error(
        "unexpected TLS version {} (must be one of: TLS1.2, TLS1.3)",
        go_quote(version)
    )]
    UnknownTlsVersion { version: String },
    #[error("min version ({min}) is greater than max version ({max})")]
    TlsMinAboveMax { min: String, max: String },
    #[error("cipher suites cannot be configured when only TLS1.3 is enabled")]
    CipherSuitesWithTls13Only,

    #[error("{reason}")]
    InvalidInitialCluster { reason: String },
    #[error("initial cluster unset and no discovery URL found")]
    InitialClusterUnset,
    #[error(
        "couldn't find local name {} in the initial cluster configuration",
        go_quote(name)
    )]
    LocalMemberNotInCluster { name: String },
    #[error(
        "--initial-cluster has {missing} but missing from --initial-advertise-peer-urls={advertised} ({detail})"
    )]
    ClusterUrlsNotAdvertised {
        missing: String,
        advertised: String,
        detail: String,
    },
    #[error(
        "--initial-advertise-peer-urls has {missing} but missing from --initial-cluster={cluster}"
    )]
    AdvertisedUrlsNotInCluster { missing: String, cluster: String },
    #[error("initial cluster {cluster} has duplicate url")]
    DuplicateClusterUrl { cluster: String },
}

impl ConfigError {
    /// The process exit code etcd uses for this error: 2 for command-line syntax (Go's
    /// `flag` package), 1 for everything found later.
    pub fn exit_code(&self) -> i32 {
        match self {
            ConfigError::UnknownFlag { .. }
            | ConfigError::BadFlagSyntax { .. }
            | ConfigError::MissingFlagValue { .. }
            | ConfigError::InvalidBoolFlag { .. }
            | ConfigError::InvalidFlagValue { .. } => 2,
            _ => 1,
        }
    }

    /// True when etcd would follow the message with its usage text (flag syntax errors).
    pub fn shows_usage(&self) -> bool {
        self.exit_code() == 2
    }
}
