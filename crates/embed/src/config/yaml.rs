//! The `--config-file` YAML: etcd's keys (the flag names, plus the nested
//! `client-transport-security` / `peer-transport-security` sections), each value put
//! through the same flag table as the command line. Unknown keys are errors.

use std::io;
use std::path::Path;

use serde::de::{Deserialize, Deserializer, Error as _};
use serde_yaml::{Mapping, Value};

use super::error::ConfigError;
use super::finalize::finalize;
use super::flags::{self, Flag, Kind, Target};
use super::settings::Config;

impl Config {
    /// Reads a config file. The file is the whole configuration: defaults apply to
    /// what it leaves out, and derived values (`data-dir`, `initial-cluster`) are
    /// computed as for the command line.
    pub fn from_yaml_file(path: &Path) -> Result<Config, ConfigError> {
        load_file(path).map(|(cfg, _)| cfg)
    }
}

impl<'de> Deserialize<'de> for Config {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        from_value(value)
            .map(|(cfg, _)| cfg)
            .map_err(D::Error::custom)
    }
}

/// Reads and applies a config file, returning the notices worth logging.
pub(crate) fn load_file(path: &Path) -> Result<(Config, Vec<String>), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::ConfigFileRead {
        path: path.to_path_buf(),
        reason: io_reason(&e),
    })?;
    let value: Value = serde_yaml::from_str(&text).map_err(|e| ConfigError::ConfigFileSyntax {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    from_value(value)
}

/// Go's wording for the common I/O failures (`open x: no such file or directory`).
fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => "is a directory".to_string(),
        _ => e.to_string(),
    }
}

pub(crate) fn from_value(value: Value) -> Result<(Config, Vec<String>), ConfigError> {
    let mut cfg = Config::default();
    match value {
        Value::Null => {}
        Value::Mapping(map) => apply_mapping(&mut cfg, map)?,
        other => {
            return Err(ConfigError::InvalidConfigValue {
                key: "the document".to_string(),
                value: display(&other),
                reason: "expected a mapping of etcd's configuration keys".to_string(),
            });
        }
    }
    let mut notices = Vec::new();
    finalize(&mut cfg, &mut notices);
    Ok((cfg, notices))
}

