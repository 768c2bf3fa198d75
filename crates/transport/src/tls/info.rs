//! TLS material and policy of a listener or dialer, mirroring etcd's `transport.TLSInfo`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::TransportError;

/// A TLS protocol version etcd lets operators choose (`--tls-min-version`,
/// `--tls-max-version`); ordered, so `Tls12 < Tls13`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// etcd's spelling: `TLS1.2`, `TLS1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "TLS1.2",
            TlsVersion::Tls13 => "TLS1.3",
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TlsVersion {
    type Err = TransportError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "TLS1.2" => Ok(TlsVersion::Tls12),
            "TLS1.3" => Ok(TlsVersion::Tls13),
            _ => Err(TransportError::InvalidTlsVersion {
                value: value.to_owned(),
            }),
        }
    }
}

/// TLS material and policy for one listener (and for dialing), as etcd's `TLSInfo`.
///
/// Files are PEM. A listener re-reads them when their size, mtime or inode change, so
/// certificates can be rotated without a restart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsInfo {
    /// Certificate chain presented by a listener, and by a dialer unless
    /// `client_cert_file` is set.
    pub cert_file: Option<PathBuf>,
    /// Private key of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// CA bundle. A listener given one requires every client to present a certificate
    /// signed by it (as etcd, even without `client_cert_auth`); a dialer verifies the
    /// server against it (against Mozilla's roots when unset).
    pub trusted_ca_file: Option<PathBuf>,
    /// Require and verify client certificates; needs `trusted_ca_file`.
    pub client_cert_auth: bool,
    /// Certificate revocation list (PEM or DER, signed by the CA): client certificates
    /// listed in it are refused.
    pub crl_file: Option<PathBuf>,
    /// When non-empty, a verified peer certificate must have one of these common names.
    /// Mutually exclusive with `allowed_hostname`, as in etcd: setting both is
    /// [`TransportError::AllowedNamesExclusive`].
    pub allowed_cn: Vec<String>,
    /// When non-empty, one of these DNS names or IP addresses must be valid for a
    /// verified peer certificate (its SANs). Mutually exclusive with `allowed_cn`.
    pub allowed_hostname: Vec<String>,
    /// `--auto-tls`/`--peer-auto-tls`: the caller generates a certificate with
    /// [`self_signed`](crate::self_signed) when no files are given.
    pub auto_tls: bool,
    /// Go names of the TLS 1.2 cipher suites to allow (empty: rustls' defaults). TLS 1.3
    /// names are accepted but, as in Go, TLS 1.3 suites are not restricted.
    pub cipher_suites: Vec<String>,
    /// Lowest protocol version; `None` is TLS 1.2.
    pub min_version: Option<TlsVersion>,
    /// Highest protocol version; `None` is TLS 1.3.
    pub max_version: Option<TlsVersion>,
    /// Validity of certificates made by [`self_signed`](crate::self_signed); etcd's
    /// default is 1.
    pub self_signed_cert_validity_years: u32,
    /// Listener side: do not check a client certificate's SANs against the client's
    /// address. etcd checks them on peer listeners only, so client listeners set this.
    pub skip_client_san_verification: bool,
    /// Certificate a dialer presents, when different from `cert_file`.
    pub client_cert_file: Option<PathBuf>,
    /// Private key of `client_cert_file`.
    pub client_key_file: Option<PathBuf>,
    /// Dialer side: accept any server certificate (etcd does so for self-signed peers).
    pub insecure_skip_verify: bool,
    /// Dialer side: the name to verify the server certificate against, instead of the
    /// URL's host.
    pub server_name: Option<String>,
}

impl Default for TlsInfo {
    fn default() -> Self {
        TlsInfo {
            cert_file: None,
            key_file: None,
            trusted_ca_file: None,
            client_cert_auth: false,
            crl_file: None,
            allowed_cn: Vec::new(),
            allowed_hostname: Vec::new(),
            auto_tls: false,
            cipher_suites: Vec::new(),
            min_version: None,
            max_version: None,
            self_signed_cert_validity_years: 1,
            skip_client_san_verification: false,
            client_cert_file: None,
            client_key_file: None,
            insecure_skip_verify: false,
            server_name: None,
        }
    }
}

impl TlsInfo {
    /// True when neither a certificate nor a key is given, as etcd's `TLSInfo.Empty`:
    /// the other fields alone do not make a listener serve TLS.
    pub fn is_empty(&self) -> bool {
        self.cert_file.is_none() && self.key_file.is_none()
    }

    /// Checks what needs no file: cipher suite names, the version range and the allowed
    /// names (hostnames well-formed; not both CNs and hostnames). Binding and dialing check these too; this lets a config layer fail
    /// early with the same errors.
    pub fn validate(&self) -> Result<(), TransportError> {
        super::suites::Policy::new(self)?;
        super::allowed::AllowedNames::new(self)?;
        Ok(())
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

    #[test]
    fn versions_parse_and_print_as_etcd() {
        assert_eq!("TLS1.2".parse::<TlsVersion>().unwrap(), TlsVersion::Tls12);
        assert_eq!("TLS1.3".parse::<TlsVersion>().unwrap(), TlsVersion::Tls13);
        assert_eq!(TlsVersion::Tls13.to_string(), "TLS1.3");
        assert!(TlsVersion::Tls12 < TlsVersion::Tls13);
        let err = "TLS1.1".parse::<TlsVersion>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected TLS version \"TLS1.1\" (must be one of: TLS1.2, TLS1.3)"
        );
    }

    #[test]
    fn validate_reports_bad_suites_and_ranges() {
        let bad_suite = TlsInfo {
            cipher_suites: vec!["TLS_RSA_WITH_RC4_128_SHA".into()],
            ..TlsInfo::default()
        };
        assert!(matches!(
            bad_suite.validate(),
            Err(TransportError::UnsupportedCipherSuite { name }) if name == "TLS_RSA_WITH_RC4_128_SHA"
        ));
        let inverted = TlsInfo {
            min_version: Some(TlsVersion::Tls13),
            max_version: Some(TlsVersion::Tls12),
            ..TlsInfo::default()
        };
        assert_eq!(
            inverted.validate().unwrap_err().to_string(),
            "min version (TLS1.3) is greater than max version (TLS1.2)"
        );
        assert!(TlsInfo::default().validate().is_ok());
    }
}
