//! Errors of starting and running an embedded member.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::tls_setup::TlsSide;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Listen(#[from] etcd_transport::TransportError),
    /// A TLS setting of one side is unusable (cipher suite, version range, allowed
    /// names, a certificate that cannot be generated, ...).
    #[error("{side} TLS: {source}")]
    Tls {
        side: TlsSide,
        source: etcd_transport::TransportError,
    },
    /// A TLS file given by `--{flag}` cannot be opened.
    #[error("--{flag} {}: {reason}", path.display())]
    TlsFile {
        flag: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// A TLS flag that is meaningless without another one.
    #[error("--{flag} requires --{needs}")]
    TlsFlagNeeds {
        flag: &'static str,
        needs: &'static str,
    },
    /// etcd's error for an `https`/`unixs` client URL without a certificate.
    #[error(
        "TLS key/cert (--cert-file, --key-file) must be provided for client url {url} with HTTPS scheme"
    )]
    ClientTlsRequired { url: String },
    /// etcd's error for an `https`/`unixs` metrics URL without a client certificate.
    #[error(
        "client TLS key/cert (--cert-file, --key-file) must be provided for metrics secure url"
    )]
    MetricsTlsRequired,
    #[error(transparent)]
    Server(#[from] etcd_server::ServerError),
    #[error("{0}")]
    Join(String),
    #[error("cannot set up logging: {0}")]
    Logging(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
