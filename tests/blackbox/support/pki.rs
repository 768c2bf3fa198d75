//! A throw-away PKI for TLS tests: CAs and leaf certificates made with rcgen, written as
//! PEM files into a temporary directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SerialNumber,
};
use tempfile::TempDir;

/// Serial numbers unique within the test binary.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1000);

fn named(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

/// A certificate authority.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A leaf certificate and its key, as PEM.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Ca {
    pub fn new(cn: &str) -> Ca {
        let mut params = CertificateParams::default();
        params.distinguished_name = named(cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("CA certificate");
        Ca { issuer }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// An ECDSA P-256 certificate for `127.0.0.1` and `localhost`, usable as server and
    /// client certificate, with common name `cn`.
    pub fn leaf(&self, cn: &str) -> Leaf {
        let sans = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let mut params = CertificateParams::new(sans).expect("SANs");
        params.distinguished_name = named(cn);
        params.serial_number = Some(SerialNumber::from(
            NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
        ));
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("leaf key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// Paths of a certificate and its key.
#[derive(Clone, Debug)]
pub struct Identity {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A temporary directory of PEM files.
pub struct Files {
    pub dir: TempDir,
}

impl Files {
    pub fn new() -> Files {
        Files {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `contents` to `name` atomically (temporary file, then rename), so a
    /// reader never sees a half-written file.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        write_atomically(&path, contents);
        path
    }

    /// Writes the CA as `{name}.pem`.
    pub fn ca(&self, name: &str, ca: &Ca) -> PathBuf {
        self.write(&format!("{name}.pem"), &ca.pem())
    }

    /// Writes `leaf` as `{name}.pem` and `{name}-key.pem`.
    pub fn identity(&self, name: &str, leaf: &Leaf) -> Identity {
        Identity {
            cert: self.write(&format!("{name}.pem"), &leaf.cert_pem),
            key: self.write(&format!("{name}-key.pem"), &leaf.key_pem),
        }
    }
}

fn write_atomically(path: &Path, contents: &str) {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, contents).expect("write PEM");
    std::fs::rename(&tmp, path).expect("rename PEM");
}
