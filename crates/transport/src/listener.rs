//! A bound listener for one etcd URL (plaintext or TLS) and its accept loop primitive.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::accepted::Accepted;
use crate::error::TransportError;
use crate::listen_url::{ListenAddr, classify, resolve_listen};
use crate::options::ListenOptions;
use crate::socket::{bind_tcp, bind_unix};
use crate::socket_file::SocketFile;
use crate::timed::TimedStream;
use crate::tls::{ServerTls, TlsInfo};

#[derive(Debug)]
enum Inner {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// A listening socket for one etcd URL.
///
/// Dropping it closes the socket at once (the port is free again) and removes the unix
/// socket file it created.
#[derive(Debug)]
pub struct Listener {
    // Declared before `_socket_file` so the socket is closed before its file is removed.
    inner: Inner,
    url: Url,
    addr: ListenAddr,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Set exactly for secure schemes (`https`, `unixs`).
    tls: Option<Arc<ServerTls>>,
    handshake_timeout: Option<Duration>,
    /// One permit per open accepted connection when `max_connections` is set.
    slots: Option<Arc<Semaphore>>,
    _socket_file: Option<SocketFile>,
}

impl Listener {
    /// Binds (socket2: reuse flags, backlog, non-blocking) and registers with tokio.
    /// A unix socket file that already exists at the path is removed first, as etcd does.
    ///
    /// Secure schemes (`https`, `unixs`) need `opts.tls` with a certificate and key
    /// ([`TransportError::TlsRequired`] otherwise); every TLS file is loaded and checked
    /// before the socket is bound, so bad TLS settings fail here.
    pub async fn bind(url: &Url, opts: &ListenOptions) -> Result<Listener, TransportError> {
        let (target, secure) = classify(url)?;
        let tls = if secure {
            Some(Arc::new(server_tls(url, opts.tls.as_ref())?))
        } else {
            None
        };
        let (inner, addr, socket_file) = match resolve_listen(&target).await? {
            ListenAddr::Tcp(wanted) => {
                let listener = bind_tcp(wanted, opts)?;
                let bound = listener.local_addr().map_err(|source| TransportError::Io {
                    op: "getsockname",
                    target: wanted.to_string(),
                    source,
                })?;
                (Inner::Tcp(listener), ListenAddr::Tcp(bound), None)
            }
            ListenAddr::Unix(path) => {
                let (listener, file) = bind_unix(&path, opts)?;
                (Inner::Unix(listener), ListenAddr::Unix(path), Some(file))
            }
        };
        let slots = opts
            .max_connections
            .map(|max| Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS))));
        tracing::debug!(%url, %addr, "listening");
        Ok(Listener {
            inner,
            url: url.clone(),
            addr,
            read_timeout: opts.read_timeout,
            write_timeout: opts.write_timeout,
            tls,
            handshake_timeout: opts.handshake_timeout,
            slots,
            _socket_file: socket_file,
        })
    }

    /// Waits for a free `max_connections` slot, then for the next connection.
    /// TCP connections get TCP_NODELAY. Cancel-safe: dropping the future loses nothing.
    ///
    /// Returns before any TLS handshake: call [`Accepted::handshake`] in the
    /// connection's own task, so a slow client cannot hold up the accept loop.
    ///
    /// An error concerns one connection or a passing resource shortage (EMFILE,
    /// ECONNABORTED, ...); the listener stays usable, so serve loops log and retry.
    pub async fn accept(&self) -> io::Result<Accepted> {
        let slot = match &self.slots {
            Some(slots) => Some(
                Arc::clone(slots)
                    .acquire_owned()
                    .await
                    .map_err(|_| io::Error::other("connection limit closed"))?,
            ),
            None => None,
        };
        match &self.inner {
            Inner::Tcp(listener) => {
                let (stream, peer) = listener.accept().await?;
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(%peer, %err, "setting TCP_NODELAY");
                }
                let stream = TimedStream::tcp(stream, self.read_timeout, self.write_timeout);
                Ok(self.accepted(stream, Some(peer), slot))
            }
            Inner::Unix(listener) => {
                let (stream, _) = listener.accept().await?;
                let stream = TimedStream::unix(stream, self.read_timeout, self.write_timeout);
                Ok(self.accepted(stream, None, slot))
            }
        }
    }

    fn accepted(
        &self,
        stream: TimedStream,
        peer: Option<SocketAddr>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Accepted {
        Accepted::new(stream, peer, self.tls.clone(), self.handshake_timeout, slot)
    }

    /// Whether accepted connections run TLS (`https`/`unixs`).
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The bound address; for TCP it carries the real port when bound to port 0.
    pub fn local_addr(&self) -> &ListenAddr {
        &self.addr
    }

    /// The URL exactly as given to [`Listener::bind`].
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL with the real bound port (e.g. `http://127.0.0.1:43211` for port 0);
    /// unix URLs are returned unchanged.
    pub fn bound_url(&self) -> Url {
        let mut url = self.url.clone();
        if let ListenAddr::Tcp(addr) = &self.addr {
            // Cannot fail: http(s) URLs always have a host.
            let _ = url.set_port(Some(addr.port()));
        }
        url
    }
}

fn server_tls(url: &Url, tls: Option<&TlsInfo>) -> Result<ServerTls, TransportError> {
    match tls {
        Some(info) if !info.is_empty() => ServerTls::new(info),
        _ => Err(TransportError::TlsRequired {
            url: url.to_string(),
        }),
    }
}
