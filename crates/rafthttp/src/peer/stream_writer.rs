//! The sending end of a stream: a peer's reader connected to our stream handler, and we
//! write the messages meant for it into that response (etcd's `streamWriter`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
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
/// Invariants:
/// - a queued message is tagged with the connection epoch it was routed for and is only
///   ever written to that connection; messages left over from a connection that closed
///   are dropped, never delivered late on the next one;
/// - messages reach the response in the order they were sent: one goes straight to the
///   response body (skipping the writer task, a thread hand-off on every commit's path)
///   only while nothing queued before it is still on its way there.
pub(crate) struct StreamWriter {
    kind: StreamKind,
    /// `epoch << 1 | attached`.
    state: AtomicU64,
    queue: mpsc::Sender<(u64, Message)>,
    conns: mpsc::UnboundedSender<BodySender>,
    direct: Mutex<Direct>,
}

/// The body of the current connection as senders may write to it directly.
#[derive(Default)]
struct Direct {
    /// The connection's epoch and body; None while no connection is attached.
    body: Option<(u64, BodySender)>,
    /// Messages in the queue or taken from it and not yet in the body.
    queued: usize,
    metrics: Option<Arc<PeerMetrics>>,
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
                direct: Mutex::new(Direct::default()),
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
        let epoch = state >> 1;
        let mut direct = self.direct.lock();
        // Only into an idle body: under load the writer task coalesces queued messages
        // into one chunk, which costs the connection fewer writes.
        if direct.queued == 0
            && let Some((e, body)) = &direct.body
            && *e == epoch
            && body.capacity() == body.max_capacity()
        {
            let mut buf = BytesMut::new();
            if codec::encode_frame(&msg, &mut buf).is_ok() {
                let len = buf.len() as u64;
                if body.try_send(Ok(buf.freeze())).is_ok() {
                    if let Some(m) = &direct.metrics {
                        m.sent_bytes.increment(len);
                    }
                    return Ok(());
                }
            }
            // The body is full (or the message does not encode): the writer task takes
            // it, and everything after it, in order.
        }
        match self.queue.try_send((epoch, msg)) {
            Ok(()) => {
                direct.queued += 1;
                Ok(())
            }
            Err(TrySendError::Full((_, msg)) | TrySendError::Closed((_, msg))) => {
                Err(Refused::Full(msg))
            }
        }
    }

    /// The writer task took `n` queued messages and they are in the body (or dropped).
    fn unqueued(&self, n: usize) {
        let mut direct = self.direct.lock();
        direct.queued = direct.queued.saturating_sub(n);
    }

    /// The connection senders write to directly, or none.
    fn set_direct(&self, body: Option<(u64, BodySender)>, metrics: &Arc<PeerMetrics>) {
        let mut direct = self.direct.lock();
        direct.body = body;
        direct.metrics.get_or_insert_with(|| metrics.clone());
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
            Event::NewConn(None) | Event::Queued(None) => {
                // Senders must not keep the response open once the writer is gone.
                w.detach(epoch);
                return;
            }
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
                w.writer.set_direct(Some((epoch, conn.clone())), &w.metrics);
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
                let (buf, count, taken) = w.batch(first, epoch, &mut inputs.queue);
                if count > 0
                    && let Err(err) = w.write(&current, buf).await
                {
                    current = None;
                    w.fail(epoch, &err);
                    w.shared.raft.report_unreachable(peer);
                    w.metrics.sent_failures.increment(count);
                }
                w.writer.unqueued(taken);
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
    /// returns it with the number of messages in it and the number taken from the queue.
    /// Stale messages are dropped.
    fn batch(
        &self,
        first: (u64, Message),
        epoch: u64,
        queue: &mut mpsc::Receiver<(u64, Message)>,
    ) -> (Bytes, u64, usize) {
        let mut buf = BytesMut::new();
        let mut count = 0;
        let mut stale = 0;
        let mut taken = 0;
        let mut next = Some(first);
        while let Some((e, msg)) = next {
            taken += 1;
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
        (buf.freeze(), count, taken)
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
        self.writer.set_direct(None, &self.metrics);
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

    fn msg(index: u64) -> Message {
        Message {
            index,
            ..Default::default()
        }
    }

    /// The index of every message in `chunk` (frames as `codec` writes them).
    fn indexes(chunk: &Bytes) -> Vec<u64> {
        let mut frames = codec::FrameDecoder::default();
        frames.push(chunk);
        let mut out = Vec::new();
        while let Some(frame) = frames.next_frame().expect("whole frames") {
            out.push(codec::decode(&frame).expect("a message").index);
        }
        out
    }

    #[test]
    fn an_idle_body_takes_messages_directly_and_a_busy_one_queues_them_in_order() {
        let (w, mut inputs) = StreamWriter::new(StreamKind::MsgApp);
        let (body, mut rx) = crate::body::ChannelBody::new(STREAM_BODY_BUFFER);
        let metrics = Arc::new(PeerMetrics::new(1, 2));
        w.set_direct(Some((3, body)), &metrics);
        w.state.store(3 << 1 | 1, Ordering::Release);

        // Idle body: straight in, without the writer task.
        assert!(w.try_send(msg(1)).is_ok());
        // The body holds a chunk nobody took yet: the next message queues, and so does
        // every one after it while that one is queued, even once the body is idle.
        assert!(w.try_send(msg(2)).is_ok());
        assert_eq!(indexes(&rx.try_next_chunk().unwrap().unwrap()), vec![1]);
        assert!(w.try_send(msg(3)).is_ok());
        assert!(rx.try_next_chunk().unwrap().is_none());
        let queued: Vec<u64> = std::iter::from_fn(|| inputs.queue.try_recv().ok())
            .map(|(epoch, m)| {
                assert_eq!(epoch, 3);
                m.index
            })
            .collect();
        assert_eq!(queued, vec![2, 3]);

        // Once the writer task has put them in the body, sending goes direct again.
        w.unqueued(2);
        assert!(w.try_send(msg(4)).is_ok());
        assert_eq!(indexes(&rx.try_next_chunk().unwrap().unwrap()), vec![4]);

        // Detached: nothing keeps the body open.
        w.state.store(3 << 1, Ordering::Release);
        w.set_direct(None, &metrics);
        assert!(matches!(w.try_send(msg(5)), Err(Refused::NotAttached(_))));
        assert!(rx.try_next_chunk().unwrap().is_none());
        drop(w);
    }
}
