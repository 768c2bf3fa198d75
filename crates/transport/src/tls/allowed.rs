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

/// The allowed common names and hostnames of one [`TlsInfo`].
///
/// Invariant: at least one of the lists is non-empty (otherwise there is no policy and
/// [`AllowedNames::new`] returns `None`).
#[derive(Clone, Debug)]
pub(crate) struct AllowedNames {
    common_names: Vec<String>,
    hostnames: Vec<ServerName<'static>>,
}

impl AllowedNames {
    pub(crate) fn new(info: &TlsInfo) -> Result<Option<AllowedNames>, TransportError> {
        if info.allowed_cn.is_empty() && info.allowed_hostname.is_empty() {
            return Ok(None);
        }
        let hostnames = info
            .allowed_hostname
            .iter()
            .map(|name| {
                ServerName::try_from(name.clone()).map_err(|_| TransportError::TlsConfig {
                    reason: format!("invalid allowed hostname {name:?}"),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(AllowedNames {
            common_names: info.allowed_cn.clone(),
            hostnames,
        }))
    }

    /// Passes when the certificate's CN is an allowed CN, or an allowed hostname is valid
    /// for it (DNS SANs with wildcards, IP SANs: Go's `VerifyHostname`).
    pub(crate) fn check(&self, end_entity: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        if !self.common_names.is_empty() {
            let cn = PeerCertificate::parse(end_entity).and_then(|c| c.common_name);
            if cn.is_some_and(|cn| self.common_names.contains(&cn)) {
                return Ok(());
            }
        }
        if !self.hostnames.is_empty() {
            let parsed = ParsedCertificate::try_from(end_entity)?;
            if self
                .hostnames
                .iter()
                .any(|name| verify_server_name(&parsed, name).is_ok())
            {
                return Ok(());
            }
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
        // Either list may grant access.
        assert!(names(&["member-2"], &["x.etcd.local"]).check(&peer).is_ok());
        let err = names(&["member-2"], &[]).check(&peer).unwrap_err();
        assert!(
            err.to_string()
                .contains("client certificate authentication failed"),
            "{err}"
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
