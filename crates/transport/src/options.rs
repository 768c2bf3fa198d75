//! Socket options and per-connection policy of a listener.

use std::time::Duration;

use crate::tls::TlsInfo;

/// How a [`Listener`](crate::Listener) binds and what it applies to each connection.
#[derive(Clone, Debug)]
pub struct ListenOptions {
    /// SO_REUSEADDR: rebinding a port whose old connections linger in TIME_WAIT.
    pub reuse_address: bool,
    /// SO_REUSEPORT: several listeners share one port (all of them must set it).
    pub reuse_port: bool,
    /// Length of the kernel's accept queue (capped by the system's `somaxconn`).
    pub backlog: u32,
    /// A read that stays pending this long, while no write of the connection completes
    /// either, fails with `io::ErrorKind::TimedOut` (etcd's per-read deadline). Writes
    /// keep a pending read alive, so a long response (a raft stream) whose client sends
    /// nothing meanwhile is not cut; a connection idle both ways is.
    pub read_timeout: Option<Duration>,
    /// A write that stays pending this long fails with `io::ErrorKind::TimedOut`
    /// (etcd's per-write deadline): the other side stopped reading.
    pub write_timeout: Option<Duration>,
    /// `accept` waits while this many accepted connections are still open.
    /// `Some(0)` makes every `accept` wait forever.
    pub max_connections: Option<usize>,
    /// Used only for secure schemes (`https`, `unixs`); ignored for `http`/`unix`, where
    /// etcd serves plaintext even when certificates are configured.
    pub tls: Option<TlsInfo>,
    /// Bound on one connection's TLS handshake (and its certificate checks), so clients
    /// that never finish one do not hold a connection slot forever.
    pub handshake_timeout: Option<Duration>,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            reuse_address: true,
            reuse_port: false,
            backlog: 1024,
            read_timeout: None,
            write_timeout: None,
            max_connections: None,
            tls: None,
            handshake_timeout: Some(Duration::from_secs(10)),
        }
    }
}
