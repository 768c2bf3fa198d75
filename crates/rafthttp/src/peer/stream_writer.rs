//! The sending end of a stream: a peer's reader connected to our stream handler, and we
//! write the messages meant for it into that response (etcd's `streamWriter`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use raft::eraftpb::Message;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::{MissedTickBehavior, interval, timeout};

use crate::body::BodySender;
use crate::codec::{self, link_heartbeat};
use crate::error::RaftHttpError;
use crate::id::Hex;
use crate::metrics::PeerMetrics;
use crate::peer::status::PeerStatus;
use crate::shared::Shared;
use crate::stream_kind::StreamKind;

/// Messages queued per stream (etcd's `streamBufSize`).
pub(crate) const STREAM_QUEUE: usize = 4096;

/// Chunks buffered between the writer and the HTTP response.
pub(crate) const STREAM_BODY_BUFFER: usize = 16;

/// A peer's reader gives up on a stream silent for this long (etcd's `ConnReadTimeout`).
pub(crate) const STREAM_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// An idle writer sends a link heartbeat this often, well within the read timeout.
const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(1666);

/// Messages are coalesced into one chunk up to about this size.
const BATCH_BYTES: usize = 64 * 1024;

/// Why a message could not be queued on the stream.
pub(crate) enum Refused {
    /// No peer reader is connected: use another path.
    NotAttached(Message),
    /// The queue is full: the message is dropped.
    Full(Message),
}

/// The handle shared by `send` (which queues) and the stream handler (which attaches).
///
/// Invariant: a queued message is tagged with the connection epoch it was routed for
/// and is only ever written to that connection; messages left over from a connection
/// that closed are dropped, never delivered late on the next one.
pub(crate) struct StreamWriter {
    kind: StreamKind,
    /// `epoch << 1 | attached`.
    state: AtomicU64,
    queue: mpsc::Sender<(u64, Message)>,
    conns: mpsc::UnboundedSender<BodySender>,
}

/// The receiving ends, owned by the writer task.
pub(crate) struct WriterInputs {
    queue: mpsc::Receiver<(u64, Message)>,
    conns: mpsc::UnboundedReceiver<BodySender>,
}

impl StreamWriter {
    pub(crate) fn new(kind: StreamKind) -> (Arc<StreamWriter>, WriterInputs) {
        let (queue, queue_rx) = mpsc::channel(STREAM_QUEUE);
        let (conns, conns_rx) = mpsc::unbounded_channel();
        (
            Arc::new(StreamWriter {
                kind,
                state: AtomicU64::new(0),
                queue,
                conns,
            }),
            WriterInputs {
                queue: queue_rx,
                conns: conns_rx,
            },
        )
    }

    pub(crate) fn kind(&self) -> StreamKind {
        self.kind
    }

