//! An established connection (accepted and handshaken, or dialed): plaintext or TLS
//! over a socket with read/write timeouts, holding its listener's connection slot.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::ProtocolVersion;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;
use tokio_rustls::{client, server};

use crate::timed::TimedStream;
use crate::tls::{PeerCertificate, TlsVersion, go_name};

#[derive(Debug)]
enum Stream {
    Plain(TimedStream),
    Server(Box<server::TlsStream<TimedStream>>),
    Client(Box<client::TlsStream<TimedStream>>),
}

/// Runs `$body` with `$s` bound to whichever stream the connection holds.
macro_rules! with_stream {
    ($stream:expr, $s:ident => $body:expr) => {
        match $stream {
            Stream::Plain($s) => $body,
            Stream::Server($s) => $body,
            Stream::Client($s) => $body,
        }
    };
}

/// A connection: `AsyncRead + AsyncWrite + Unpin + Send + 'static`.
///
/// A write (flush, shutdown) of the underlying socket that stays pending longer than
/// the write timeout fails with `io::ErrorKind::TimedOut`; so does a read pending longer
/// than the read timeout during which no write completed either. Dropping the
/// connection closes it and frees its listener's `max_connections` slot.
#[derive(Debug)]
pub struct Conn {
    stream: Stream,
    peer: Option<SocketAddr>,
    /// Only set when the peer's certificate chain was verified.
    peer_cert: Option<Arc<PeerCertificate>>,
    /// Held for the connection's lifetime; released on drop.
    _slot: Option<OwnedSemaphorePermit>,
}

impl Conn {
    pub(crate) fn plain(
        stream: TimedStream,
        peer: Option<SocketAddr>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Conn {
        Conn {
            stream: Stream::Plain(stream),
            peer,
            peer_cert: None,
            _slot: slot,
        }
    }

    pub(crate) fn tls_server(
        stream: server::TlsStream<TimedStream>,
        peer: Option<SocketAddr>,
        peer_cert: Option<PeerCertificate>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Conn {
        Conn {
            stream: Stream::Server(Box::new(stream)),
            peer,
            peer_cert: peer_cert.map(Arc::new),
            _slot: slot,
        }
    }

    pub(crate) fn tls_client(
        stream: client::TlsStream<TimedStream>,
        peer: Option<SocketAddr>,
        peer_cert: Option<PeerCertificate>,
    ) -> Conn {
        Conn {
            stream: Stream::Client(Box::new(stream)),
            peer,
            peer_cert: peer_cert.map(Arc::new),
            _slot: None,
        }
    }

    /// The remote address; `None` for unix sockets.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The local address; `None` for unix sockets.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.stream {
            Stream::Plain(s) => s.local_addr(),
            Stream::Server(s) => s.get_ref().0.local_addr(),
            Stream::Client(s) => s.get_ref().0.local_addr(),
        }
    }

    /// Whether the connection runs TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self.stream, Stream::Plain(_))
    }

    /// The other side's certificate, when it presented one and its chain verified
    /// (a client under client certificate authentication; a dialed server unless
    /// verification was skipped).
    pub fn peer_certificate(&self) -> Option<&PeerCertificate> {
        self.peer_cert.as_deref()
    }

    /// The common name of the verified peer certificate: the user name etcd's auth
    /// takes from a client certificate.
    pub fn peer_common_name(&self) -> Option<String> {
        self.peer_cert.as_ref()?.common_name.clone()
    }

    /// The negotiated TLS version; `None` for plaintext.
    pub fn tls_version(&self) -> Option<TlsVersion> {
        let version = match &self.stream {
            Stream::Plain(_) => return None,
            Stream::Server(s) => s.get_ref().1.protocol_version(),
            Stream::Client(s) => s.get_ref().1.protocol_version(),
        };
        match version? {
            ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls12),
            ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls13),
            _ => None,
        }
    }

    /// Go's name of the negotiated cipher suite; `None` for plaintext.
    pub fn cipher_suite(&self) -> Option<&'static str> {
        let suite = match &self.stream {
            Stream::Plain(_) => return None,
            Stream::Server(s) => s.get_ref().1.negotiated_cipher_suite(),
            Stream::Client(s) => s.get_ref().1.negotiated_cipher_suite(),
        };
        go_name(suite?)
    }

    /// The ALPN protocol both sides agreed on (`h2`, `http/1.1`), if any.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        match &self.stream {
            Stream::Plain(_) => None,
            Stream::Server(s) => s.get_ref().1.alpn_protocol(),
            Stream::Client(s) => s.get_ref().1.alpn_protocol(),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        with_stream!(&mut self.get_mut().stream, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        with_stream!(&mut self.get_mut().stream, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        with_stream!(&mut self.get_mut().stream, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        with_stream!(&self.stream, s => s.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        with_stream!(&mut self.get_mut().stream, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        with_stream!(&mut self.get_mut().stream, s => Pin::new(s).poll_shutdown(cx))
    }
}
