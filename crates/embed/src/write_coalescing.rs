//! A connection wrapper that yields to the runtime once before each write, so frames
//! that sibling tasks are about to queue leave in the same write.
//!
//! Under load, one apply batch completes the requests of many h2 streams at once; each
//! stream task queues its response and wakes the connection task, which tokio runs next
//! (its LIFO slot) and which would write that one response alone: a syscall, and a
//! wake-up of the client, per response. Yielding first lets the other ready stream tasks
//! queue theirs; the connection then writes them together. Go's gRPC server (etcd's)
//! batches its writes the same way. An idle connection pays one extra poll per write.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct WriteCoalescing<IO> {
    inner: IO,
    /// Set once the current write yielded; cleared when a write goes through, so every
    /// write yields at most once (a write the socket refuses retries without yielding).
    yielded: bool,
}

impl<IO> WriteCoalescing<IO> {
    pub fn new(inner: IO) -> Self {
        WriteCoalescing {
            inner,
            yielded: false,
        }
    }

    /// Pending (with an immediate wake-up) the first time a write is attempted; the
    /// runtime polls the task again after the tasks already queued ran.
    fn yield_once(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn wrote<T>(&mut self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if result.is_ready() {
            self.yielded = false;
        }
        result
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for WriteCoalescing<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for WriteCoalescing<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.yield_once(cx));
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.wrote(result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.yield_once(cx));
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Counts the writes that reach the inner stream.
    struct CountingWrites {
        inner: tokio::io::DuplexStream,
        writes: Arc<AtomicUsize>,
    }

    impl AsyncWrite for CountingWrites {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.writes.fetch_add(1, Ordering::Relaxed);
            Pin::new(&mut self.inner).poll_write(cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    #[tokio::test]
    async fn every_write_arrives_whole_and_in_order_after_one_yield() {
        let (a, mut b) = tokio::io::duplex(1 << 16);
        let writes = Arc::new(AtomicUsize::new(0));
        let mut w = WriteCoalescing::new(CountingWrites {
            inner: a,
            writes: writes.clone(),
        });
        let mut sent = Vec::new();
        for i in 0..50u8 {
            let chunk = vec![i; 100 + usize::from(i)];
            w.write_all(&chunk).await.unwrap();
            sent.extend_from_slice(&chunk);
        }
        w.shutdown().await.unwrap();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, sent);
        // Each write_all reached the inner stream (no write was dropped or repeated).
        assert_eq!(writes.load(Ordering::Relaxed), 50);
    }

    #[tokio::test]
    async fn a_write_waits_for_tasks_already_queued() {
        // One thread: the writer's yield must let the task spawned before it run first.
        let (a, mut b) = tokio::io::duplex(1 << 16);
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let o = order.clone();
        let writer = tokio::spawn(async move {
            let mut w = WriteCoalescing::new(a);
            let o2 = o.clone();
            tokio::spawn(async move { o2.lock().unwrap().push("sibling") });
            w.write_all(b"x").await.unwrap();
            o.lock().unwrap().push("wrote");
        });
        writer.await.unwrap();
        let mut byte = [0u8; 1];
        b.read_exact(&mut byte).await.unwrap();
        assert_eq!(*order.lock().unwrap(), vec!["sibling", "wrote"]);
    }
}
