//! A bound listener for one etcd URL and its accept loop primitive.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::Semaphore;
use url::Url;

use crate::conn::Conn;
use crate::error::TransportError;
use crate::listen_url::{ListenAddr, classify, resolve_listen};
use crate::options::ListenOptions;
use crate::socket::{bind_tcp, bind_unix};
use crate::socket_file::SocketFile;
use crate::tls::TlsInfo;

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
    /// One permit per open accepted connection when `max_connections` is set.
    slots: Option<Arc<Semaphore>>,
    _socket_file: Option<SocketFile>,
}

impl Listener {
    /// Binds (socket2: reuse flags, backlog, non-blocking) and registers with tokio.
    /// A unix socket file that already exists at the path is removed first, as etcd does.
    ///
    /// Secure schemes (`https`, `unixs`) need `opts.tls` with a certificate and key, and
    /// then fail with [`TransportError::TlsUnsupported`] until TLS is implemented.
    pub async fn bind(url: &Url, opts: &ListenOptions) -> Result<Listener, TransportError> {
        let (target, secure) = classify(url)?;
        if secure {
            check_tls(url, opts.tls.as_ref())?;
        }
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
            slots,
            _socket_file: socket_file,
        })
    }

    /// Waits for a free `max_connections` slot, then for the next connection.
    /// TCP connections get TCP_NODELAY. Cancel-safe: dropping the future loses nothing.
    ///
    /// An error concerns one connection or a passing resource shortage (EMFILE,
    /// ECONNABORTED, ...); the listener stays usable, so serve loops log and retry.
    pub async fn accept(&self) -> io::Result<Conn> {
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
                Ok(Conn::tcp(
                    stream,
                    peer,
                    self.read_timeout,
                    self.write_timeout,
                    slot,
                ))
            }
            Inner::Unix(listener) => {
                let (stream, _) = listener.accept().await?;
                Ok(Conn::unix(
                    stream,
                    self.read_timeout,
                    self.write_timeout,
                    slot,
                ))
            }
        }
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

fn check_tls(url: &Url, tls: Option<&TlsInfo>) -> Result<(), TransportError> {
    match tls {
        Some(info) if !info.is_empty() => Err(TransportError::TlsUnsupported {
            url: url.to_string(),
        }),
        _ => Err(TransportError::TlsRequired {
            url: url.to_string(),
        }),
    }
}