fn apply_mapping(cfg: &mut Config, map: Mapping) -> Result<(), ConfigError> {
    for (key, value) in map {
        let key = match key {
            Value::String(s) => s,
            other => {
                return Err(ConfigError::UnknownConfigKey {
                    key: display(&other),
                });
            }
        };
        match key.as_str() {
            "client-transport-security" => apply_security(cfg, Side::Client, &key, value)?,
            "peer-transport-security" => apply_security(cfg, Side::Peer, &key, value)?,
            "socket-options" => apply_nested(cfg, &key, value, |k| match k {
                "reuse-port" => Some("socket-reuse-port"),
                "reuse-address" => Some("socket-reuse-address"),
                _ => None,
            })?,
            "discovery-config" => {
                // etcd 3.6's structured v3 discovery settings, kept verbatim.
                let json = serde_json::to_string(&value).unwrap_or_default();
                cfg.other_flags.insert(key.clone(), json);
                cfg.explicitly_set.insert(key);
            }
            _ => {
                let flag = flags::lookup(&key)
                    .filter(|f| !matches!(f.target, Target::ConfigFile | Target::Version))
                    .ok_or_else(|| ConfigError::UnknownConfigKey { key: key.clone() })?;
                apply_value(cfg, &key, flag, value)?;
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Side {
    Client,
    Peer,
}

/// `client-transport-security` / `peer-transport-security`: the keys of etcd's
/// `securityConfig`, mapped onto the matching flags.
fn apply_security(
    cfg: &mut Config,
    side: Side,
    section: &str,
    value: Value,
) -> Result<(), ConfigError> {
    if let (Side::Client, Value::Mapping(map)) = (side, &value) {
        // The client side has no flag for allowed CNs; set it directly.
        if let Some(v) = map.get("allowed-cn") {
            cfg.client_tls.allowed_cn = scalar_or_list(v)
                .map(|s| flags::strings(&s))
                .unwrap_or_default();
            cfg.explicitly_set.insert(format!("{section}.allowed-cn"));
        }
    }
    apply_nested(cfg, section, value, |k| match (side, k) {
        (Side::Client, "cert-file") => Some("cert-file"),
        (Side::Client, "key-file") => Some("key-file"),
        (Side::Client, "client-cert-file") => Some("client-cert-file"),
        (Side::Client, "client-key-file") => Some("client-key-file"),
        (Side::Client, "client-cert-auth") => Some("client-cert-auth"),
        (Side::Client, "trusted-ca-file") => Some("trusted-ca-file"),
        (Side::Client, "auto-tls") => Some("auto-tls"),
        (Side::Client, "crl-file") => Some("client-crl-file"),
        (Side::Client, "allowed-hostname") => Some("client-cert-allowed-hostname"),
        // Handled above, or meaningless for clients (etcd ignores it too).
        (Side::Client, "allowed-cn" | "skip-client-san-verification") => Some(""),
        (Side::Peer, "cert-file") => Some("peer-cert-file"),
        (Side::Peer, "key-file") => Some("peer-key-file"),
        (Side::Peer, "client-cert-file") => Some("peer-client-cert-file"),
        (Side::Peer, "client-key-file") => Some("peer-client-key-file"),
        (Side::Peer, "client-cert-auth") => Some("peer-client-cert-auth"),
        (Side::Peer, "trusted-ca-file") => Some("peer-trusted-ca-file"),
        (Side::Peer, "auto-tls") => Some("peer-auto-tls"),
        (Side::Peer, "crl-file") => Some("peer-crl-file"),
        (Side::Peer, "allowed-cn") => Some("peer-cert-allowed-cn"),
        (Side::Peer, "allowed-hostname") => Some("peer-cert-allowed-hostname"),
        (Side::Peer, "skip-client-san-verification") => Some("peer-skip-client-san-verification"),
        _ => None,
    })
}

/// A nested mapping whose keys stand for flags; `flag_for` returns the flag name, or
/// `Some("")` for a key that is accepted and ignored.
fn apply_nested(
    cfg: &mut Config,
    section: &str,
    value: Value,
    flag_for: impl Fn(&str) -> Option<&'static str>,
) -> Result<(), ConfigError> {
    let map = match value {
        Value::Null => return Ok(()),
        Value::Mapping(map) => map,
        other => {
            return Err(ConfigError::InvalidConfigValue {
                key: section.to_string(),
                value: display(&other),
                reason: "expected a mapping".to_string(),
            });
        }
    };
    for (key, value) in map {
        let key_text = match &key {
            Value::String(s) => s.clone(),
            other => display(other),
        };
        let full_key = format!("{section}.{key_text}");
        let name = flag_for(&key_text).ok_or_else(|| ConfigError::UnknownConfigKey {
            key: full_key.clone(),
        })?;
        if name.is_empty() {
            continue;
        }
        let flag = flags::lookup(name).ok_or_else(|| ConfigError::UnknownConfigKey {
            key: full_key.clone(),
        })?;
        apply_value(cfg, &full_key, flag, value)?;
    }
    Ok(())
}

/// Converts one YAML value to flag text and applies it. `null` leaves the default.
fn apply_value(
    cfg: &mut Config,
    key: &str,
    flag: &'static Flag,
    value: Value,
) -> Result<(), ConfigError> {
    if matches!(flag.target, Target::Ignored) || value.is_null() {
        return Ok(());
    }
    let kind = flag.resolved().kind;
    let invalid = |reason: String| ConfigError::InvalidConfigValue {
        key: key.to_string(),
        value: display(&value),
        reason,
    };
    let mut text = flag_text(kind, &value).map_err(&invalid)?;
    if flag.resolved().name == "initial-cluster-state" && text.is_empty() {
        // etcd reads an empty state in the file as "new".
        text = "new".to_string();
    }
    flag.apply(cfg, &text).map_err(&invalid)?;
    cfg.explicitly_set.insert(flag.name.to_string());
    cfg.explicitly_set.insert(flag.resolved().name.to_string());
    Ok(())
}

/// The flag text for a YAML value: durations may be integer nanoseconds (as etcd's file
/// format has them) or Go duration strings; lists may be sequences or comma-separated
/// strings; booleans also accept YAML 1.1's yes/no/on/off.
fn flag_text(kind: Kind, value: &Value) -> Result<String, String> {
    match (kind, value) {
        (Kind::Duration, Value::Number(n)) => match (n.as_u64(), n.as_i64()) {
            (Some(nanos), _) => Ok(format!("{nanos}ns")),
            // Negative durations mean zero, as on the command line.
            (None, Some(_)) => Ok("0s".to_string()),
            (None, None) => Err(
                "expected a whole number of nanoseconds or a duration such as \"5s\"".to_string(),
            ),
        },
        (Kind::Bool, Value::String(s)) => Ok(match s.to_ascii_lowercase().as_str() {
            "yes" | "on" | "y" => "true".to_string(),
            "no" | "off" | "n" => "false".to_string(),
            _ => s.clone(),
        }),
        (Kind::List, Value::Sequence(_)) => {
            scalar_or_list(value).ok_or_else(|| "expected a list of values".to_string())
        }
        (_, v) => scalar(v).ok_or_else(|| "expected a single value".to_string()),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Tagged(t) => scalar(&t.value),
        Value::Null | Value::Sequence(_) | Value::Mapping(_) => None,
    }
}

/// A scalar, or a sequence of scalars joined with commas.
fn scalar_or_list(value: &Value) -> Option<String> {
    match value {
        Value::Sequence(items) => items
            .iter()
            .map(scalar)
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        other => scalar(other),
    }
}

/// A YAML value as it would appear in a message.
fn display(value: &Value) -> String {
    scalar(value).unwrap_or_else(|| {
        serde_yaml::to_string(value)
            .map(|s| s.trim_end().to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn load(text: &str) -> Result<Config, ConfigError> {
        let value: Value =
            serde_yaml::from_str(text).map_err(|e| ConfigError::ConfigFileSyntax {
                path: "test.yaml".into(),
                reason: e.to_string(),
            })?;
        from_value(value).map(|(c, _)| c)
    }

    #[test]
    fn durations_as_nanoseconds_or_go_strings() {
        let c =
            load("grpc-keepalive-min-time: 3000000000\ngrpc-keepalive-interval: 1h30m\n").unwrap();
        assert_eq!(c.grpc_keepalive_min_time, Duration::from_secs(3));
        assert_eq!(c.grpc_keepalive_interval, Duration::from_secs(5400));
        let c = load("grpc-keepalive-timeout: -5\n").unwrap();
        assert_eq!(c.grpc_keepalive_timeout, Duration::ZERO);
        let err = load("grpc-keepalive-timeout: 1.5\n").unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidConfigValue { ref key, .. } if key == "grpc-keepalive-timeout")
        );
    }

    #[test]
    fn lists_as_sequences_or_strings() {
        let c = load("log-outputs: [stdout, stderr]\ncipher-suites: A,B\n").unwrap();
        assert_eq!(c.log_outputs, ["stderr", "stdout"]);
        assert_eq!(c.cipher_suites, ["A", "B"]);
    }

    #[test]
    fn yaml_booleans() {
        let c =
            load("enable-pprof: yes\nstrict-reconfig-check: false\nforce-new-cluster: 'true'\n")
                .unwrap();
        assert!(c.enable_pprof);
        assert!(!c.strict_reconfig_check);
        assert!(c.force_new_cluster);
    }

    #[test]
    fn numbers_for_text_flags() {
        let c = load("auto-compaction-retention: 1\ninitial-cluster-token: 42\n").unwrap();
        assert_eq!(c.auto_compaction_retention, "1");
        assert_eq!(c.initial_cluster_token, "42");
    }

    #[test]
    fn nulls_and_empty_documents_keep_defaults() {
        let c = load("").unwrap();
        assert_eq!(c.name, "default");
        let c = load("wal-dir:\nname: x\n").unwrap();
        assert_eq!(c.wal_dir, None);
        assert_eq!(c.name, "x");
    }

    #[test]
    fn empty_cluster_state_means_new() {
        let c = load("initial-cluster-state: ''\n").unwrap();
        assert_eq!(c.initial_cluster_state, crate::config::ClusterState::New);
    }

    #[test]
    fn socket_options_section() {
        let c = load("socket-options:\n  reuse-port: true\n  reuse-address: true\n").unwrap();
        assert!(c.socket_reuse_port && c.socket_reuse_address);
        let err = load("socket-options:\n  nodelay: true\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown key \"socket-options.nodelay\" in config file"
        );
    }

    #[test]
    fn non_mapping_document_is_rejected() {
        assert!(load("- a\n- b\n").is_err());
        assert!(load("client-transport-security: 5\n").is_err());
    }

    #[test]
    fn version_and_config_file_are_not_keys() {
        assert!(matches!(
            load("version: true\n"),
            Err(ConfigError::UnknownConfigKey { .. })
        ));
        assert!(matches!(
            load("config-file: x\n"),
            Err(ConfigError::UnknownConfigKey { .. })
        ));
    }
}
