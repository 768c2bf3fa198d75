//! TLS settings of a listener: the slot the TLS task fills in; fields only for now.

use std::path::PathBuf;

/// TLS material and policy for one listener, mirroring etcd's `transport.TLSInfo`.
#[derive(Clone, Debug, Default)]
pub struct TlsInfo {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub trusted_ca_file: Option<PathBuf>,
    pub client_cert_auth: bool,
    pub crl_file: Option<PathBuf>,
    pub allowed_cn: Option<String>,
    pub allowed_hostname: Option<String>,
    pub auto_tls: bool,
}

impl TlsInfo {
    /// True when neither a certificate nor a key is given, as etcd's `TLSInfo.Empty`:
    /// the other fields alone do not make a listener serve TLS.
    pub fn is_empty(&self) -> bool {
        self.cert_file.is_none() && self.key_file.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_no_cert_and_no_key() {
        assert!(TlsInfo::default().is_empty());
        let only_ca = TlsInfo {
            trusted_ca_file: Some("ca.pem".into()),
            client_cert_auth: true,
            ..TlsInfo::default()
        };
        assert!(only_ca.is_empty());
        let with_cert = TlsInfo {
            cert_file: Some("server.pem".into()),
            ..TlsInfo::default()
        };
        assert!(!with_cert.is_empty());
        let with_key = TlsInfo {
            key_file: Some("server-key.pem".into()),
            ..TlsInfo::default()
        };
        assert!(!with_key.is_empty());
    }
}
