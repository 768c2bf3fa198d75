//! Embedding etcd: the configuration a member starts from and the wiring that starts it
//! (listeners, server, client and peer serving), as etcd's `embed` package.

mod authority_fix_stream;
pub mod config;
mod error;
mod hpack_authority;
mod http;
mod join;
pub mod logging;
mod serve;
mod start;
mod tls_setup;
mod write_coalescing;

pub use error::EmbedError;
pub use serve::PeerCommonName;
pub use start::{Etcd, server_config, start};
pub use tls_setup::TlsSide;
