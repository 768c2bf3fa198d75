//! An HTTP body fed through a bounded channel: stream responses written by a peer's
//! stream writer, and snapshot requests fed by a blocking reader thread.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

use crate::error::RaftHttpError;

/// The sending half: each item becomes one data frame; an `Err` aborts the body (the
/// connection is closed without completing the message). Dropping it ends the body.
pub(crate) type BodySender = mpsc::Sender<Result<Bytes, RaftHttpError>>;

/// The receiving half, handed to hyper as a request or response body.
pub(crate) struct ChannelBody {
    rx: mpsc::Receiver<Result<Bytes, RaftHttpError>>,
    /// Exact length when known (snapshot requests); hyper then enforces it.
    length: Option<u64>,
}

impl ChannelBody {
    /// A body of unknown length, buffering at most `capacity` chunks.
    pub(crate) fn new(capacity: usize) -> (BodySender, ChannelBody) {
        let (tx, rx) = mpsc::channel(capacity);
        (tx, ChannelBody { rx, length: None })
    }

    /// A body of exactly `length` bytes.
    pub(crate) fn with_length(capacity: usize, length: u64) -> (BodySender, ChannelBody) {
        let (tx, rx) = mpsc::channel(capacity);
        (
            tx,
            ChannelBody {
                rx,
                length: Some(length),
            },
        )
    }
}

#[cfg(test)]
impl ChannelBody {
    /// The next buffered chunk without waiting; `Ok(None)` when nothing is buffered.
    pub(crate) fn try_next_chunk(&mut self) -> Result<Option<Bytes>, RaftHttpError> {
        match self.rx.try_recv() {
            Ok(Ok(chunk)) => Ok(Some(chunk)),
            Ok(Err(err)) => Err(err),
            Err(_) => Ok(None),
        }
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = RaftHttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, RaftHttpError>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self.length {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn yields_chunks_then_ends_when_the_sender_drops() {
        let (tx, body) = ChannelBody::with_length(4, 6);
        assert_eq!(body.size_hint().exact(), Some(6));
        let _ = tx.send(Ok(Bytes::from_static(b"abc"))).await;
        let _ = tx.send(Ok(Bytes::from_static(b"def"))).await;
        drop(tx);
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(&collected[..], b"abcdef");
    }

    #[tokio::test]
    async fn an_error_item_fails_the_body() {
        let (tx, body) = ChannelBody::new(4);
        let _ = tx.send(Err(RaftHttpError::Truncated)).await;
        assert!(body.collect().await.is_err());
    }
}
