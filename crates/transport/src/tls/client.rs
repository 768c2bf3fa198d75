//! A dialer's TLS side: the rustls client config built from a [`TlsInfo`] (etcd's
//! `TLSInfo.ClientConfig`), read afresh for each dial so rotated files are picked up.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::sign::SingleCertAndKey;
use rustls::{ClientConfig, RootCertStore};

use super::allowed::AllowedNames;
use super::info::TlsInfo;
use super::pem;
use super::server::both_required;
use super::suites::Policy;
use super::verifier::{ServerVerifier, SkipServerVerification};
use crate::error::TransportError;

fn config_err(err: impl std::fmt::Display) -> TransportError {
    TransportError::TlsConfig {
        reason: err.to_string(),
    }
}

/// Verifies the server against `trusted_ca_file` (Mozilla's roots when unset) unless
/// `insecure_skip_verify`; presents `client_cert_file`/`client_key_file`, else
/// `cert_file`/`key_file`, else no certificate.
pub(crate) fn client_config(info: &TlsInfo) -> Result<Arc<ClientConfig>, TransportError> {
    let policy = Policy::new(info)?;
    let provider = &policy.provider;
    let verifier: Arc<dyn ServerCertVerifier> = if info.insecure_skip_verify {
        Arc::new(SkipServerVerification {
            provider: Arc::clone(provider),
        })
    } else {
        let roots = match &info.trusted_ca_file {
            Some(ca) => pem::root_store(ca)?,
            None => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        let chain =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
                .build()
                .map_err(config_err)?;
        Arc::new(ServerVerifier {
            chain,
            allowed: AllowedNames::new(info)?,
        })
    };
    let builder = ClientConfig::builder_with_provider(Arc::clone(provider))
        .with_protocol_versions(&policy.versions)
        .map_err(config_err)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let (cert, key) = match (&info.client_cert_file, &info.client_key_file) {
        (None, None) => (&info.cert_file, &info.key_file),
        given => given,
    };
    let config = match (cert, key) {
        (Some(cert), Some(key)) => {
            let certified = pem::certified_key(cert, key, provider)?;
            builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(certified)))
        }
        (None, None) => builder.with_no_client_auth(),
        (cert, key) => return Err(both_required(cert.as_deref(), key.as_deref())),
    };
    Ok(Arc::new(config))
}
