//! A throw-away PKI for the TLS tests: CAs, leaf certificates and CRLs made with rcgen,
//! written as PEM files into a temp dir.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use etcd_transport::TlsInfo;
use rcgen::{
    CertificateParams, CertificateRevocationListParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams,
    SerialNumber,
};

/// Serial numbers unique within the test binary, so CRL entries name one certificate.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1000);

fn named(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    serial: SerialNumber,
}

impl Ca {
    pub fn new(cn: &str) -> Ca {
        let mut params = CertificateParams::default();
        params.distinguished_name = named(cn);
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate usable as server and client certificate. `sans` holds DNS names
    /// and IP addresses; empty means no SAN extension at all.
    pub fn leaf(&self, cn: &str, sans: &[&str]) -> Leaf {
        let mut params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name = named(cn);
        let serial = SerialNumber::from(NEXT_SERIAL.fetch_add(1, Ordering::Relaxed));
        params.serial_number = Some(serial.clone());
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            serial,
        }
    }

    /// A PEM CRL revoking `revoked`.
    pub fn crl(&self, revoked: &[&Leaf]) -> String {
        let now = time::OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now - time::Duration::hours(1),
            next_update: now + time::Duration::days(1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|leaf| RevokedCertParams {
                    serial_number: leaf.serial.clone(),
                    revocation_time: now - time::Duration::minutes(5),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&self.issuer).unwrap().pem().unwrap()
    }
}

/// A temp dir holding PEM files.
pub struct Files {
    pub dir: tempfile::TempDir,
}

impl Files {
    pub fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Writes `leaf` as `{name}.pem` and `{name}-key.pem`; a TlsInfo presenting it.
    pub fn identity(&self, name: &str, leaf: &Leaf) -> TlsInfo {
        TlsInfo {
            cert_file: Some(self.write(&format!("{name}.pem"), &leaf.cert_pem)),
            key_file: Some(self.write(&format!("{name}-key.pem"), &leaf.key_pem)),
            ..TlsInfo::default()
        }
    }

    /// Writes the CA as `{name}.pem`.
    pub fn ca(&self, name: &str, ca: &Ca) -> PathBuf {
        self.write(&format!("{name}.pem"), &ca.pem())
    }
}
