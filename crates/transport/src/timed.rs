//! The raw socket of a connection (TCP or unix) with its read and write timeouts; TLS,
//! when used, runs on top of it, so the timeouts bound the handshake too.
//!
//! The timeouts are etcd's (`timeoutConn`: a deadline set before each read and each
//! write), with one difference that HTTP serving needs: a pending read also survives
//! while writes keep completing. Go's HTTP server ignores a background read that times
//! out while a response is being written; hyper instead keeps a read pending for the
//! whole response (to notice the client leaving) and closes the connection when it
//! fails. Without the difference, a long response the client never writes to while it
//! lasts (a raft stream, fed by heartbeats) would be cut after one read timeout.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio::time::Instant;

use crate::deadline::Deadline;

#[derive(Debug)]
enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// A socket whose writes (flushes, shutdowns) fail with `TimedOut` when they stay
/// pending longer than the write timeout, and whose reads fail with `TimedOut` when they
/// stay pending longer than the read timeout during which no write completed either.
///
/// Invariant: `last_write` is the time the last write that moved bytes completed; it is
/// only tracked (`Some`) when a read timeout is set.
#[derive(Debug)]
pub(crate) struct TimedStream {
    socket: Socket,
    read: Deadline,
    write: Deadline,
    last_write: Option<Instant>,
}

impl TimedStream {
    pub(crate) fn tcp(
        stream: TcpStream,
        read_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
    ) -> TimedStream {
        TimedStream::new(Socket::Tcp(stream), read_timeout, write_timeout)
    }

    pub(crate) fn unix(
        stream: UnixStream,
        read_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
    ) -> TimedStream {
        TimedStream::new(Socket::Unix(stream), read_timeout, write_timeout)
    }

    fn new(
        socket: Socket,
        read_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
    ) -> TimedStream {
        TimedStream {
            socket,
            read: Deadline::new(read_timeout),
            write: Deadline::new(write_timeout),
            last_write: None,
        }
    }

    /// Records a completed write that moved bytes, for the read timeout.
    fn wrote(&mut self, result: &Poll<io::Result<usize>>) {
        if self.read.timeout().is_some() && matches!(result, Poll::Ready(Ok(n)) if *n > 0) {
            self.last_write = Some(Instant::now());
        }
    }

    /// The local address; `None` for unix sockets.
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        match &self.socket {
            Socket::Tcp(s) => s.local_addr().ok(),
            Socket::Unix(_) => None,
        }
    }
}

impl AsyncRead for TimedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = match &mut this.socket {
            Socket::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Socket::Unix(s) => Pin::new(s).poll_read(cx, buf),
        };
        this.read.poll_with_progress(cx, result, this.last_write)
    }
}

impl AsyncWrite for TimedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = match &mut this.socket {
            Socket::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Socket::Unix(s) => Pin::new(s).poll_write(cx, buf),
        };
        let result = this.write.poll(cx, result);
        this.wrote(&result);
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = match &mut this.socket {
            Socket::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Socket::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        };
        let result = this.write.poll(cx, result);
        this.wrote(&result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        match &self.socket {
            Socket::Tcp(s) => s.is_write_vectored(),
            Socket::Unix(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = match &mut this.socket {
            Socket::Tcp(s) => Pin::new(s).poll_flush(cx),
            Socket::Unix(s) => Pin::new(s).poll_flush(cx),
        };
        this.write.poll(cx, result)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = match &mut this.socket {
            Socket::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Socket::Unix(s) => Pin::new(s).poll_shutdown(cx),
        };
        this.write.poll(cx, result)
    }
}
