//! etcd's `--peer-cert-allowed-cn` / `--peer-cert-allowed-hostname` policy, applied to a
//! peer certificate after its chain verified.

use std::io;
use std::sync::Arc;

use rustls::client::verify_server_name;
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, OtherError};
use rustls_pki_types::{CertificateDer, ServerName};

use super::info::TlsInfo;
use super::peer_cert::PeerCertificate;
use crate::error::TransportError;

/// The allowed-names policy of one [`TlsInfo`]: either common names or hostnames,
/// never both (etcd refuses a `TLSInfo` with both, and so does [`AllowedNames::new`]).
///
/// Invariant: the list held is non-empty (without one there is no policy and
/// [`AllowedNames::new`] returns `None`).
#[derive(Clone, Debug)]
pub(crate) enum AllowedNames {
    /// The certificate's subject common name must be one of these.
    CommonNames(Vec<String>),
    /// One of these names must be valid for the certificate.
    Hostnames(Vec<ServerName<'static>>),
}

impl AllowedNames {
    /// The policy of `info`, `None` when it sets neither list.
    ///
    /// Fails with [`TransportError::AllowedNamesExclusive`] when both lists are set and
    /// with [`TransportError::TlsConfig`] on a hostname that is neither a DNS name nor
    /// an IP address.
    pub(crate) fn new(info: &TlsInfo) -> Result<Option<AllowedNames>, TransportError> {
        match (info.allowed_cn.is_empty(), info.allowed_hostname.is_empty()) {
            (true, true) => Ok(None),
            (false, false) => Err(TransportError::AllowedNamesExclusive {
                cn: info.allowed_cn.clone(),
                hostname: info.allowed_hostname.clone(),
            }),
            (false, true) => Ok(Some(AllowedNames::CommonNames(info.allowed_cn.clone()))),
            (true, false) => {
                let hostnames = info
                    .allowed_hostname
                    .iter()
                    .map(|name| {
                        ServerName::try_from(name.clone()).map_err(|_| TransportError::TlsConfig {
                            reason: format!("invalid allowed hostname {name:?}"),
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Some(AllowedNames::Hostnames(hostnames)))
            }
        }
    }

    /// Passes when the certificate's CN is an allowed CN, or (hostname policy) an allowed
    /// hostname is valid for it (DNS SANs with wildcards, IP SANs: Go's `VerifyHostname`).
    pub(crate) fn check(&self, end_entity: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        let allowed = match self {
            AllowedNames::CommonNames(common_names) => {
                let cn = PeerCertificate::parse(end_entity).and_then(|c| c.common_name);
                cn.is_some_and(|cn| common_names.contains(&cn))
            }
            AllowedNames::Hostnames(hostnames) => {
                let parsed = ParsedCertificate::try_from(end_entity)?;
                hostnames
                    .iter()
                    .any(|name| verify_server_name(&parsed, name).is_ok())
            }
        };
        if allowed {
            return Ok(());
        }
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(
            OtherError(Arc::new(io::Error::other(
                "client certificate authentication failed",
            ))),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(cn: &str, sans: &[&str]) -> CertificateDer<'static> {
        let mut params =
            rcgen::CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    fn names(cns: &[&str], hosts: &[&str]) -> AllowedNames {
        let info = TlsInfo {
            allowed_cn: cns.iter().map(|s| s.to_string()).collect(),
            allowed_hostname: hosts.iter().map(|s| s.to_string()).collect(),
            ..TlsInfo::default()
        };
        AllowedNames::new(&info).unwrap().unwrap()
    }

    #[test]
    fn no_lists_no_policy() {
        assert!(AllowedNames::new(&TlsInfo::default()).unwrap().is_none());
    }

    #[test]
    fn common_name_or_hostname_must_match() {
        let peer = cert("member-1", &["*.etcd.local", "10.1.2.3"]);
        assert!(names(&["member-1"], &[]).check(&peer).is_ok());
        assert!(names(&["other", "member-1"], &[]).check(&peer).is_ok());
        assert!(names(&["member-2"], &[]).check(&peer).is_err());
        assert!(names(&[], &["a.etcd.local"]).check(&peer).is_ok());
        assert!(names(&[], &["10.1.2.3"]).check(&peer).is_ok());
        assert!(names(&[], &["a.b.etcd.local"]).check(&peer).is_err());
        assert!(names(&[], &["10.1.2.4"]).check(&peer).is_err());
        let err = names(&["member-2"], &[]).check(&peer).unwrap_err();
        assert!(
            err.to_string()
                .contains("client certificate authentication failed"),
            "{err}"
        );
    }

    #[test]
    fn common_names_and_hostnames_are_mutually_exclusive() {
        let info = TlsInfo {
            allowed_cn: vec!["etcd-peer".into()],
            allowed_hostname: vec!["peer.etcd.local".into()],
            ..TlsInfo::default()
        };
        let err = AllowedNames::new(&info).unwrap_err();
        assert!(
            matches!(&err, TransportError::AllowedNamesExclusive { cn, hostname }
                if cn == &["etcd-peer"] && hostname == &["peer.etcd.local"]),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            r#"AllowedCN and AllowedHostname are mutually exclusive (cn="etcd-peer", hostname="peer.etcd.local")"#
        );
        // The same error from the early check and from building a listener's config.
        assert_eq!(info.validate().unwrap_err().to_string(), err.to_string());
        let several = TlsInfo {
            allowed_cn: vec!["a".into(), "b".into()],
            allowed_hostname: vec!["not a host".into()],
            ..TlsInfo::default()
        };
        assert_eq!(
            AllowedNames::new(&several).unwrap_err().to_string(),
            r#"AllowedCN and AllowedHostname are mutually exclusive (cn="a,b", hostname="not a host")"#
        );
    }

    #[test]
    fn malformed_hostname_is_a_config_error() {
        let info = TlsInfo {
            allowed_hostname: vec!["not a host".into()],
            ..TlsInfo::default()
        };
        assert!(matches!(
            AllowedNames::new(&info),
            Err(TransportError::TlsConfig { .. })
        ));
    }
}
