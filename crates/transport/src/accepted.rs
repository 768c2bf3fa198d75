//! A connection just taken from the accept queue, before its TLS handshake: accepting
//! stays fast, and each connection's handshake runs in its own task.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OwnedSemaphorePermit;
use tokio_rustls::TlsAcceptor;

use crate::conn::Conn;
use crate::timed::TimedStream;
use crate::tls::{PeerCertificate, ServerTls, check_client_san};

/// An accepted connection; [`Accepted::handshake`] turns it into a [`Conn`].
///
/// It already holds its listener's `max_connections` slot; dropping it closes the
/// connection and frees the slot.
#[derive(Debug)]
pub struct Accepted {
    stream: TimedStream,
    peer: Option<SocketAddr>,
    tls: Option<Arc<ServerTls>>,
    handshake_timeout: Option<Duration>,
    slot: Option<OwnedSemaphorePermit>,
}

impl Accepted {
    pub(crate) fn new(
        stream: TimedStream,
        peer: Option<SocketAddr>,
        tls: Option<Arc<ServerTls>>,
        handshake_timeout: Option<Duration>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Accepted {
        Accepted {
            stream,
            peer,
            tls,
            handshake_timeout,
            slot,
        }
    }

    /// The remote address; `None` for unix sockets.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// Whether [`Accepted::handshake`] will run a TLS handshake.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Runs the TLS handshake on a secure listener (returns at once on a plaintext
    /// one), with the listener's current certificate files, then etcd's checks of the
    /// client certificate: chain and CRL, allowed CN/hostname, and its SANs against the
    /// client's address unless `skip_client_san_verification`.
    ///
    /// Fails (and the connection closes) on any handshake error, a plaintext client
    /// included, or when the handshake outlasts the listener's `handshake_timeout`.
    pub async fn handshake(self) -> io::Result<Conn> {
        let Some(tls) = self.tls else {
            return Ok(Conn::plain(self.stream, self.peer, self.slot));
        };
        let peer = self.peer;
        let work = async move {
            let acceptor = TlsAcceptor::from(tls.config());
            let stream = acceptor.accept(self.stream).await?;
            let peer_cert = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|der| PeerCertificate::parse(der));
            if let (true, Some(cert), Some(addr)) = (tls.checks_client_san(), &peer_cert, peer) {
                check_client_san(cert, addr.ip()).await?;
            }
            Ok(Conn::tls_server(stream, peer, peer_cert, self.slot))
        };
        match self.handshake_timeout {
            Some(limit) => tokio::time::timeout(limit, work)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "tls: handshake timed out"))?,
            None => work.await,
        }
    }
}
