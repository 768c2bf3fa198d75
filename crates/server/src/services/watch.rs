//! The Watch service: one bidirectional stream carries many watchers. Requests (create,
//! cancel, progress) go to the stream's [`WatchStream`] in the store; its updates come
//! out as etcd's responses, with the member's header, split into fragments for watchers
//! that asked for it. With `hasleader: true` metadata the stream is refused, or ended,
//! when the member has no leader (etcd's require-leader).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use etcd_api::WireError;
use etcd_api::etcdserverpb::watch_request::RequestUnion;
use etcd_api::etcdserverpb::watch_server::Watch;
use etcd_api::etcdserverpb::{WatchRequest, WatchResponse};
use etcd_mvcc::watch::{UpdateKind, WatchOptions, WatchStream, WatchUpdate};
use futures::stream::BoxStream;
use prost::Message as _;
use tokio::sync::oneshot;
use tonic::{Request, Response, Status, Streaming};

use crate::server::EtcdServer;

/// gRPC metadata a client sets to require a leader (etcd's `MetadataRequireLeaderKey`).
use super::{HAS_LEADER as REQUIRE_LEADER_VALUE, REQUIRE_LEADER_KEY};
/// Consecutive leaderless checks (one per election timeout) before a require-leader
/// stream is ended (etcd's maxNoLeaderCnt).
const MAX_NO_LEADER_CHECKS: u32 = 3;
/// Field number of `WatchResponse.events`, to size fragments without re-encoding.
const EVENTS_FIELD: u32 = 11;

pub struct WatchService(pub Arc<EtcdServer>);

#[tonic::async_trait]
impl Watch for WatchService {
    async fn watch(
        &self,
        req: Request<Streaming<WatchRequest>>,
    ) -> Result<Response<BoxStream<'static, Result<WatchResponse, Status>>>, Status> {
        let server = self.0.clone();
        let require_leader = req
            .metadata()
            .get(REQUIRE_LEADER_KEY)
            .and_then(|v| v.to_str().ok())
            == Some(REQUIRE_LEADER_VALUE);
        if require_leader && server.leader() == 0 {
            return Err(WireError::NoLeader.to_status());
        }
        let stream = Arc::new(server.watchable().new_stream());
        let (alive_tx, alive_rx) = oneshot::channel();
        tokio::spawn(read_requests(stream.clone(), req.into_inner(), alive_rx));
        let leader_check = require_leader.then(|| {
            let every = server
                .config()
                .election_timeout
                .max(Duration::from_millis(1));
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            LeaderCheck { tick, misses: 0 }
        });
        let stopped: Pin<Box<dyn Future<Output = ()> + Send>> = {
            let server = server.clone();
            Box::pin(async move { server.stopped().await })
        };
        let out = Outbound {
            server,
            stream,
            ready: VecDeque::new(),
            leader_check,
            stopped,
            done: false,
            _alive: alive_tx,
        };
        Ok(Response::new(Box::pin(futures::stream::unfold(
            out,
            Outbound::next,
        ))))
    }
}

/// Applies the client's requests to the stream until the client closes its side, the
/// connection fails, or the response side is gone. Waits while the client leaves its
/// answers unread, as etcd's bounded control channel makes it wait.
async fn read_requests(
    stream: Arc<WatchStream>,
    mut requests: Streaming<WatchRequest>,
    mut response_gone: oneshot::Receiver<()>,
) {
    loop {
        let next = async {
            stream.ready_for_request().await;
            requests.message().await
        };
        let req = tokio::select! {
            _ = &mut response_gone => return,
            r = next => r,
        };
        match req {
            Ok(Some(req)) => apply_request(&stream, req),
            // A client that closes its sending side keeps receiving, as with etcd.
            Ok(None) => return,
            Err(status) => {
                tracing::debug!(error = %status, "watch stream receive failed");
                return;
            }
        }
    }
}

fn apply_request(stream: &WatchStream, req: WatchRequest) {
    match req.request_union {
        Some(RequestUnion::CreateRequest(create)) => {
            // A refusal is answered on the stream itself.
            let _ = stream.watch(WatchOptions::from(&create));
        }
        Some(RequestUnion::CancelRequest(cancel)) => {
            stream.cancel(cancel.watch_id);
        }
        Some(RequestUnion::ProgressRequest(_)) => stream.request_progress(),
        None => {}
    }
}

struct LeaderCheck {
    tick: tokio::time::Interval,
    misses: u32,
}

/// The response side of one Watch call.
struct Outbound {
    server: Arc<EtcdServer>,
    stream: Arc<WatchStream>,
    /// Responses made from one update and not sent yet (fragments).
    ready: VecDeque<WatchResponse>,
    leader_check: Option<LeaderCheck>,
    stopped: Pin<Box<dyn Future<Output = ()> + Send>>,
    done: bool,
    /// Dropped with the response side, which ends the request reader.
    _alive: oneshot::Sender<()>,
}

