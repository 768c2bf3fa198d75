//! `--initial-cluster` (`name=url,name=url,...`) parsed as etcd's `types.NewURLsMap`
//! parses it, and the default built from the member's name and peer URLs.

use url::Url;

use super::error::ConfigError;
use super::settings::Config;
use super::urls::{parse_url, sort_dedup, url_string};

impl Config {
    /// The members of `--initial-cluster`, in order of first appearance. A name given
    /// several times collects all its URLs; each member's URLs are sorted.
    pub fn initial_cluster_members(&self) -> Result<Vec<(String, Vec<Url>)>, ConfigError> {
        parse_members(&self.initial_cluster)
    }

    /// `<name>=<url>` for every initial advertised peer URL, as etcd's
    /// `InitialClusterFromName`.
    pub(crate) fn initial_cluster_from_name(&self) -> String {
        let name = if self.name.is_empty() {
            "default"
        } else {
            &self.name
        };
        self.initial_advertise_peer_urls
            .iter()
            .map(|u| format!("{name}={}", url_string(u)))
            .collect::<Vec<_>>()
            .join(",")
    }
}

pub(crate) fn parse_members(s: &str) -> Result<Vec<(String, Vec<Url>)>, ConfigError> {
    let mut members: Vec<(String, Vec<Url>)> = Vec::new();
    for entry in s.split(',').filter(|e| !e.is_empty()) {
        let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
        let url =
            parse_url(value).map_err(|reason| ConfigError::InvalidInitialCluster { reason })?;
        match members.iter_mut().find(|(n, _)| n == name) {
            Some((_, urls)) => urls.push(url),
            None => members.push((name.to_string(), vec![url])),
        }
    }
    for (_, urls) in &mut members {
        sort_dedup(urls);
    }
    Ok(members)
}

/// A members list as etcd prints a `URLsMap`: `name=url` pairs sorted by name.
pub(crate) fn members_string(members: &[(String, Vec<Url>)]) -> String {
    let mut pairs: Vec<String> = members
        .iter()
        .flat_map(|(name, urls)| {
            urls.iter()
                .map(move |u| format!("{name}={}", url_string(u)))
        })
        .collect();
    pairs.sort();
    pairs.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(members: &[(String, Vec<Url>)]) -> Vec<(String, Vec<String>)> {
        members
            .iter()
            .map(|(n, us)| (n.clone(), us.iter().map(url_string).collect()))
            .collect()
    }

    #[test]
    fn groups_urls_by_name_in_order() {
        let m =
            parse_members("b=http://10.0.0.2:2380,a=http://10.0.0.1:2380,b=http://10.0.0.1:2381")
                .unwrap();
        assert_eq!(
            strings(&m),
            [
                (
                    "b".to_string(),
                    vec![
                        "http://10.0.0.1:2381".to_string(),
                        "http://10.0.0.2:2380".to_string()
                    ]
                ),
                ("a".to_string(), vec!["http://10.0.0.1:2380".to_string()]),
            ]
        );
        assert_eq!(
            members_string(&m),
            "a=http://10.0.0.1:2380,b=http://10.0.0.1:2381,b=http://10.0.0.2:2380"
        );
    }

    #[test]
    fn empty_is_no_members() {
        assert!(parse_members("").unwrap().is_empty());
        assert!(parse_members(",,").unwrap().is_empty());
    }

    #[test]
    fn bad_entries_report_the_url_error() {
        let err = parse_members("a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "URL scheme must be http, https, unix, or unixs: "
        );
        let err = parse_members("a=http://x").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"URL address does not have the form "host:port": http://x"#
        );
    }

    #[test]
    fn default_is_built_from_name_and_peer_urls() {
        let mut c = Config {
            name: "infra0".to_string(),
            ..Config::default()
        };
        assert_eq!(
            c.initial_cluster_from_name(),
            "infra0=http://localhost:2380"
        );
        c.initial_advertise_peer_urls =
            crate::config::urls::parse_url_list("http://b:1,http://a:2").unwrap();
        assert_eq!(
            c.initial_cluster_from_name(),
            "infra0=http://a:2,infra0=http://b:1"
        );
        c.name.clear();
        assert_eq!(
            c.initial_cluster_from_name(),
            "default=http://a:2,default=http://b:1"
        );
    }

    #[test]
    fn members_of_the_default_config() {
        let m = Config::default().initial_cluster_members().unwrap();
        assert_eq!(
            strings(&m),
            [(
                "default".to_string(),
                vec!["http://localhost:2380".to_string()]
            )]
        );
    }
}