    /// Queues `msg` for the connected reader without waiting.
    pub(crate) fn try_send(&self, msg: Message) -> Result<(), Refused> {
        let state = self.state.load(Ordering::Acquire);
        if state & 1 == 0 {
            return Err(Refused::NotAttached(msg));
        }
        match self.queue.try_send((state >> 1, msg)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full((_, msg)) | TrySendError::Closed((_, msg))) => {
                Err(Refused::Full(msg))
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn is_attached(&self) -> bool {
        self.state.load(Ordering::Acquire) & 1 == 1
    }

    /// Hands a new response body to the writer; it replaces any current one. False when
    /// the writer has stopped.
    pub(crate) fn attach(&self, conn: BodySender) -> bool {
        self.conns.send(conn).is_ok()
    }
}

/// What woke the writer up.
enum Event {
    NewConn(Option<BodySender>),
    Closed,
    Blackholed,
    Heartbeat,
    Queued(Option<(u64, Message)>),
}

/// Runs the writer until the peer is stopped.
pub(crate) async fn run(
    writer: Arc<StreamWriter>,
    mut inputs: WriterInputs,
    shared: Arc<Shared>,
    peer: u64,
    status: Arc<PeerStatus>,
    metrics: Arc<PeerMetrics>,
) {
    let w = Worker {
        writer,
        shared,
        peer,
        status,
        metrics,
    };
    let mut blackhole = w.shared.blackhole.subscribe();
    let mut heartbeat = interval(HEARTBEAT_INTERVAL);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut epoch = 0u64;
    let mut current: Option<BodySender> = None;
    loop {
        let event = match &current {
            None => Event::NewConn(inputs.conns.recv().await),
            Some(conn) => tokio::select! {
                c = inputs.conns.recv() => Event::NewConn(c),
                () = conn.closed() => Event::Closed,
                Ok(_) = blackhole.wait_for(|on| *on) => Event::Blackholed,
                _ = heartbeat.tick() => Event::Heartbeat,
                item = inputs.queue.recv() => Event::Queued(item),
            },
        };
        match event {
            Event::NewConn(None) | Event::Queued(None) => return,
            Event::NewConn(Some(conn)) => {
                if current.take().is_some() {
                    w.log_closed("replaced by a new connection");
                }
                if w.shared.is_closed() {
                    // Dropping `conn` ends that response at once.
                    w.detach(epoch);
                    continue;
                }
                epoch += 1;
                w.writer.state.store(epoch << 1 | 1, Ordering::Release);
                w.status.activate();
                tracing::info!(
                    "stream-writer-type" = %w.writer.kind,
                    "local-member-id" = %Hex(w.shared.local_id()),
                    "remote-peer-id" = %Hex(peer),
                    "established TCP streaming connection with remote peer"
                );
                heartbeat.reset();
                current = Some(conn);
            }
            Event::Closed => {
                current = None;
                w.detach(epoch);
                w.log_closed("closed by the remote peer");
            }
            Event::Blackholed => {
                current = None;
                w.detach(epoch);
                w.log_closed("blackholed");
            }
            Event::Heartbeat => {
                let mut buf = BytesMut::new();
                let sent = match codec::encode_frame(&link_heartbeat(), &mut buf) {
                    Ok(_) => w.write(&current, buf.freeze()).await,
                    Err(err) => Err(err),
                };
                if let Err(err) = sent {
                    current = None;
                    w.fail(epoch, &err);
                }
            }
            Event::Queued(Some(first)) => {
                let (buf, count) = w.batch(first, epoch, &mut inputs.queue);
                if count == 0 {
                    continue;
                }
                if let Err(err) = w.write(&current, buf).await {
                    current = None;
                    w.fail(epoch, &err);
                    w.shared.raft.report_unreachable(peer);
                    w.metrics.sent_failures.increment(count);
                }
            }
        }
    }
}

struct Worker {
    writer: Arc<StreamWriter>,
    shared: Arc<Shared>,
    peer: u64,
    status: Arc<PeerStatus>,
    metrics: Arc<PeerMetrics>,
}

impl Worker {
    /// Encodes `first` and whatever else is queued for this epoch into one chunk;
    /// returns it with the number of messages in it. Stale messages are dropped.
    fn batch(
        &self,
        first: (u64, Message),
        epoch: u64,
        queue: &mut mpsc::Receiver<(u64, Message)>,
    ) -> (Bytes, u64) {
        let mut buf = BytesMut::new();
        let mut count = 0;
        let mut stale = 0;
        let mut next = Some(first);
        while let Some((e, msg)) = next {
            if e != epoch {
                stale += 1;
            } else {
                match codec::encode_frame(&msg, &mut buf) {
                    Ok(_) => count += 1,
                    Err(err) => {
                        tracing::error!(%err, "failed to encode raft message");
                        self.metrics.sent_failures.increment(1);
                    }
                }
            }
            next = if buf.len() < BATCH_BYTES {
                queue.try_recv().ok()
            } else {
                None
            };
        }
        if stale > 0 {
            // Routed to a connection that has closed since; raft will resend.
            self.shared.raft.report_unreachable(self.peer);
            self.metrics.sent_failures.increment(stale);
        }
        (buf.freeze(), count)
    }

    async fn write(&self, conn: &Option<BodySender>, chunk: Bytes) -> Result<(), RaftHttpError> {
        let Some(conn) = conn else {
            return Err(RaftHttpError::Truncated);
        };
        let len = chunk.len() as u64;
        match timeout(self.shared.cfg.write_timeout, conn.send(Ok(chunk))).await {
            Ok(Ok(())) => {
                self.metrics.sent_bytes.increment(len);
                Ok(())
            }
            Ok(Err(_)) => Err(RaftHttpError::Truncated),
            Err(_) => Err(RaftHttpError::Timeout {
                action: "writing stream to",
                url: Hex(self.peer).to_string(),
            }),
        }
    }

    fn detach(&self, epoch: u64) {
        self.writer.state.store(epoch << 1, Ordering::Release);
    }

    fn fail(&self, epoch: u64, err: &RaftHttpError) {
        self.detach(epoch);
        self.status.deactivate(&self.writer.kind.to_string(), err);
        tracing::warn!(
            "stream-writer-type" = %self.writer.kind,
            "local-member-id" = %Hex(self.shared.local_id()),
            "remote-peer-id" = %Hex(self.peer),
            error = %err,
            "lost TCP streaming connection with remote peer"
        );
    }

    fn log_closed(&self, why: &str) {
        tracing::info!(
            "stream-writer-type" = %self.writer.kind,
            "local-member-id" = %Hex(self.shared.local_id()),
            "remote-peer-id" = %Hex(self.peer),
            reason = why,
            "closed TCP streaming connection with remote peer"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_until_attached_and_when_full() {
        let (w, mut inputs) = StreamWriter::new(StreamKind::Message);
        assert!(matches!(
            w.try_send(Message::default()),
            Err(Refused::NotAttached(_))
        ));
        w.state.store(3 << 1 | 1, Ordering::Release);
        assert!(w.is_attached());
        for _ in 0..STREAM_QUEUE {
            assert!(w.try_send(Message::default()).is_ok());
        }
        assert!(matches!(
            w.try_send(Message::default()),
            Err(Refused::Full(_))
        ));
        // Queued messages carry the epoch they were routed for.
        assert_eq!(inputs.queue.try_recv().map(|(e, _)| e).ok(), Some(3));
    }
}
