//! Errors of starting and running an embedded member.

use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Listen(#[from] etcd_transport::TransportError),
    #[error(transparent)]
    Server(#[from] etcd_server::ServerError),
    #[error("{0}")]
    Join(String),
    #[error("cannot set up logging: {0}")]
    Logging(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
