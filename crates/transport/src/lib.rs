//! Listeners and dialers for etcd's client and peer URLs (etcd's `client/pkg/transport`
//! in spirit): TCP via socket2, unix sockets, per-connection timeouts and connection
//! limits, and TLS via rustls (client certificate authentication, CRLs, allowed CN and
//! hostname, cipher suites, TLS versions, certificate reloading, self-signed
//! certificates for auto TLS).

mod accepted;
mod conn;
mod deadline;
mod dial;
mod error;
mod listen_url;
mod listener;
mod options;
mod socket;
mod socket_file;
mod timed;
mod tls;

pub use accepted::Accepted;
pub use conn::Conn;
pub use dial::dial;
pub use error::{TransportError, go_quote};
pub use listen_url::{ListenAddr, parse_etcd_url, parse_listen_url};
pub use listener::Listener;
pub use options::ListenOptions;
pub use tls::{PeerCertificate, TlsInfo, TlsVersion, self_signed};