impl Outbound {
    async fn next(mut self) -> Option<(Result<WatchResponse, Status>, Outbound)> {
        if self.done {
            return None;
        }
        loop {
            if let Some(resp) = self.ready.pop_front() {
                return Some((Ok(resp), self));
            }
            let leader_tick = async {
                match self.leader_check.as_mut() {
                    Some(check) => {
                        check.tick.tick().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                update = self.stream.recv() => {
                    let limit = self.server.config().max_request_bytes;
                    self.ready = to_responses(&self.server, update, limit);
                }
                _ = leader_tick => {
                    if self.leader_lost() {
                        self.done = true;
                        return Some((Err(WireError::NoLeader.to_status()), self));
                    }
                }
                _ = &mut self.stopped => {
                    self.done = true;
                    return Some((Err(WireError::Stopped.to_status()), self));
                }
            }
        }
    }

    /// Counts a leaderless check; true once there were enough in a row.
    fn leader_lost(&mut self) -> bool {
        let has_leader = self.server.leader() != 0;
        match self.leader_check.as_mut() {
            Some(check) if has_leader => {
                check.misses = 0;
                false
            }
            Some(check) => {
                check.misses += 1;
                check.misses >= MAX_NO_LEADER_CHECKS
            }
            None => false,
        }
    }
}

/// The responses etcd sends for one update: one, or several fragments when the
/// watcher asked for them and the events exceed `max_request_bytes`.
fn to_responses(
    server: &EtcdServer,
    update: WatchUpdate,
    max_request_bytes: usize,
) -> VecDeque<WatchResponse> {
    let base = WatchResponse {
        header: Some(server.header(update.revision)),
        watch_id: update.watch_id,
        ..Default::default()
    };
    let resp = match update.kind {
        UpdateKind::Created => WatchResponse {
            created: true,
            ..base
        },
        UpdateKind::Refused(reason) => WatchResponse {
            created: true,
            canceled: true,
            cancel_reason: reason.to_string(),
            ..base
        },
        UpdateKind::Events { events, fragment } => {
            let resp = WatchResponse { events, ..base };
            if fragment {
                return fragments(resp, max_request_bytes);
            }
            resp
        }
        UpdateKind::Progress => base,
        UpdateKind::Compacted { compact_revision } => WatchResponse {
            compact_revision,
            canceled: true,
            ..base
        },
        UpdateKind::Canceled => WatchResponse {
            canceled: true,
            ..base
        },
    };
    VecDeque::from([resp])
}

/// etcd's sendFragments: a response of at least `limit` bytes with two or more events
/// is split into responses of whole events, each under `limit` unless a single event
/// is larger; all but the last carry `fragment = true`.
fn fragments(resp: WatchResponse, limit: usize) -> VecDeque<WatchResponse> {
    if resp.events.len() < 2 || resp.encoded_len() < limit {
        return VecDeque::from([resp]);
    }
    let mut template = resp;
    let events = std::mem::take(&mut template.events);
    template.fragment = true;
    let base_len = template.encoded_len();
    let mut out = VecDeque::new();
    let mut chunk = Vec::new();
    let mut size = base_len;
    for ev in events {
        let len = prost::encoding::message::encoded_len(EVENTS_FIELD, &ev);
        if !chunk.is_empty() && size + len >= limit {
            out.push_back(WatchResponse {
                events: std::mem::take(&mut chunk),
                ..template.clone()
            });
            size = base_len;
        }
        size += len;
        chunk.push(ev);
    }
    out.push_back(WatchResponse {
        events: chunk,
        fragment: false,
        ..template
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use etcd_api::mvccpb::{Event, KeyValue};

    fn event(rev: i64, value_len: usize) -> Event {
        Event {
            r#type: 0,
            kv: Some(KeyValue {
                key: format!("k{rev}").into_bytes().into(),
                value: vec![b'v'; value_len].into(),
                mod_revision: rev,
                create_revision: rev,
                version: 1,
                lease: 0,
            }),
            prev_kv: None,
        }
    }

    #[test]
    fn fragments_split_as_etcd_does() {
        let resp = WatchResponse {
            watch_id: 3,
            events: (1..=8).map(|r| event(r, 700)).collect(),
            ..Default::default()
        };
        // Under the limit, or a single event: unchanged.
        assert_eq!(
            fragments(resp.clone(), 1 << 20),
            VecDeque::from([resp.clone()])
        );
        let one = WatchResponse {
            events: vec![event(1, 5000)],
            ..Default::default()
        };
        assert_eq!(fragments(one.clone(), 100), VecDeque::from([one]));
        // 2 events of ~720 bytes fit under 1500, a third does not.
        let parts = fragments(resp.clone(), 1500);
        assert_eq!(parts.len(), 4);
        for (i, p) in parts.iter().enumerate() {
            assert_eq!(p.fragment, i + 1 < parts.len());
            assert_eq!(p.watch_id, 3);
            assert_eq!(p.events.len(), 2);
            let mut check = p.clone();
            check.fragment = true;
            assert!(check.encoded_len() < 1500);
        }
        let joined: Vec<Event> = parts.into_iter().flat_map(|p| p.events).collect();
        assert_eq!(joined, resp.events);
        // Events bigger than the limit go one per fragment.
        let parts = fragments(resp.clone(), 500);
        assert_eq!(parts.len(), 8);
        assert!(parts.iter().all(|p| p.events.len() == 1));
    }
}
