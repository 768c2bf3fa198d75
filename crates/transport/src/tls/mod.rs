//! TLS via rustls (ring provider): settings, file loading, verification policy, the
//! server and client configs, and self-signed certificates for auto TLS.

mod allowed;
mod client;
mod info;
mod peer_cert;
mod pem;
mod san_check;
mod self_cert;
mod server;
mod stamp;
mod suites;
mod verifier;

pub(crate) use client::client_config;
pub use info::{TlsInfo, TlsVersion};
pub use peer_cert::PeerCertificate;
pub(crate) use san_check::check_client_san;
pub use self_cert::self_signed;
pub(crate) use server::ServerTls;
pub(crate) use suites::go_name;
