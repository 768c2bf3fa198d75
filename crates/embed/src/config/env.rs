//! `ETCD_*` environment variables, as etcd's `flags.SetFlagsFromEnv`: a variable sets
//! its flag when the command line did not; a variable for a flag also given on the
//! command line is an error; variables matching no flag are reported.

use std::collections::BTreeSet;

use super::error::ConfigError;
use super::flags::{self, Flag, Target};
use super::settings::Config;

/// `ETCD_VERSION` is set by many images to the etcd release; etcd 3.5+ ignores it.
const VERSION_KEY: &str = "ETCD_VERSION";

/// Applies the environment to `cfg`. `given` are the flags set on the command line.
pub(crate) fn apply_env(
    cfg: &mut Config,
    given: &BTreeSet<&'static str>,
    env: &[(String, String)],
    notices: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let lookup = |key: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };

    // A flag given on the command line shadows the variables of every name it has.
    let given_current: BTreeSet<&str> = given
        .iter()
        .filter_map(|n| flags::lookup(n))
        .map(|f| f.resolved().name)
        .collect();
    let shadowed: BTreeSet<String> = flags::all()
        .filter(|f| given.contains(f.name) || given_current.contains(f.resolved().name))
        .filter(|f| !matches!(f.target, Target::Version))
        .map(Flag::env_key)
        .collect();

    let mut used: BTreeSet<String> = BTreeSet::new();
    if let Some(v) = lookup(VERSION_KEY).filter(|v| !v.is_empty()) {
        notices.push(format!(
            "cannot set special environment variable {VERSION_KEY}={v}"
        ));
        used.insert(VERSION_KEY.to_string());
    }

    let mut sorted: Vec<&'static Flag> = flags::all()
        .filter(|f| !matches!(f.target, Target::Version | Target::ConfigFile))
        .collect();
    sorted.sort_by_key(|f| f.name);

    let mut value_error = None;
    for flag in sorted {
        let key = flag.env_key();
        if shadowed.contains(&key) {
            continue;
        }
        let Some(value) = lookup(&key).filter(|v| !v.is_empty()) else {
            continue;
        };
        used.insert(key.clone());
        if matches!(flag.target, Target::Ignored) {
            notices.push(format!(
                "flag \"-{}\" is no longer supported - ignoring.",
                flag.name
            ));
            continue;
        }
        match flag.apply(cfg, value) {
            Ok(()) => {
                cfg.explicitly_set.insert(flag.name.to_string());
                cfg.explicitly_set.insert(flag.resolved().name.to_string());
                notices.push(format!(
                    "recognized and used environment variable {key}={value}"
                ));
            }
            Err(reason) => {
                // etcd reports the last failing variable, in flag-name order.
                value_error = Some(ConfigError::InvalidEnvValue {
                    key,
                    value: value.to_string(),
                    reason,
                });
            }
        }
    }

    for (key, value) in env {
        if used.contains(key) {
            continue;
        }
        if shadowed.contains(key) {
            return Err(ConfigError::EnvConflict { key: key.clone() });
        }
        if key.starts_with("ETCD_") {
            notices.push(format!("unrecognized environment variable {key}={value}"));
        }
    }
    value_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn apply(
        given: &[&'static str],
        pairs: &[(&str, &str)],
    ) -> (Result<(), ConfigError>, Config, Vec<String>) {
        let mut cfg = Config::default();
        let mut notices = Vec::new();
        let given: BTreeSet<&'static str> = given.iter().copied().collect();
        let r = apply_env(&mut cfg, &given, &env(pairs), &mut notices);
        (r, cfg, notices)
    }

    #[test]
    fn sets_flags_and_reports_use() {
        let (r, cfg, notices) = apply(
            &[],
            &[
                ("ETCD_NAME", "n1"),
                ("ETCD_SNAPSHOT_COUNT", "10"),
                ("PATH", "/bin"),
            ],
        );
        assert!(r.is_ok());
        assert_eq!(cfg.name, "n1");
        assert_eq!(cfg.snapshot_count, 10);
        assert!(cfg.is_set("name"));
        assert_eq!(
            notices,
            [
                "recognized and used environment variable ETCD_NAME=n1",
                "recognized and used environment variable ETCD_SNAPSHOT_COUNT=10",
            ]
        );
    }

    #[test]
    fn unknown_and_empty_variables_are_reported() {
        let (r, cfg, notices) = apply(
            &[],
            &[("ETCD_BOGUS", "1"), ("ETCD_NAME", ""), ("ETCDCTL_API", "3")],
        );
        assert!(r.is_ok());
        assert_eq!(cfg.name, "default");
        assert_eq!(
            notices,
            [
                "unrecognized environment variable ETCD_BOGUS=1",
                "unrecognized environment variable ETCD_NAME=",
            ]
        );
    }

    #[test]
    fn a_flag_on_the_command_line_conflicts_with_its_variable() {
        let (r, _, _) = apply(&["name"], &[("ETCD_NAME", "n1")]);
        assert_eq!(
            r.unwrap_err().to_string(),
            "conflicting environment variable \"ETCD_NAME\" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)"
        );
        let (r, _, _) = apply(
            &["experimental-compaction-batch-limit"],
            &[("ETCD_COMPACTION_BATCH_LIMIT", "5")],
        );
        assert!(matches!(r, Err(ConfigError::EnvConflict { .. })));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let (r, _, _) = apply(&[], &[("ETCD_SNAPSHOT_COUNT", "abc")]);
        let err = r.unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value \"abc\" for ETCD_SNAPSHOT_COUNT: parse error"
        );
        assert_eq!(err.exit_code(), 1);
        let (r, _, _) = apply(&[], &[("ETCD_INITIAL_CLUSTER_STATE", "foo")]);
        assert_eq!(
            r.unwrap_err().to_string(),
            "invalid value \"foo\" for ETCD_INITIAL_CLUSTER_STATE: invalid value"
        );
    }

    #[test]
    fn etcd_version_is_ignored() {
        let (r, _, notices) = apply(&[], &[("ETCD_VERSION", "3.5.9")]);
        assert!(r.is_ok());
        assert_eq!(
            notices,
            ["cannot set special environment variable ETCD_VERSION=3.5.9"]
        );
        let (r, _, _) = apply(&["version"], &[("ETCD_VERSION", "3.5.9")]);
        assert!(r.is_ok());
    }

    #[test]
    fn ignored_flags_from_the_environment_warn() {
        let (r, _, notices) = apply(&[], &[("ETCD_VV", "1")]);
        assert!(r.is_ok());
        assert_eq!(notices, ["flag \"-vv\" is no longer supported - ignoring."]);
    }
}
