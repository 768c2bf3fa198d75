//! Reading TLS files: certificate chains, private keys, CA bundles and CRLs, with
//! errors that name the file and its role.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

use crate::error::{TransportError, os_message};

fn file_err(what: &'static str, path: &Path, reason: impl Into<String>) -> TransportError {
    TransportError::TlsFile {
        what,
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TransportError> {
    fs::read(path).map_err(|err| file_err(what, path, os_message(&err)))
}

/// Every `CERTIFICATE` block of a PEM file; at least one.
pub(crate) fn certificates(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let bytes = read(what, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| file_err(what, path, format!("invalid PEM: {err}")))?;
    if certs.is_empty() {
        return Err(file_err(what, path, "no PEM certificate found"));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
pub(crate) fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TransportError> {
    let bytes = read("key", path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|err| match err {
        rustls_pki_types::pem::Error::NoItemsFound => {
            file_err("key", path, "no PEM private key found")
        }
        other => file_err("key", path, format!("invalid PEM: {other}")),
    })
}

/// A certificate chain and its key, checked to belong together.
pub(crate) fn certified_key(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, TransportError> {
    let chain = certificates("certificate", cert)?;
    let der = private_key(key)?;
    let certified = CertifiedKey::from_der(chain, der, provider).map_err(|err| match err {
        rustls::Error::InconsistentKeys(_) => {
            file_err("key", key, "private key does not match public key")
        }
        other => file_err("key", key, other.to_string()),
    })?;
    Ok(Arc::new(certified))
}

/// The trust anchors of a CA bundle; at least one must be usable.
pub(crate) fn root_store(path: &Path) -> Result<RootCertStore, TransportError> {
    let certs = certificates("trusted CA", path)?;
    let mut store = RootCertStore::empty();
    let (valid, _invalid) = store.add_parsable_certificates(certs);
    if valid == 0 {
        return Err(file_err("trusted CA", path, "no usable CA certificate"));
    }
    Ok(store)
}

/// The CRLs of a file: PEM `X509 CRL` blocks, or the whole file as one DER CRL (Go's
/// `x509.ParseCRL` accepts both).
pub(crate) fn crls(
    path: &Path,
) -> Result<Vec<CertificateRevocationListDer<'static>>, TransportError> {
    let bytes = read("CRL", path)?;
    let pem = CertificateRevocationListDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| file_err("CRL", path, format!("invalid PEM: {err}")))?;
    if !pem.is_empty() {
        return Ok(pem);
    }
    if bytes.first() == Some(&0x30) {
        return Ok(vec![CertificateRevocationListDer::from(bytes)]);
    }
    Err(file_err("CRL", path, "no CRL found (expected PEM or DER)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent.pem");
        let err = certificates("certificate", &missing).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "certificate file {}: no such file or directory",
                missing.display()
            )
        );
        let empty = dir.path().join("empty.pem");
        fs::write(&empty, b"not pem at all").unwrap();
        let err = certificates("trusted CA", &empty).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("empty.pem: no PEM certificate found"),
            "{err}"
        );
        let err = private_key(&empty).unwrap_err();
        assert!(
            err.to_string().starts_with("key file ")
                && err.to_string().ends_with("no PEM private key found"),
            "{err}"
        );
        let err = crls(&empty).unwrap_err();
        assert!(err.to_string().starts_with("CRL file "), "{err}");
    }

    #[test]
    fn mismatched_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = rcgen::generate_simple_self_signed(vec!["a".into()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["b".into()]).unwrap();
        let cert = dir.path().join("a.pem");
        let key = dir.path().join("b-key.pem");
        fs::write(&cert, a.cert.pem()).unwrap();
        fs::write(&key, b.signing_key.serialize_pem()).unwrap();
        let provider = rustls::crypto::ring::default_provider();
        let err = certified_key(&cert, &key, &provider).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("b-key.pem: private key does not match public key"),
            "{err}"
        );
        let good = dir.path().join("a-key.pem");
        fs::write(&good, a.signing_key.serialize_pem()).unwrap();
        certified_key(&cert, &good, &provider).unwrap();
    }
}
