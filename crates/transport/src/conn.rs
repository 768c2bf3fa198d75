//! An accepted or dialed connection: a TCP or unix stream with read/write timeouts and
//! an optional slot of its listener's connection limit.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::OwnedSemaphorePermit;

use crate::deadline::Deadline;

#[derive(Debug)]
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// An accepted connection: `AsyncRead + AsyncWrite + Unpin + Send + 'static`.
///
/// A read (write, flush, shutdown) that stays pending longer than the configured
/// timeout fails with `io::ErrorKind::TimedOut`. Dropping the connection closes it and
/// frees its listener's `max_connections` slot.
#[derive(Debug)]
pub struct Conn {
    stream: Stream,
    peer: Option<SocketAddr>,
    read: Deadline,
    write: Deadline,
    /// Held for the connection's lifetime; released on drop.
    _slot: Option<OwnedSemaphorePermit>,
}

impl Conn {
    pub(crate) fn tcp(
        stream: TcpStream,
        peer: SocketAddr,
        read_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Conn {
        Conn {
            stream: Stream::Tcp(stream),
            peer: Some(peer),
            read: Deadline::new(read_timeout),
            write: Deadline::new(write_timeout),
            _slot: slot,
        }
    }

    pub(crate) fn unix(
        stream: UnixStream,
        read_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Conn {
        Conn {
            stream: Stream::Unix(stream),
            peer: None,
            read: Deadline::new(read_timeout),
            write: Deadline::new(write_timeout),
            _slot: slot,
        }
    }

    /// The remote address; `None` for unix sockets.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The local address; `None` for unix sockets.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.stream {
            Stream::Tcp(s) => s.local_addr().ok(),
            Stream::Unix(_) => None,
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = match &mut this.stream {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
        };
        this.read.poll(cx, result)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = match &mut this.stream {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
        };
        this.write.poll(cx, result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = match &mut this.stream {
            Stream::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        };
        this.write.poll(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        match &self.stream {
            Stream::Tcp(s) => s.is_write_vectored(),
            Stream::Unix(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = match &mut this.stream {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
        };
        this.write.poll(cx, result)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = match &mut this.stream {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
        };
        this.write.poll(cx, result)
    }
}
