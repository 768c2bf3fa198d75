//! Sending a snapshot: `POST /raft/snapshot` with the framed MsgSnapshot followed by the
//! database bytes, streamed from a blocking reader (etcd's `snapshotSender`).

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use hyper::{Method, StatusCode};
use raft::SnapshotStatus;
use raft::eraftpb::Message;
use tokio::sync::oneshot;
use tokio::time::timeout;

use crate::body::{BodySender, ChannelBody};
use crate::client::{self, PeerConn};
use crate::codec;
use crate::error::RaftHttpError;
use crate::id::Hex;
use crate::metrics::PeerMetrics;
use crate::peer::status::PeerStatus;
use crate::peer::urls::UrlPicker;
use crate::shared::Shared;

const PATH: &str = "/raft/snapshot";

/// Size of the chunks read from the data source.
const CHUNK_BYTES: usize = 64 * 1024;

/// Chunks buffered between the reader thread and the connection.
const BODY_BUFFER: usize = 8;

/// Once every byte is sent, how long the receiver gets to save it and answer.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// Reports `Failure` to raft unless the send completed, so a snapshot whose task is
/// aborted (peer removed, transport stopped) is never left pending.
struct Outcome {
    shared: Arc<Shared>,
    peer: u64,
    reported: bool,
}

impl Outcome {
    fn report(&mut self, status: SnapshotStatus) {
        self.reported = true;
        self.shared.raft.report_snapshot(self.peer, status);
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if !self.reported {
            self.shared
                .raft
                .report_snapshot(self.peer, SnapshotStatus::Failure);
        }
    }
}

/// One snapshot transfer to one peer.
pub(crate) struct SnapshotSend {
    pub(crate) shared: Arc<Shared>,
    pub(crate) peer: u64,
    pub(crate) urls: Arc<UrlPicker>,
    pub(crate) status: Arc<PeerStatus>,
    pub(crate) metrics: Arc<PeerMetrics>,
    pub(crate) msg: Message,
    pub(crate) data: Box<dyn Read + Send>,
    pub(crate) size: u64,
}

impl SnapshotSend {
    /// Sends and reports the outcome to raft (Finish or Failure), exactly once.
    pub(crate) async fn run(self) {
        let mut outcome = Outcome {
            shared: self.shared.clone(),
            peer: self.peer,
            reported: false,
        };
        let (shared, peer, metrics, status) = (
            self.shared.clone(),
            self.peer,
            self.metrics.clone(),
            self.status.clone(),
        );
        let urls = self.urls.clone();
        let index = self.msg.get_snapshot().get_metadata().index;
        let size = self.size;
        let start = Instant::now();
        metrics.snapshot_send_inflights.increment(1.0);
        tracing::info!(
            "local-member-id" = %Hex(shared.local_id()),
            "remote-peer-id" = %Hex(peer),
            "snapshot-index" = index,
            bytes = size,
            "sending database snapshot"
        );
        let Some(url) = urls.pick() else {
            metrics.snapshot_send_inflights.decrement(1.0);
            metrics.snapshot_send_failures.increment(1);
            tracing::warn!("remote-peer-id" = %Hex(peer), "no URL to send the snapshot to");
            outcome.report(SnapshotStatus::Failure);
            return;
        };
        let result = self.send(&url).await;
        metrics.snapshot_send_inflights.decrement(1.0);
        match result {
            Ok(sent) => {
                status.activate();
                metrics.sent_bytes.increment(sent);
                metrics.snapshot_send_success.increment(1);
                metrics
                    .snapshot_send_seconds
                    .record(start.elapsed().as_secs_f64());
                outcome.report(SnapshotStatus::Finish);
                tracing::info!(
                    "local-member-id" = %Hex(shared.local_id()),
                    "remote-peer-id" = %Hex(peer),
                    "snapshot-index" = index,
                    bytes = sent,
                    "sent database snapshot"
                );
            }
            Err(err) => {
                shared.note_refusal(peer, &err);
                urls.unreachable(&url);
                status.deactivate("snapshot", &err);
                shared.raft.report_unreachable(peer);
                metrics.sent_failures.increment(1);
                metrics.snapshot_send_failures.increment(1);
                outcome.report(SnapshotStatus::Failure);
                tracing::warn!(
                    "local-member-id" = %Hex(shared.local_id()),
                    "remote-peer-id" = %Hex(peer),
                    "snapshot-index" = index,
                    error = %err,
                    "failed to send database snapshot"
                );
            }
        }
    }

