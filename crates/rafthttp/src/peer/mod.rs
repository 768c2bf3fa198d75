//! One remote member: its URLs, status, two stream writers and readers, the pipeline,
//! the prober and snapshot sends (etcd's `peer`).

mod pipeline;
pub(crate) mod prober;
mod snapshot;
mod status;
mod stream_reader;
pub(crate) mod stream_writer;
mod urls;

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use raft::eraftpb::Message;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinHandle;
use url::Url;

use crate::body::BodySender;
use crate::id::Hex;
use crate::metrics::PeerMetrics;
use crate::shared::Shared;
use crate::stream_kind::StreamKind;

use pipeline::{PIPELINE_CONNECTIONS, PIPELINE_QUEUE, PipelineWorker};
use prober::Prober;
use snapshot::SnapshotSend;
use status::PeerStatus;
use stream_reader::StreamReader;
use stream_writer::{Refused, StreamWriter};
use urls::UrlPicker;
pub(crate) use urls::parse_urls;

/// A remote member and the tasks that talk to it. Invariant: every task of the peer is
/// in `tasks`, so [`Peer::stop`] ends all of them.
pub(crate) struct Peer {
    id: u64,
    shared: Arc<Shared>,
    urls: Arc<UrlPicker>,
    status: Arc<PeerStatus>,
    metrics: Arc<PeerMetrics>,
    msgapp: Arc<StreamWriter>,
    message: Arc<StreamWriter>,
    pipeline: mpsc::Sender<Message>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Peer {
    /// Creates the peer and starts its tasks on the transport's runtime.
    pub(crate) fn start(shared: Arc<Shared>, id: u64, urls: Vec<Url>) -> Arc<Peer> {
        let metrics = Arc::new(PeerMetrics::new(shared.local_id(), id));
        let status = Arc::new(PeerStatus::new(shared.local_id(), id, metrics.clone()));
        let urls = Arc::new(UrlPicker::new(urls));
        let (msgapp, msgapp_in) = StreamWriter::new(StreamKind::MsgApp);
        let (message, message_in) = StreamWriter::new(StreamKind::Message);
        let (pipeline, pipeline_rx) = mpsc::channel(PIPELINE_QUEUE);
        let pipeline_rx = Arc::new(tokio::sync::Mutex::new(pipeline_rx));
        let rt = shared.runtime.clone();

        let mut tasks = Vec::new();
        for (writer, inputs) in [(msgapp.clone(), msgapp_in), (message.clone(), message_in)] {
            tasks.push(rt.spawn(stream_writer::run(
                writer,
                inputs,
                shared.clone(),
                id,
                status.clone(),
                metrics.clone(),
            )));
        }
        for kind in StreamKind::ALL {
            let reader = StreamReader {
                shared: shared.clone(),
                peer: id,
                kind,
                urls: urls.clone(),
                status: status.clone(),
                metrics: metrics.clone(),
            };
            tasks.push(rt.spawn(reader.run()));
        }
        for _ in 0..PIPELINE_CONNECTIONS {
            let worker = PipelineWorker {
                shared: shared.clone(),
                peer: id,
                queue: pipeline_rx.clone(),
                urls: urls.clone(),
                status: status.clone(),
                metrics: metrics.clone(),
            };
            tasks.push(rt.spawn(worker.run()));
        }
        let prober = Prober {
            shared: shared.clone(),
            peer: id,
            urls: urls.clone(),
            metrics: metrics.clone(),
        };
        tasks.push(rt.spawn(prober.run()));

        Arc::new(Peer {
            id,
            shared,
            urls,
            status,
            metrics,
            msgapp,
            message,
            pipeline,
            tasks: Mutex::new(tasks),
        })
    }

    /// Queues `msg` without waiting: on the stream it prefers if that stream is up,
    /// else on the message stream, else on the pipeline. Drops it and reports the peer
    /// unreachable when the chosen queue is full.
    pub(crate) fn send(&self, msg: Message) {
        let mut msg = msg;
        if StreamKind::preferred_for(&msg) == StreamKind::MsgApp {
            match self.msgapp.try_send(msg) {
                Ok(()) => return,
                Err(Refused::Full(m)) => return self.dropped(&m, "stream MsgApp v2"),
                Err(Refused::NotAttached(m)) => msg = m,
            }
        }
        match self.message.try_send(msg) {
            Ok(()) => return,
            Err(Refused::Full(m)) => return self.dropped(&m, "stream Message"),
            Err(Refused::NotAttached(m)) => msg = m,
        }
        match self.pipeline.try_send(msg) {
            Ok(()) => {}
            Err(TrySendError::Full(m) | TrySendError::Closed(m)) => self.dropped(&m, "pipeline"),
        }
    }

    fn dropped(&self, msg: &Message, via: &'static str) {
        self.shared.raft.report_unreachable(self.id);
        self.metrics.sent_failures.increment(1);
        let active = self.status.is_active();
        if active {
            tracing::warn!(
                "message-type" = ?msg.get_msg_type(),
                "local-member-id" = %Hex(self.shared.local_id()),
                "from" = %Hex(msg.from),
                "remote-peer-id" = %Hex(self.id),
                "remote-peer-active" = active,
                "remote-peer-name" = via,
                "dropped internal Raft message since sending buffer is full (overloaded network)"
            );
        } else {
            tracing::debug!(
                "message-type" = ?msg.get_msg_type(),
                "local-member-id" = %Hex(self.shared.local_id()),
                "remote-peer-id" = %Hex(self.id),
                "remote-peer-active" = active,
                "remote-peer-name" = via,
                "dropped internal Raft message since sending buffer is full (overloaded network)"
            );
        }
    }

    /// Starts streaming a snapshot to the peer; the outcome goes to `report_snapshot`.
    pub(crate) fn send_snapshot(&self, msg: Message, data: Box<dyn Read + Send>, size: u64) {
        let send = SnapshotSend {
            shared: self.shared.clone(),
            peer: self.id,
            urls: self.urls.clone(),
            status: self.status.clone(),
            metrics: self.metrics.clone(),
            msg,
            data,
            size,
        };
        let handle = self.shared.runtime.spawn(send.run());
        let mut tasks = self.tasks.lock();
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle);
    }

    /// Gives a peer reader's response body to the stream writer of `kind`.
    pub(crate) fn attach(&self, kind: StreamKind, conn: BodySender) -> bool {
        let writer = match kind {
            StreamKind::MsgApp => &self.msgapp,
            StreamKind::Message => &self.message,
        };
        debug_assert_eq!(writer.kind(), kind);
        writer.attach(conn)
    }

    pub(crate) fn update_urls(&self, urls: Vec<Url>) {
        self.urls.update(urls);
    }

    pub(crate) fn urls(&self) -> Vec<Url> {
        self.urls.urls()
    }

    pub(crate) fn active_since(&self) -> Option<Instant> {
        self.status.since()
    }

    /// Ends every task of the peer; in-flight snapshots report Failure.
    pub(crate) fn stop(&self) {
        for task in self.tasks.lock().iter() {
            task.abort();
        }
        self.status.forget();
    }

    /// True when every task has ended (after [`Peer::stop`]).
    #[cfg(test)]
    pub(crate) fn is_stopped(&self) -> bool {
        self.tasks.lock().iter().all(|t| t.is_finished())
    }
}
