//! The dialing side: connecting to an `http(s)://` or `unix(s)://` URL (used by peers
//! and tests).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::net::{TcpStream, UnixStream};
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;
use url::Url;

use crate::conn::Conn;
use crate::error::TransportError;
use crate::listen_url::{Target, classify, resolve_all};
use crate::timed::TimedStream;
use crate::tls::{PeerCertificate, TlsInfo, client_config};

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "i/o timeout")
}

/// Connects to `url` within `connect_timeout` (name lookup and TLS handshake included),
/// trying each resolved address in turn. The connection applies the given read/write
/// timeouts; TCP connections get TCP_NODELAY.
///
/// Secure schemes (`https`, `unixs`) run a TLS handshake configured by `tls` (a default
/// [`TlsInfo`] when `None`: Mozilla's roots, no client certificate); plaintext schemes
/// ignore `tls`, as etcd does.
pub async fn dial(
    url: &Url,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    tls: Option<&TlsInfo>,
) -> Result<Conn, TransportError> {
    let (target, secure) = classify(url)?;
    let deadline = Instant::now() + connect_timeout;
    // Build the TLS config first: bad settings fail before any connection is made.
    let tls_setup = if secure {
        let default = TlsInfo::default();
        let info = tls.unwrap_or(&default);
        Some((client_config(info)?, server_name(url, &target, info)?))
    } else {
        None
    };
    let (stream, peer, addr) = connect(&target, deadline, read_timeout, write_timeout).await?;
    let Some((config, name)) = tls_setup else {
        return Ok(Conn::plain(stream, peer, None));
    };
    let handshake_err = |source| TransportError::Handshake {
        addr: addr.clone(),
        source,
    };
    let stream = match timeout_at(deadline, TlsConnector::from(config).connect(name, stream)).await
    {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => return Err(handshake_err(err)),
        Err(_) => return Err(handshake_err(timed_out())),
    };
    let session = stream.get_ref().1;
    // Verified unless verification was skipped; only then does it identify the server.
    let insecure = tls.is_some_and(|info| info.insecure_skip_verify);
    let peer_cert = session
        .peer_certificates()
        .and_then(|chain| chain.first())
        .filter(|_| !insecure)
        .and_then(|der| PeerCertificate::parse(der));
    Ok(Conn::tls_client(stream, peer, peer_cert))
}

/// The name the server certificate must match: `tls.server_name`, else the URL's host
/// (an IP literal is matched against IP SANs), else `localhost` for a path-only
/// `unixs://` URL.
fn server_name(
    url: &Url,
    target: &Target,
    info: &TlsInfo,
) -> Result<ServerName<'static>, TransportError> {
    let name = match (&info.server_name, target) {
        (Some(name), _) => name.clone(),
        (None, Target::Tcp { host, ip, .. }) => match ip {
            Some(ip) => ip.to_string(),
            None => host.clone(),
        },
        (None, Target::Unix(_)) => url
            .host_str()
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost")
            .to_owned(),
    };
    ServerName::try_from(name.clone()).map_err(|_| TransportError::TlsConfig {
        reason: format!("invalid TLS server name {name:?}"),
    })
}

/// Opens the socket; returns it with the peer address and the address text for errors.
async fn connect(
    target: &Target,
    deadline: Instant,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
) -> Result<(TimedStream, Option<SocketAddr>, String), TransportError> {
    let connect_err = |network, addr: String, source| TransportError::Connect {
        network,
        addr,
        source,
    };
    let addrs = match target {
        Target::Unix(path) => {
            let addr = path.display().to_string();
            let stream = match timeout_at(deadline, UnixStream::connect(path)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(err)) => return Err(connect_err("unix", addr, err)),
                Err(_) => return Err(connect_err("unix", addr, timed_out())),
            };
            let stream = TimedStream::unix(stream, read_timeout, write_timeout);
            return Ok((stream, None, addr));
        }
        Target::Tcp { .. } => match timeout_at(deadline, resolve_all(target)).await {
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
                let stream = TimedStream::tcp(stream, read_timeout, write_timeout);
                return Ok((stream, Some(addr), addr.to_string()));
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
