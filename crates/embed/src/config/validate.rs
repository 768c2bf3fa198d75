//! `Config::validate`: etcd's `Config.Validate` plus the bootstrap checks etcd makes
//! before creating a new member (`VerifyBootstrap`), with etcd's messages.

use std::collections::BTreeSet;
use std::net::IpAddr;

use url::Url;

use super::cluster::members_string;
use super::error::ConfigError;
use super::flags::{LOG_LEVELS, LOGGERS};
use super::settings::{ClusterState, Config};
use super::urls::{split_host_port, url_string};
use super::values::{go_quote, parse_duration, parse_i64};

/// etcd's upper bound for `--election-timeout`.
const MAX_ELECTION_MS: u128 = 50_000;

impl Config {
    /// Checks the configuration the way etcd does before bootstrapping a member.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_restart()?;
        if self.initial_cluster_state == ClusterState::New {
            self.verify_bootstrap()?;
        }
        Ok(())
    }

    /// The checks that apply when the member restarts from an existing data directory:
    /// the `--initial-cluster*` flags are ignored then, as etcd ignores them.
    pub fn validate_restart(&self) -> Result<(), ConfigError> {
        self.validate_logging()?;
        for urls in [
            &self.listen_peer_urls,
            &self.listen_client_urls,
            &self.listen_client_http_urls,
            &self.listen_metrics_urls,
        ] {
            check_bind_urls(urls)?;
        }
        check_host_urls(
            "initial-advertise-peer-urls",
            &self.initial_advertise_peer_urls,
        )?;
        check_host_urls("advertise-client-urls", &self.advertise_client_urls)?;
        self.validate_bootstrap_flags()?;
        self.validate_timing()?;
        if !self.listen_peer_urls.is_empty() && self.initial_advertise_peer_urls.is_empty() {
            return Err(ConfigError::UnsetAdvertisePeerUrls);
        }
        if !self.listen_client_urls.is_empty() && self.advertise_client_urls.is_empty() {
            return Err(ConfigError::UnsetAdvertiseClientUrls);
        }
        self.validate_compaction()?;
        if self.snapshot_count == 0 {
            return Err(ConfigError::MustBePositive {
                flag: "snapshot-count",
                value: 0,
                unit: "",
            });
        }
        if self.max_request_bytes == 0 {
            return Err(ConfigError::MustBePositive {
                flag: "max-request-bytes",
                value: 0,
                unit: "",
            });
        }
        self.validate_tls_versions()
    }

    fn validate_logging(&self) -> Result<(), ConfigError> {
        if !LOGGERS.contains(&self.logger.as_str()) {
            return Err(ConfigError::UnknownLogger {
                logger: self.logger.clone(),
            });
        }
        if !LOG_LEVELS.contains(&self.log_level.as_str()) {
            return Err(ConfigError::UnknownLogLevel {
                level: self.log_level.clone(),
            });
        }
        if self.log_outputs.len() > 1 && self.log_outputs.iter().any(|o| o == "default") {
            return Err(ConfigError::MultipleDefaultLogOutputs);
        }
        Ok(())
    }

    fn discovery_configured(&self) -> bool {
        !self.discovery.is_empty()
            || !self.discovery_srv.is_empty()
            || !self.discovery_endpoints.is_empty()
    }

    fn validate_bootstrap_flags(&self) -> Result<(), ConfigError> {
        let set = [
            !self.initial_cluster.is_empty(),
            !self.discovery.is_empty(),
            !self.discovery_srv.is_empty(),
            !self.discovery_endpoints.is_empty(),
        ];
        if set.iter().filter(|s| **s).count() > 1 {
            return Err(ConfigError::ConflictingBootstrapFlags);
        }
        if self.discovery_token.is_empty() != self.discovery_endpoints.is_empty() {
            return Err(ConfigError::DiscoveryTokenWithoutEndpoints);
        }
        Ok(())
    }

    fn validate_timing(&self) -> Result<(), ConfigError> {
        let heartbeat_ms = self.heartbeat_interval.as_millis();
        let election_ms = self.election_timeout.as_millis();
        if heartbeat_ms == 0 {
            return Err(ConfigError::MustBePositive {
                flag: "heartbeat-interval",
                value: 0,
                unit: "ms",
            });
        }
        if election_ms == 0 {
            return Err(ConfigError::MustBePositive {
                flag: "election-timeout",
                value: 0,
                unit: "ms",
            });
        }
        if 5 * heartbeat_ms > election_ms {
            return Err(ConfigError::ElectionTimeoutTooShort {
                election_ms,
                heartbeat_ms,
            });
        }
        if election_ms > MAX_ELECTION_MS {
            return Err(ConfigError::ElectionTimeoutTooLong {
                election_ms,
                max_ms: MAX_ELECTION_MS,
            });
        }
        Ok(())
    }

    fn validate_compaction(&self) -> Result<(), ConfigError> {
        let retention = &self.auto_compaction_retention;
        let invalid = |reason: &str| ConfigError::InvalidCompactionRetention {
            retention: retention.clone(),
            reason: reason.to_string(),
        };
        match self.auto_compaction_mode.as_str() {
            // A bare number is hours; otherwise a Go duration.
            "periodic" => {
                if parse_i64(retention).is_err() && parse_duration(retention).is_err() {
                    return Err(invalid("expected hours or a duration such as \"30m\""));
                }
            }
            "revision" => {
                if parse_i64(retention).is_err() {
                    return Err(invalid("expected a number of revisions"));
                }
            }
            mode => {
                return Err(ConfigError::UnknownCompactionMode {
                    mode: mode.to_string(),
                });
            }
        }
        Ok(())
    }

    fn validate_tls_versions(&self) -> Result<(), ConfigError> {
        let min = tls_version(self.tls_min_version.as_deref())?;
        let max = tls_version(self.tls_max_version.as_deref())?;
        if let (Some(min_v), Some(max_v)) = (min, max)
            && min_v > max_v
        {
            return Err(ConfigError::TlsMinAboveMax {
                min: self.tls_min_version.clone().unwrap_or_default(),
                max: self.tls_max_version.clone().unwrap_or_default(),
            });
        }
        if min == Some(13) && !self.cipher_suites.is_empty() {
            return Err(ConfigError::CipherSuitesWithTls13Only);
        }
        Ok(())
    }

    /// etcd's `VerifyBootstrap` for a statically configured new member.
    fn verify_bootstrap(&self) -> Result<(), ConfigError> {
        let members = self.initial_cluster_members()?;
        if members.is_empty() {
            if self.discovery_configured() {
                return Ok(());
            }
            return Err(ConfigError::InitialClusterUnset);
        }
        let Some((_, cluster_urls)) = members.iter().find(|(n, _)| *n == self.name) else {
            return Err(ConfigError::LocalMemberNotInCluster {
                name: self.name.clone(),
            });
        };
        let cluster: BTreeSet<String> = cluster_urls.iter().map(url_string).collect();
        let advertised: BTreeSet<String> = self
            .initial_advertise_peer_urls
            .iter()
            .map(url_string)
            .collect();
        let missing: Vec<String> = cluster
            .difference(&advertised)
            .map(|u| format!("{}={u}", self.name))
            .collect();
        if !missing.is_empty() {
            let advertised: Vec<String> = advertised.into_iter().collect();
            let cluster: Vec<String> = cluster.into_iter().collect();
            return Err(ConfigError::ClusterUrlsNotAdvertised {
                missing: missing.join(","),
                advertised: advertised.join(","),
                detail: mismatch(&advertised, &cluster),
            });
        }
        let extra: Vec<String> = advertised.difference(&cluster).cloned().collect();
        if !extra.is_empty() {
            let own = [(self.name.clone(), self.initial_advertise_peer_urls.clone())];
            return Err(ConfigError::AdvertisedUrlsNotInCluster {
                missing: extra.join(","),
                cluster: members_string(&own),
            });
        }
        let mut seen = BTreeSet::new();
        for (_, urls) in &members {
            for u in urls {
                if !seen.insert(url_string(u)) {
                    return Err(ConfigError::DuplicateClusterUrl {
                        cluster: members_string(&members),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Why two sorted URL lists differ, in the words of etcd's `netutil.URLStringsEqual`
/// (which also resolves host names; this does not).
fn mismatch(a: &[String], b: &[String]) -> String {
    let quoted = |list: &[String]| {
        list.iter()
            .map(|s| go_quote(s))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if a.len() != b.len() {
        return format!("len([{}]) != len([{}])", quoted(a), quoted(b));
    }
    match a.iter().zip(b).find(|(x, y)| x != y) {
        Some((x, y)) => format!("resolved urls: {} != {}", go_quote(x), go_quote(y)),
        None => "urls differ".to_string(),
    }
}

/// etcd's `tlsutil.GetTLSVersion` (TLS 1.2 and 1.3 only), as the minor number; None
/// for "" (Go's choice).
fn tls_version(v: Option<&str>) -> Result<Option<u8>, ConfigError> {
    match v.unwrap_or("") {
        "" => Ok(None),
        "TLS1.2" => Ok(Some(12)),
        "TLS1.3" => Ok(Some(13)),
        other => Err(ConfigError::UnknownTlsVersion {
            version: other.to_string(),
        }),
    }
}

/// etcd's `checkBindURLs`: listeners need an IP or `localhost` (unix sockets excepted).
fn check_bind_urls(urls: &[Url]) -> Result<(), ConfigError> {
    for u in urls {
        if matches!(u.scheme(), "unix" | "unixs") {
            continue;
        }
        let host = u.host_str().unwrap_or("");
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host == "localhost" {
            continue;
        }
        if host.parse::<IpAddr>().is_err() {
            return Err(ConfigError::BindUrlNotIp { url: url_string(u) });
        }
    }
    Ok(())
}

/// etcd's `checkHostURLs`: advertised URLs need a non-empty host and a port.
fn check_host_urls(flag: &'static str, urls: &[Url]) -> Result<(), ConfigError> {
    for u in urls {
        if matches!(u.scheme(), "unix" | "unixs") {
            continue;
        }
        let host = u.host_str().unwrap_or("");
        let hostport = match u.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let reason = match split_host_port(&hostport) {
            Err(reason) => reason.to_string(),
            Ok(("", _)) => format!("unexpected empty host ({})", url_string(u)),
            Ok(_) => continue,
        };
        return Err(ConfigError::AdvertiseUrlNotHostPort {
            flag,
            urls: urls.iter().map(url_string).collect::<Vec<_>>().join(","),
            reason,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::urls::parse_url_list;

    fn urls(s: &str) -> Vec<Url> {
        parse_url_list(s).unwrap()
    }

    fn err(c: &Config) -> String {
        c.validate().unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn election_timeout_bounds() {
        let mut c = Config {
            election_timeout: Duration::from_millis(1),
            ..Config::default()
        };
        assert_eq!(
            err(&c),
            "--election-timeout[1ms] should be at least as 5 times as --heartbeat-interval[100ms]"
        );
        c.election_timeout = Duration::from_millis(50_001);
        assert_eq!(
            err(&c),
            "--election-timeout[50001ms] is too long, and should be set less than 50000ms"
        );
        c.election_timeout = Duration::from_millis(50_000);
        assert_eq!(c.validate(), Ok(()));
        c.heartbeat_interval = Duration::ZERO;
        assert_eq!(err(&c), "--heartbeat-interval must be >0 (set to 0ms)");
        c.heartbeat_interval = Duration::from_millis(100);
        c.election_timeout = Duration::ZERO;
        assert_eq!(err(&c), "--election-timeout must be >0 (set to 0ms)");
    }

    #[test]
    fn positive_limits() {
        let c = Config {
            snapshot_count: 0,
            ..Config::default()
        };
        assert_eq!(err(&c), "--snapshot-count must be >0 (set to 0)");
        let c = Config {
            max_request_bytes: 0,
            ..Config::default()
        };
        assert_eq!(err(&c), "--max-request-bytes must be >0 (set to 0)");
    }

    #[test]
    fn advertise_urls_are_required_for_explicit_listeners() {
        let c = Config {
            advertise_client_urls: Vec::new(),
            ..Config::default()
        };
        assert_eq!(
            err(&c),
            "--advertise-client-urls is required when --listen-client-urls is set explicitly"
        );
        assert_eq!(c.validate().unwrap_err().exit_code(), 1);
        let c = Config {
            initial_advertise_peer_urls: Vec::new(),
            ..Config::default()
        };
        assert_eq!(
            err(&c),
            "--initial-advertise-peer-urls is required when --listen-peer-urls is set explicitly"
        );
    }

    #[test]
    fn bind_urls_need_ip_or_localhost() {
        let mut c = Config {
            listen_client_urls: urls("http://example.com:2379"),
            ..Config::default()
        };
        assert_eq!(
            err(&c),
            "expected IP in URL for binding (http://example.com:2379)"
        );
        c.listen_client_urls = urls("http://[::1]:2379,http://0.0.0.0:2379,unix://sock:0");
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn cluster_must_contain_this_member_with_its_urls() {
        let mut c = Config {
            name: "infra1".into(),
            ..Config::default()
        };
        assert_eq!(
            err(&c),
            "couldn't find local name \"infra1\" in the initial cluster configuration"
        );
        c.initial_cluster = "infra1=http://10.0.0.1:2380".into();
        assert_eq!(
            err(&c),
            "--initial-cluster has infra1=http://10.0.0.1:2380 but missing from --initial-advertise-peer-urls=http://localhost:2380 (resolved urls: \"http://localhost:2380\" != \"http://10.0.0.1:2380\")"
        );
        c.initial_cluster = "infra1=http://localhost:2380".into();
        c.initial_advertise_peer_urls = urls("http://localhost:2380,http://10.0.0.1:2380");
        assert_eq!(
            err(&c),
            "--initial-advertise-peer-urls has http://10.0.0.1:2380 but missing from --initial-cluster=infra1=http://10.0.0.1:2380,infra1=http://localhost:2380"
        );
        c.initial_cluster =
            "infra1=http://localhost:2380,infra1=http://10.0.0.1:2380,infra2=http://10.0.0.1:2380"
                .into();
        assert_eq!(
            err(&c),
            "initial cluster infra1=http://10.0.0.1:2380,infra1=http://localhost:2380,infra2=http://10.0.0.1:2380 has duplicate url"
        );
        c.initial_cluster =
            "infra1=http://localhost:2380,infra1=http://10.0.0.1:2380,infra2=http://10.0.0.2:2380"
                .into();
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn existing_members_skip_bootstrap_checks() {
        let c = Config {
            name: "other".into(),
            initial_cluster_state: ClusterState::Existing,
            ..Config::default()
        };
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn bootstrap_sources_are_exclusive() {
        let c = Config {
            discovery_srv: "example.com".into(),
            ..Config::default()
        };
        assert_eq!(
            err(&c),
            "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", \"discovery\" or \"discovery-srv\""
        );
        let c = Config {
            discovery_srv: "example.com".into(),
            initial_cluster: String::new(),
            ..Config::default()
        };
        assert_eq!(c.validate(), Ok(()));
        let c = Config {
            initial_cluster: String::new(),
            ..Config::default()
        };
        assert_eq!(err(&c), "initial cluster unset and no discovery URL found");
        let c = Config {
            initial_cluster: String::new(),
            discovery_endpoints: vec!["10.0.0.1:2379".into()],
            ..Config::default()
        };
        assert_eq!(
            err(&c),
            "both --discovery-token and --discovery-endpoints must be set"
        );
    }

    #[test]
    fn logging_settings() {
        let c = Config {
            log_outputs: vec!["default".into(), "stderr".into()],
            ..Config::default()
        };
        assert_eq!(
            err(&c),
            "multi logoutput for \"default\" is not supported yet"
        );
        let c = Config {
            logger: "glog".into(),
            ..Config::default()
        };
        assert_eq!(err(&c), "unknown logger option \"glog\"");
        let c = Config {
            log_level: "trace".into(),
            ..Config::default()
        };
        assert!(err(&c).starts_with("unknown log level \"trace\""));
    }

    #[test]
    fn compaction_settings() {
        let mut c = Config {
            auto_compaction_retention: "30m".into(),
            ..Config::default()
        };
        assert_eq!(c.validate(), Ok(()));
        c.auto_compaction_retention = "5".into();
        assert_eq!(c.validate(), Ok(()));
        c.auto_compaction_retention = "soon".into();
        assert!(err(&c).starts_with("invalid auto-compaction-retention \"soon\""));
        c.auto_compaction_mode = "revision".into();
        c.auto_compaction_retention = "30m".into();
        assert!(err(&c).starts_with("invalid auto-compaction-retention \"30m\""));
        c.auto_compaction_mode = "weekly".into();
        assert_eq!(err(&c), "unknown auto-compaction-mode \"weekly\"");
    }

    #[test]
    fn tls_versions() {
        let mut c = Config {
            tls_min_version: Some("TLS1.4".into()),
            ..Config::default()
        };
        assert_eq!(
            err(&c),
            "unexpected TLS version \"TLS1.4\" (must be one of: TLS1.2, TLS1.3)"
        );
        c.tls_min_version = Some("TLS1.1".into());
        assert_eq!(
            err(&c),
            "unexpected TLS version \"TLS1.1\" (must be one of: TLS1.2, TLS1.3)"
        );
        c.tls_min_version = Some("TLS1.3".into());
        c.tls_max_version = Some("TLS1.2".into());
        assert_eq!(
            err(&c),
            "min version (TLS1.3) is greater than max version (TLS1.2)"
        );
        c.tls_max_version = None;
        c.cipher_suites = vec!["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()];
        assert_eq!(
            err(&c),
            "cipher suites cannot be configured when only TLS1.3 is enabled"
        );
        c.tls_min_version = Some("TLS1.2".into());
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn advertised_hosts_must_not_be_empty() {
        let c = Config {
            advertise_client_urls: urls("unix://localhost:0"),
            ..Config::default()
        };
        assert_eq!(c.validate(), Ok(()));
    }
}
