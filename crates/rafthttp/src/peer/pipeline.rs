//! Sending messages one per request (`POST /raft`) while no stream is up, over a few
//! kept-alive connections per peer (etcd's `pipeline`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, StatusCode};
use raft::eraftpb::Message;
use tokio::sync::{Mutex, mpsc};
use tokio::time::{sleep, timeout};
use url::Url;

use crate::client::{self, PeerConn};
use crate::codec;
use crate::error::RaftHttpError;
use crate::id::Hex;
use crate::metrics::PeerMetrics;
use crate::peer::status::PeerStatus;
use crate::peer::stream_writer::STREAM_READ_TIMEOUT;
use crate::peer::urls::UrlPicker;
use crate::shared::Shared;

/// Concurrent requests per peer (etcd's `connPerPipeline`).
pub(crate) const PIPELINE_CONNECTIONS: usize = 4;

/// Messages queued for the pipeline (etcd's `pipelineBufSize`).
pub(crate) const PIPELINE_QUEUE: usize = 64;

/// After a failed request a worker pauses this long, doubling up to a second, so a
/// refusing or unreachable peer is not hammered.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

const PATH: &str = "/raft";

/// One pipeline worker; all workers of a peer share `queue`.
pub(crate) struct PipelineWorker {
    pub(crate) shared: Arc<Shared>,
    pub(crate) peer: u64,
    pub(crate) queue: Arc<Mutex<mpsc::Receiver<Message>>>,
    pub(crate) urls: Arc<UrlPicker>,
    pub(crate) status: Arc<PeerStatus>,
    pub(crate) metrics: Arc<PeerMetrics>,
}

impl PipelineWorker {
    pub(crate) async fn run(self) {
        let mut conn: Option<(Url, PeerConn<Full<Bytes>>)> = None;
        let mut backoff = MIN_BACKOFF;
        loop {
            let next = self.queue.lock().await.recv().await;
            let Some(msg) = next else { return };
            if self.shared.is_closed() {
                continue;
            }
            let Some(url) = self.urls.pick() else {
                self.shared.raft.report_unreachable(self.peer);
                self.metrics.sent_failures.increment(1);
                continue;
            };
            match self.post(&url, &mut conn, &msg).await {
                Ok(n) => {
                    self.status.activate();
                    self.metrics.sent_bytes.increment(n);
                    backoff = MIN_BACKOFF;
                }
                Err(err) => {
                    conn = None;
                    self.failed(&url, &msg, &err);
                    sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Posts `msg`, reusing the worker's connection; a reused connection that turns out
    /// closed is replaced once. Returns the bytes sent.
    async fn post(
        &self,
        url: &Url,
        conn: &mut Option<(Url, PeerConn<Full<Bytes>>)>,
        msg: &Message,
    ) -> Result<u64, RaftHttpError> {
        let body = codec::encode(msg)?;
        let endpoint = client::endpoint(url, PATH);
        let limit = self.shared.cfg.write_timeout + STREAM_READ_TIMEOUT;
        for attempt in 0..2 {
            let reused = matches!(conn, Some((u, c)) if u == url && c.is_open());
            if !reused {
                *conn = Some((url.clone(), PeerConn::connect(&self.shared, url).await?));
            }
            let Some((_, c)) = conn.as_mut() else {
                return Err(RaftHttpError::TransportStopped);
            };
            let req = client::build_request(
                &self.shared,
                Method::POST,
                url,
                PATH,
                self.peer,
                Some("application/protobuf"),
                Full::new(body.clone()),
            )?;
            let resp = match timeout(limit, c.send(req)).await {
                Ok(Ok(resp)) => resp,
                Ok(Err(_)) if reused && attempt == 0 => {
                    *conn = None;
                    continue;
                }
                Ok(Err(source)) => {
                    return Err(RaftHttpError::Http {
                        action: "posting to",
                        url: endpoint,
                        source,
                    });
                }
                Err(_) => {
                    return Err(RaftHttpError::Timeout {
                        action: "posting to",
                        url: endpoint,
                    });
                }
            };
            if resp.status() == StatusCode::NO_CONTENT {
                client::drain(resp.into_body()).await;
                return Ok(body.len() as u64);
            }
            return Err(
                client::refusal(&self.shared, self.peer, "posting to", endpoint, resp).await,
            );
        }
        Err(RaftHttpError::Truncated)
    }

    fn failed(&self, url: &Url, msg: &Message, err: &RaftHttpError) {
        self.shared.note_refusal(self.peer, err);
        self.urls.unreachable(url);
        self.status.deactivate("pipeline", err);
        self.shared.raft.report_unreachable(self.peer);
        self.metrics.sent_failures.increment(1);
        tracing::debug!(
            "local-member-id" = %Hex(self.shared.local_id()),
            "remote-peer-id" = %Hex(self.peer),
            "message-type" = ?msg.get_msg_type(),
            url = %url,
            error = %err,
            "failed to send raft message by pipeline"
        );
    }
}