    /// Streams the request and waits for the 204; returns the bytes sent.
    async fn send(self, url: &url::Url) -> Result<u64, RaftHttpError> {
        let endpoint = client::endpoint(url, PATH);
        let mut head = BytesMut::new();
        codec::encode_frame(&self.msg, &mut head)?;
        let total = (head.len() as u64).saturating_add(self.size);
        let (tx, body) = ChannelBody::with_length(BODY_BUFFER, total);
        let mut conn = PeerConn::connect(&self.shared, url).await?;
        let req = client::build_request(
            &self.shared,
            Method::POST,
            url,
            PATH,
            self.peer,
            Some("application/octet-stream"),
            body,
        )?;
        let (fed_tx, mut fed_rx) = oneshot::channel();
        let (data, size) = (self.data, self.size);
        let head = head.freeze();
        tokio::task::spawn_blocking(move || {
            let _ = fed_tx.send(feed(head, data, size, &tx));
        });

        let response = conn.send(req);
        tokio::pin!(response);
        let result = tokio::select! {
            r = &mut response => r,
            fed = &mut fed_rx => {
                if let Ok(Err(err)) = fed {
                    return Err(err);
                }
                match timeout(RESPONSE_TIMEOUT, &mut response).await {
                    Ok(r) => r,
                    Err(_) => {
                        return Err(RaftHttpError::Timeout { action: "posting snapshot to", url: endpoint });
                    }
                }
            }
        };
        let resp = match result {
            Ok(resp) => resp,
            Err(source) => {
                // Prefer the data source's own error when it caused the abort.
                if let Ok(Err(err)) = fed_rx.try_recv() {
                    return Err(err);
                }
                return Err(RaftHttpError::Http {
                    action: "posting snapshot to",
                    url: endpoint,
                    source,
                });
            }
        };
        if resp.status() == StatusCode::NO_CONTENT {
            return Ok(total);
        }
        Err(client::refusal(
            &self.shared,
            self.peer,
            "posting snapshot to",
            endpoint,
            resp,
        )
        .await)
    }
}

/// Runs on a blocking thread: sends `head`, then exactly `size` bytes of `data`.
/// A short or failing source aborts the body (the receiver sees an incomplete request).
fn feed(
    head: Bytes,
    mut data: Box<dyn Read + Send>,
    size: u64,
    tx: &BodySender,
) -> Result<(), RaftHttpError> {
    if tx.blocking_send(Ok(head)).is_err() {
        return Ok(());
    }
    let mut remaining = size;
    let mut buf = vec![0u8; CHUNK_BYTES];
    while remaining > 0 {
        let want = remaining.min(CHUNK_BYTES as u64) as usize;
        let n = match data.read(&mut buf[..want]) {
            Ok(0) => {
                let _ = tx.blocking_send(Err(RaftHttpError::Truncated));
                return Err(RaftHttpError::SnapshotShort {
                    expected: size,
                    got: size - remaining,
                });
            }
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                let _ = tx.blocking_send(Err(RaftHttpError::Truncated));
                return Err(RaftHttpError::SnapshotRead { source });
            }
        };
        remaining -= n as u64;
        if tx
            .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
            .is_err()
        {
            // The request was abandoned; its own error is reported.
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_sends_exactly_size_bytes_after_the_head() {
        let (tx, mut body) = ChannelBody::new(1024);
        let data: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(vec![5u8; 200_000]));
        let res = feed(Bytes::from_static(b"HEAD"), data, 150_000, &tx);
        assert!(res.is_ok());
        drop(tx);
        let mut total = 0;
        let mut first = None;
        while let Ok(Some(chunk)) = body.try_next_chunk() {
            first.get_or_insert(chunk.clone());
            total += chunk.len();
        }
        assert_eq!(first.as_deref(), Some(&b"HEAD"[..]));
        assert_eq!(total, 4 + 150_000);
    }

    #[test]
    fn feed_reports_a_short_source() {
        let (tx, _body) = ChannelBody::new(1024);
        let data: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(vec![5u8; 10]));
        let res = feed(Bytes::new(), data, 100, &tx);
        assert!(matches!(
            res,
            Err(RaftHttpError::SnapshotShort {
                expected: 100,
                got: 10
            })
        ));
    }
}
