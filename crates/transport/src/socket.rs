//! Creating listening sockets with socket2 (reuse flags, backlog, non-blocking) and
//! handing them to tokio.

use std::net::SocketAddr;
use std::path::Path;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::net::{TcpListener, UnixListener};

use crate::error::TransportError;
use crate::options::ListenOptions;
use crate::socket_file::{self, SocketFile};

fn backlog(opts: &ListenOptions) -> i32 {
    i32::try_from(opts.backlog).unwrap_or(i32::MAX)
}

/// Binds and listens on a TCP address. Must run inside a tokio runtime.
pub(crate) fn bind_tcp(
    addr: SocketAddr,
    opts: &ListenOptions,
) -> Result<TcpListener, TransportError> {
    let err = |op: &'static str| {
        move |source| TransportError::Bind {
            network: "tcp",
            addr: addr.to_string(),
            op,
            source,
        }
    };
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(err("socket"))?;
    if addr.is_ipv6() {
        // Go listens dual-stack on "[::]"; keep that regardless of the system default.
        socket.set_only_v6(false).map_err(err("setsockopt"))?;
    }
    socket
        .set_reuse_address(opts.reuse_address)
        .map_err(err("setsockopt"))?;
    if opts.reuse_port {
        socket.set_reuse_port(true).map_err(err("setsockopt"))?;
    }
    socket.set_nonblocking(true).map_err(err("setsockopt"))?;
    socket.bind(&addr.into()).map_err(err("bind"))?;
    socket.listen(backlog(opts)).map_err(err("listen"))?;
    TcpListener::from_std(socket.into()).map_err(|source| TransportError::Io {
        op: "register listener",
        target: addr.to_string(),
        source,
    })
}

/// Removes a stale socket file, then binds and listens on `path`. Must run inside a
/// tokio runtime. The returned [`SocketFile`] removes the file again when dropped.
pub(crate) fn bind_unix(
    path: &Path,
    opts: &ListenOptions,
) -> Result<(UnixListener, SocketFile), TransportError> {
    let err = |op: &'static str| {
        move |source| TransportError::Bind {
            network: "unix",
            addr: path.display().to_string(),
            op,
            source,
        }
    };
    socket_file::remove_stale(path)?;
    let address = SockAddr::unix(path).map_err(err("bind"))?;
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(err("socket"))?;
    socket.set_nonblocking(true).map_err(err("setsockopt"))?;
    socket.bind(&address).map_err(err("bind"))?;
    let file = SocketFile::created(path);
    socket.listen(backlog(opts)).map_err(err("listen"))?;
    let listener = UnixListener::from_std(socket.into()).map_err(|source| TransportError::Io {
        op: "register listener",
        target: path.display().to_string(),
        source,
    })?;
    Ok((listener, file))
}
