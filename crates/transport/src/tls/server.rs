//! A listener's TLS side: the rustls server config built from a [`TlsInfo`], rebuilt
//! when its files change on disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;

use super::allowed::AllowedNames;
use super::info::TlsInfo;
use super::pem;
use super::stamp::FileStamps;
use super::suites::Policy;
use super::verifier::ClientVerifier;
use crate::error::TransportError;

/// ALPN offered by listeners: etcd offers `h2` (gRPC clients require it); `http/1.1`
/// keeps clients that offer only HTTP/1.1 working.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The TLS settings of one listener and the config currently built from them.
#[derive(Debug)]
pub(crate) struct ServerTls {
    info: TlsInfo,
    policy: Policy,
    allowed: Option<AllowedNames>,
    /// The files the config is built from (certificate, key, CA, CRL).
    files: Vec<PathBuf>,
    state: Mutex<Loaded>,
}

/// Invariant: `config` was built from the files as they were at `stamps`; `failed`
/// holds the stamps of the last rebuild that failed, so a broken rotation is logged
/// once, not on every handshake.
#[derive(Debug)]
struct Loaded {
    stamps: FileStamps,
    config: Arc<ServerConfig>,
    failed: Option<FileStamps>,
}

impl ServerTls {
    /// Loads and checks everything once, so a listener with bad TLS settings fails to
    /// start. `info` must not be empty (the caller reports that as `TlsRequired`).
    pub(crate) fn new(info: &TlsInfo) -> Result<ServerTls, TransportError> {
        let (Some(cert), Some(key)) = (&info.cert_file, &info.key_file) else {
            return Err(both_required(
                info.cert_file.as_deref(),
                info.key_file.as_deref(),
            ));
        };
        if info.client_cert_auth && info.trusted_ca_file.is_none() {
            return Err(TransportError::TlsConfig {
                reason: "client certificate authentication needs a trusted CA file".into(),
            });
        }
        let policy = Policy::new(info)?;
        let allowed = AllowedNames::new(info)?;
        let files: Vec<PathBuf> = [Some(cert), Some(key)]
            .into_iter()
            .chain([info.trusted_ca_file.as_ref(), info.crl_file.as_ref()])
            .flatten()
            .cloned()
            .collect();
        let stamps = FileStamps::of(&files);
        let config = build(info, &policy, &allowed)?;
        Ok(ServerTls {
            info: info.clone(),
            policy,
            allowed,
            files,
            state: Mutex::new(Loaded {
                stamps,
                config,
                failed: None,
            }),
        })
    }

    /// Whether a client certificate's SANs must match the client's address.
    pub(crate) fn checks_client_san(&self) -> bool {
        !self.info.skip_client_san_verification
    }

    /// The config for the next handshake, rebuilt first if a file changed. A rebuild
    /// that fails (a half-written rotation, say) keeps the previous config.
    pub(crate) fn config(&self) -> Arc<ServerConfig> {
        let stamps = FileStamps::of(&self.files);
        let mut state = self.lock();
        if stamps == state.stamps || state.failed.as_ref() == Some(&stamps) {
            return Arc::clone(&state.config);
        }
        match build(&self.info, &self.policy, &self.allowed) {
            Ok(config) => {
                tracing::info!(files = ?self.files, "reloaded TLS certificate files");
                state.config = config;
                state.stamps = stamps;
                state.failed = None;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot reload TLS certificate files; keeping the previous ones");
                state.failed = Some(stamps);
            }
        }
        Arc::clone(&state.config)
    }

    fn lock(&self) -> MutexGuard<'_, Loaded> {
        // The state is replaced whole, so a panic elsewhere cannot leave it torn.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// etcd's wording when only one of certificate and key is given.
pub(crate) fn both_required(cert: Option<&Path>, key: Option<&Path>) -> TransportError {
    let show = |p: Option<&Path>| p.map(|p| p.display().to_string()).unwrap_or_default();
    TransportError::TlsConfig {
        reason: format!(
            "KeyFile and CertFile must both be present[key: {}, cert: {}]",
            show(key),
            show(cert)
        ),
    }
}

fn config_err(err: impl std::fmt::Display) -> TransportError {
    TransportError::TlsConfig {
        reason: err.to_string(),
    }
}

fn build(
    info: &TlsInfo,
    policy: &Policy,
    allowed: &Option<AllowedNames>,
) -> Result<Arc<ServerConfig>, TransportError> {
    let (Some(cert), Some(key)) = (&info.cert_file, &info.key_file) else {
        return Err(both_required(
            info.cert_file.as_deref(),
            info.key_file.as_deref(),
        ));
    };
    let certified = pem::certified_key(cert, key, &policy.provider)?;
    let builder = ServerConfig::builder_with_provider(Arc::clone(&policy.provider))
        .with_protocol_versions(&policy.versions)
        .map_err(config_err)?;
    // As etcd: a trusted CA alone already makes client certificates mandatory.
    let builder = match &info.trusted_ca_file {
        Some(ca) => {
            let roots = Arc::new(pem::root_store(ca)?);
            let mut chain =
                WebPkiClientVerifier::builder_with_provider(roots, Arc::clone(&policy.provider));
            if let Some(crl) = &info.crl_file {
                chain = chain
                    .with_crls(pem::crls(crl)?)
                    .allow_unknown_revocation_status();
            }
            let chain = chain.build().map_err(|err| match &info.crl_file {
                Some(crl) => TransportError::TlsFile {
                    what: "CRL",
                    path: crl.clone(),
                    reason: err.to_string(),
                },
                None => config_err(err),
            })?;
            builder.with_client_cert_verifier(Arc::new(ClientVerifier {
                chain,
                allowed: allowed.clone(),
            }))
        }
        None => builder.with_no_client_auth(),
    };
    let mut config =
        builder.with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}
