//! The receiving end of a stream: we dial the peer's stream handler and hand every
//! message it writes to raft (etcd's `streamReader`).

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Method, StatusCode};
use tokio::sync::watch;
use tokio::time::{sleep, timeout};
use url::Url;

use crate::client::{self, PeerConn};
use crate::codec::{self, FRAME_HEADER_BYTES, FrameDecoder};
use crate::error::RaftHttpError;
use crate::id::Hex;
use crate::metrics::PeerMetrics;
use crate::peer::status::PeerStatus;
use crate::peer::stream_writer::STREAM_READ_TIMEOUT;
use crate::peer::urls::UrlPicker;
use crate::shared::Shared;
use crate::stream_kind::StreamKind;

/// First wait before redialing; doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Why a connected stream ended.
enum End {
    Blackholed,
    Failed(RaftHttpError),
}

/// The reader of one stream from one peer; runs until the peer is stopped.
pub(crate) struct StreamReader {
    pub(crate) shared: Arc<Shared>,
    pub(crate) peer: u64,
    pub(crate) kind: StreamKind,
    pub(crate) urls: Arc<UrlPicker>,
    pub(crate) status: Arc<PeerStatus>,
    pub(crate) metrics: Arc<PeerMetrics>,
}

impl StreamReader {
    pub(crate) async fn run(self) {
        let mut blackhole = self.shared.blackhole.subscribe();
        let mut backoff = MIN_BACKOFF;
        loop {
            if self.shared.is_stopped() {
                return;
            }
            if self.shared.is_blackholed() {
                if blackhole.wait_for(|on| !*on).await.is_err() {
                    return;
                }
                continue;
            }
            if let Some(url) = self.urls.pick() {
                match self.dial(&url).await {
                    Ok((conn, body)) => {
                        self.status.activate();
                        tracing::info!(
                            "stream-reader-type" = %self.kind,
                            "local-member-id" = %Hex(self.shared.local_id()),
                            "remote-peer-id" = %Hex(self.peer),
                            "established TCP streaming connection with remote peer"
                        );
                        backoff = MIN_BACKOFF;
                        let end = self.read(body, &mut blackhole).await;
                        drop(conn);
                        self.ended(end);
                    }
                    Err(err) => self.dial_failed(&url, &err),
                }
            }
            sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Opens the stream: `GET {url}/raft/stream/{kind}/{our id}`.
    async fn dial(
        &self,
        url: &Url,
    ) -> Result<(PeerConn<Empty<bytes::Bytes>>, Incoming), RaftHttpError> {
        let path = format!(
            "/raft/stream/{}/{}",
            self.kind.as_str(),
            Hex(self.shared.local_id())
        );
        let endpoint = client::endpoint(url, &path);
        let mut conn = PeerConn::connect(&self.shared, url).await?;
        let req = client::build_request(
            &self.shared,
            Method::GET,
            url,
            &path,
            self.peer,
            None,
            Empty::new(),
        )?;
        let limit = self.shared.cfg.dial_timeout + STREAM_READ_TIMEOUT;
        let resp = match timeout(limit, conn.send(req)).await {
            Ok(Ok(resp)) => resp,
            Ok(Err(source)) => {
                return Err(RaftHttpError::Http {
                    action: "dialing stream",
                    url: endpoint,
                    source,
                });
            }
            Err(_) => {
                return Err(RaftHttpError::Timeout {
                    action: "dialing stream",
                    url: endpoint,
                });
            }
        };
        if resp.status() == StatusCode::OK {
            return Ok((conn, resp.into_body()));
        }
        Err(client::refusal(&self.shared, self.peer, "dialing stream", endpoint, resp).await)
    }

    /// Decodes frames until the stream fails, goes silent or we are blackholed.
    async fn read(&self, mut body: Incoming, blackhole: &mut watch::Receiver<bool>) -> End {
        let mut dec = FrameDecoder::default();
        loop {
            let frame = tokio::select! {
                f = timeout(STREAM_READ_TIMEOUT, body.frame()) => f,
                Ok(_) = blackhole.wait_for(|on| *on) => return End::Blackholed,
            };
            let data = match frame {
                Err(_) => {
                    return End::Failed(RaftHttpError::Timeout {
                        action: "reading stream from",
                        url: Hex(self.peer).to_string(),
                    });
                }
                Ok(None) => return End::Failed(RaftHttpError::Truncated),
                Ok(Some(Err(err))) => {
                    return End::Failed(RaftHttpError::ReceiveBody {
                        reason: err.to_string(),
                    });
                }
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_) => continue,
                },
            };
            dec.push(&data);
            loop {
                let payload = match dec.next_frame() {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(err) => return End::Failed(err),
                };
                self.metrics
                    .received_bytes
                    .increment((FRAME_HEADER_BYTES + payload.len()) as u64);
                let msg = match codec::decode(&payload) {
                    Ok(msg) => msg,
                    Err(err) => {
                        self.metrics.received_failures.increment(1);
                        return End::Failed(err);
                    }
                };
                if codec::is_link_heartbeat(&msg) {
                    continue;
                }
                if self.shared.is_closed() {
                    return End::Blackholed;
                }
                if let Err(err) = self.shared.raft.process(msg) {
                    self.metrics.received_failures.increment(1);
                    tracing::warn!(
                        "stream-reader-type" = %self.kind,
                        "local-member-id" = %Hex(self.shared.local_id()),
                        "remote-peer-id" = %Hex(self.peer),
                        error = %err,
                        "failed to process Raft message"
                    );
                }
            }
        }
    }

    fn ended(&self, end: End) {
        match end {
            End::Blackholed => {
                tracing::info!(
                    "stream-reader-type" = %self.kind,
                    "local-member-id" = %Hex(self.shared.local_id()),
                    "remote-peer-id" = %Hex(self.peer),
                    "closed TCP streaming connection with remote peer (blackholed)"
                );
            }
            End::Failed(err) => {
                self.status.deactivate(&self.kind.to_string(), &err);
                tracing::warn!(
                    "stream-reader-type" = %self.kind,
                    "local-member-id" = %Hex(self.shared.local_id()),
                    "remote-peer-id" = %Hex(self.peer),
                    error = %err,
                    "lost TCP streaming connection with remote peer"
                );
            }
        }
    }

    fn dial_failed(&self, url: &Url, err: &RaftHttpError) {
        self.shared.note_refusal(self.peer, err);
        // A peer that answers 404 is up but does not know us yet: not a network failure.
        if !matches!(err, RaftHttpError::UnknownToPeer { .. }) {
            self.urls.unreachable(url);
            self.status.deactivate(&self.kind.to_string(), err);
        }
        tracing::debug!(
            "stream-reader-type" = %self.kind,
            "local-member-id" = %Hex(self.shared.local_id()),
            "remote-peer-id" = %Hex(self.peer),
            url = %url,
            error = %err,
            "failed to dial stream"
        );
    }
}
