//! What etcd derives after reading flags or the config file: the data directory and
//! initial cluster from the name, `--debug`, and deprecation notices.

use super::flags::{self, Target};
use super::settings::Config;

/// Fills in values that default to other values, only where they were not given.
pub(crate) fn finalize(cfg: &mut Config, notices: &mut Vec<String>) {
    if !cfg.is_set("data-dir") || cfg.data_dir.as_os_str().is_empty() {
        cfg.data_dir = format!("{}.etcd", cfg.name).into();
    }
    if !cfg.is_set("initial-cluster") {
        let discovery = !cfg.discovery.is_empty()
            || !cfg.discovery_srv.is_empty()
            || !cfg.discovery_srv_name.is_empty()
            || !cfg.discovery_endpoints.is_empty();
        cfg.initial_cluster = if discovery {
            String::new()
        } else {
            cfg.initial_cluster_from_name()
        };
    }
    if cfg.other_bool("debug") == Some(true) {
        cfg.log_level = "debug".to_string();
        notices.push(
            "[WARNING] Deprecated '--debug' flag is set to true (use '--log-level=debug' instead)"
                .to_string(),
        );
    }
    if cfg.logger == "capnslog" {
        notices.push(
            "[WARNING] Deprecated '--logger=capnslog' flag is set; logging as with '--logger=zap'"
                .to_string(),
        );
    }
    for name in &cfg.explicitly_set {
        if let Some(Target::Alias(current)) = flags::lookup(name).map(|f| f.target) {
            notices.push(format!("--{name} is deprecated; use --{current} instead"));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn finalized(cfg: Config) -> (Config, Vec<String>) {
        let mut cfg = cfg;
        let mut notices = Vec::new();
        finalize(&mut cfg, &mut notices);
        (cfg, notices)
    }

    #[test]
    fn data_dir_follows_the_name_unless_given() {
        let (c, _) = finalized(Config {
            name: "n1".into(),
            ..Config::default()
        });
        assert_eq!(c.data_dir, PathBuf::from("n1.etcd"));

        let mut given = Config {
            name: "n1".into(),
            data_dir: "/var/lib/etcd".into(),
            ..Config::default()
        };
        given.explicitly_set.insert("data-dir".into());
        let (c, _) = finalized(given);
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/etcd"));
    }

    #[test]
    fn initial_cluster_is_cleared_by_discovery() {
        let (c, _) = finalized(Config {
            discovery_srv: "example.com".into(),
            ..Config::default()
        });
        assert_eq!(c.initial_cluster, "");
    }

    #[test]
    fn debug_raises_the_log_level() {
        let mut cfg = Config::default();
        cfg.other_flags.insert("debug".into(), "true".into());
        let (c, notices) = finalized(cfg);
        assert_eq!(c.log_level, "debug");
        assert_eq!(notices.len(), 1);
    }
}
