//! Protocol policy: etcd's Go cipher suite names mapped to rustls' ring suites, and the
//! TLS versions allowed by min/max.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::crypto::ring::{cipher_suite as cs, default_provider};
use rustls::{SupportedCipherSuite, SupportedProtocolVersion, version};

use super::info::{TlsInfo, TlsVersion};
use crate::error::TransportError;

/// Go's names (`crypto/tls`) of the suites rustls implements, with the Go aliases.
/// Suites Go knows but rustls lacks (CBC, RC4, 3DES, static RSA) are absent on purpose.
static GO_SUITES: &[(&str, SupportedCipherSuite)] = &[
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
        cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    ("TLS_AES_128_GCM_SHA256", cs::TLS13_AES_128_GCM_SHA256),
    ("TLS_AES_256_GCM_SHA384", cs::TLS13_AES_256_GCM_SHA384),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        cs::TLS13_CHACHA20_POLY1305_SHA256,
    ),
];

/// The rustls suite for a Go suite name.
fn lookup(name: &str) -> Option<SupportedCipherSuite> {
    GO_SUITES
        .iter()
        .find(|(go, _)| *go == name)
        .map(|(_, suite)| *suite)
}

/// Go's (canonical, first-listed) name of a negotiated suite.
pub(crate) fn go_name(suite: SupportedCipherSuite) -> Option<&'static str> {
    GO_SUITES
        .iter()
        .find(|(_, s)| s.suite() == suite.suite())
        .map(|(go, _)| *go)
}

fn is_tls12(suite: &SupportedCipherSuite) -> bool {
    matches!(suite, SupportedCipherSuite::Tls12(_))
}

/// The crypto provider and protocol versions one [`TlsInfo`] allows.
///
/// Invariant: `versions` is non-empty and `provider` has a usable suite for at least
/// one of them, so rustls' config builders accept the pair.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    pub(crate) provider: Arc<CryptoProvider>,
    pub(crate) versions: Vec<&'static SupportedProtocolVersion>,
}

impl Policy {
    pub(crate) fn new(info: &TlsInfo) -> Result<Policy, TransportError> {
        let min = info.min_version.unwrap_or(TlsVersion::Tls12);
        let max = info.max_version.unwrap_or(TlsVersion::Tls13);
        if min > max {
            return Err(TransportError::TlsVersionRange { min, max });
        }
        let mut versions = Vec::new();
        if min == TlsVersion::Tls12 {
            versions.push(&version::TLS12);
        }
        if max == TlsVersion::Tls13 {
            versions.push(&version::TLS13);
        }

        let mut provider = default_provider();
        if !info.cipher_suites.is_empty() {
            if min == TlsVersion::Tls13 {
                return Err(TransportError::TlsConfig {
                    reason: "cipher suites cannot be configured when only TLS1.3 is enabled".into(),
                });
            }
            let mut chosen: Vec<SupportedCipherSuite> = Vec::new();
            for name in &info.cipher_suites {
                let suite = lookup(name)
                    .ok_or_else(|| TransportError::UnsupportedCipherSuite { name: name.clone() })?;
                if is_tls12(&suite) && !chosen.iter().any(|c| c.suite() == suite.suite()) {
                    chosen.push(suite);
                }
            }
            if chosen.is_empty() && max == TlsVersion::Tls12 {
                return Err(TransportError::TlsConfig {
                    reason: "no TLS1.2 cipher suite configured while TLS1.3 is disabled".into(),
                });
            }
            provider.cipher_suites.retain(|s| !is_tls12(s));
            provider.cipher_suites.extend(chosen);
        }
        Ok(Policy {
            provider: Arc::new(provider),
            versions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suites(names: &[&str]) -> TlsInfo {
        TlsInfo {
            cipher_suites: names.iter().map(|n| n.to_string()).collect(),
            ..TlsInfo::default()
        }
    }

    #[test]
    fn named_suites_restrict_tls12_only() {
        let policy = Policy::new(&suites(&[
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256",
        ]))
        .unwrap();
        let tls12: Vec<_> = policy
            .provider
            .cipher_suites
            .iter()
            .filter(|s| is_tls12(s))
            .map(|s| go_name(*s).unwrap())
            .collect();
        assert_eq!(tls12, ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"]);
        let tls13 = policy
            .provider
            .cipher_suites
            .iter()
            .filter(|s| !is_tls12(s))
            .count();
        assert_eq!(tls13, 3, "TLS 1.3 suites are not restricted");
        assert_eq!(policy.versions.len(), 2);
    }

    #[test]
    fn go_aliases_map_to_the_same_suite() {
        let policy = Policy::new(&suites(&[
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        ]))
        .unwrap();
        let tls12 = policy
            .provider
            .cipher_suites
            .iter()
            .filter(|s| is_tls12(s))
            .count();
        assert_eq!(tls12, 1);
    }

    #[test]
    fn unknown_and_unsupported_names_are_errors_naming_them() {
        for name in ["TLS_RSA_WITH_AES_128_CBC_SHA", "NOT_A_SUITE"] {
            let err = Policy::new(&suites(&[name])).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("unexpected TLS cipher suite \"{name}\"")
            );
        }
    }

    #[test]
    fn versions_follow_min_and_max() {
        let only13 = Policy::new(&TlsInfo {
            min_version: Some(TlsVersion::Tls13),
            ..TlsInfo::default()
        })
        .unwrap();
        assert_eq!(only13.versions, [&version::TLS13]);
        let only12 = Policy::new(&TlsInfo {
            max_version: Some(TlsVersion::Tls12),
            ..TlsInfo::default()
        })
        .unwrap();
        assert_eq!(only12.versions, [&version::TLS12]);
        let err = Policy::new(&TlsInfo {
            min_version: Some(TlsVersion::Tls13),
            cipher_suites: vec!["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".into()],
            ..TlsInfo::default()
        })
        .unwrap_err();
        assert!(matches!(err, TransportError::TlsConfig { .. }), "{err:?}");
    }
}
