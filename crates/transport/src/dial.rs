//! The dialing side: connecting to an `http://` or `unix://` URL (used by peers and tests).

use std::io;
use std::time::Duration;

use tokio::net::{TcpStream, UnixStream};
use tokio::time::{Instant, timeout_at};
use url::Url;

use crate::conn::Conn;
use crate::error::TransportError;
use crate::listen_url::{Target, classify, resolve_all};

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "i/o timeout")
}

/// Connects to `url` within `connect_timeout` (name lookup included), trying each
/// resolved address in turn. The connection applies the given read/write timeouts;
/// TCP connections get TCP_NODELAY. Secure schemes fail with
/// [`TransportError::TlsUnsupported`] until TLS is implemented.
pub async fn dial(
    url: &Url,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
) -> Result<Conn, TransportError> {
    let (target, secure) = classify(url)?;
    if secure {
        return Err(TransportError::TlsUnsupported {
            url: url.to_string(),
        });
    }
    let deadline = Instant::now() + connect_timeout;
    let connect_err = |network, addr: String, source| TransportError::Connect {
        network,
        addr,
        source,
    };
    let addrs = match &target {
        Target::Unix(path) => {
            let addr = path.display().to_string();
            let stream = match timeout_at(deadline, UnixStream::connect(path)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(err)) => return Err(connect_err("unix", addr, err)),
                Err(_) => return Err(connect_err("unix", addr, timed_out())),
            };
            return Ok(Conn::unix(stream, read_timeout, write_timeout, None));
        }
        Target::Tcp { .. } => match timeout_at(deadline, resolve_all(&target)).await {
            Ok(addrs) => addrs?,
            Err(_) => return Err(connect_err("tcp", target.host_port(), timed_out())),
        },
    };
    let mut last_err = None;
    for addr in addrs {
        match timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(%addr, %err, "setting TCP_NODELAY");
                }
                return Ok(Conn::tcp(stream, addr, read_timeout, write_timeout, None));
            }
            Ok(Err(err)) => last_err = Some(connect_err("tcp", addr.to_string(), err)),
            Err(_) => return Err(connect_err("tcp", addr.to_string(), timed_out())),
        }
    }
    Err(last_err.unwrap_or_else(|| {
        connect_err(
            "tcp",
            target.host_port(),
            io::Error::new(io::ErrorKind::NotFound, "no such host"),
        )
    }))
}
