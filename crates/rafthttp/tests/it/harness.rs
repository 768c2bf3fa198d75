//! Test harness: a recording fake `Raft`, a node (transport + served router), raw
//! requests, and polling helpers.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use bytes::Bytes;
use etcd_rafthttp::{RaftHttpError, Transport, TransportConfig, snapshot_db_path};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use parking_lot::Mutex;
use raft::SnapshotStatus;
use raft::eraftpb::{Message, MessageType};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

pub const CLUSTER: u64 = 0xc1;

/// What the transport handed to raft, for assertions.
#[derive(Default)]
pub struct FakeRaft {
    pub received: Mutex<Vec<Message>>,
    pub unreachable: Mutex<Vec<u64>>,
    pub snapshots: Mutex<Vec<(u64, SnapshotStatus)>>,
    pub removed: Mutex<HashSet<u64>>,
    /// When set, MsgSnapshot is refused.
    pub refuse_snapshots: AtomicBool,
    /// Set by the node: where snapshot databases land.
    pub snapshot_dir: Mutex<PathBuf>,
    /// For each MsgSnapshot processed: the size of its database file at that moment.
    pub snapshot_file_sizes: Mutex<Vec<Option<u64>>>,
}

impl FakeRaft {
    pub fn received_commits(&self, ty: MessageType) -> Vec<u64> {
        self.received
            .lock()
            .iter()
            .filter(|m| m.get_msg_type() == ty)
            .map(|m| m.commit)
            .collect()
    }

    pub fn got_commit(&self, commit: u64) -> bool {
        self.received.lock().iter().any(|m| m.commit == commit)
    }

    pub fn unreachable_count(&self, id: u64) -> usize {
        self.unreachable.lock().iter().filter(|&&i| i == id).count()
    }
}

impl etcd_rafthttp::Raft for FakeRaft {
    fn process(&self, msg: Message) -> Result<(), RaftHttpError> {
        if msg.get_msg_type() == MessageType::MsgSnapshot {
            if self.refuse_snapshots.load(Ordering::SeqCst) {
                return Err(RaftHttpError::Process {
                    reason: "refused by test".into(),
                });
            }
            let path = snapshot_db_path(
                &self.snapshot_dir.lock(),
                msg.get_snapshot().get_metadata().index,
            );
            let size = std::fs::metadata(path).ok().map(|m| m.len());
            self.snapshot_file_sizes.lock().push(size);
        }
        self.received.lock().push(msg);
        Ok(())
    }

    fn is_id_removed(&self, id: u64) -> bool {
        self.removed.lock().contains(&id)
    }

    fn report_unreachable(&self, id: u64) {
        self.unreachable.lock().push(id);
    }

    fn report_snapshot(&self, id: u64, status: SnapshotStatus) {
        self.snapshots.lock().push((id, status));
    }
}

/// Requests a node's router saw, as (method, path).
#[derive(Default)]
pub struct RequestLog(Mutex<Vec<(String, String)>>);

impl RequestLog {
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.0
            .lock()
            .iter()
            .filter(|(m, p)| m == method && p.starts_with(path_prefix))
            .count()
    }
}

async fn record(State(log): State<Arc<RequestLog>>, req: Request, next: Next) -> Response {
    log.0
        .lock()
        .push((req.method().to_string(), req.uri().path().to_string()));
    next.run(req).await
}

/// A member: a transport served on its own listener.
pub struct Node {
    pub id: u64,
    pub raft: Arc<FakeRaft>,
    pub transport: Arc<Transport>,
    pub addr: SocketAddr,
    pub requests: Arc<RequestLog>,
    pub dir: tempfile::TempDir,
    server: JoinHandle<()>,
}

impl Node {
    pub async fn start(id: u64) -> Node {
        Node::start_with(id, CLUSTER, "127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_with(id: u64, cluster: u64, addr: SocketAddr) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let raft = Arc::new(FakeRaft::default());
        *raft.snapshot_dir.lock() = dir.path().to_path_buf();
        let cfg = TransportConfig {
            local_id: id,
            cluster_id: cluster,
            server_version: "3.5.0".into(),
            min_cluster_version: "3.0.0".into(),
            tls: None,
            dial_timeout: etcd_rafthttp::DEFAULT_DIAL_TIMEOUT,
            write_timeout: etcd_rafthttp::DEFAULT_WRITE_TIMEOUT,
            snapshot_dir: dir.path().to_path_buf(),
        };
        let transport = Transport::new(cfg, raft.clone());
        let requests = Arc::new(RequestLog::default());
        let router = transport
            .handler()
            .layer(middleware::from_fn_with_state(requests.clone(), record));
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every connection.
            let mut conns = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let svc = TowerToHyperService::new(router.clone());
                conns.spawn(async move {
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Node {
            id,
            raft,
            transport,
            addr,
            requests,
            dir,
            server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Makes `self` and `other` peers of each other.
    pub fn connect(&self, other: &Node) {
        self.transport.add_peer(other.id, vec![other.url()]);
        other.transport.add_peer(self.id, vec![self.url()]);
    }

    /// Stops the transport and the server, closing every connection.
    pub async fn shutdown(self) {
        self.transport.stop();
        self.server.abort();
        let _ = self.server.await;
    }

    pub fn pipeline_posts(&self) -> usize {
        self.requests.count("POST", "/raft") - self.requests.count("POST", "/raft/snapshot")
    }
}

/// A raft message marked by `commit`.
pub fn msg(ty: MessageType, from: u64, to: u64, commit: u64) -> Message {
    let mut m = Message::default();
    m.set_msg_type(ty);
    m.from = from;
    m.to = to;
    m.term = 1;
    m.commit = commit;
    m
}

/// Polls `cond` every few milliseconds until it holds; fails the test after `secs`.
pub async fn wait_until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Polls `cond` every few milliseconds for up to `ms`; true if it came to hold.
pub async fn holds_within(ms: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while !cond() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

/// Sends marked heartbeats from `from` to `to` until one is delivered without a
/// pipeline request: the stream from `from` to `to` is up. A marker written into a
/// connection that has just died is lost, as raft messages may be; the next one is
/// sent after a while. Returns the next free marker.
pub async fn wait_stream(from: &Node, to: &Node, mut marker: u64) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while tokio::time::Instant::now() < deadline {
        let posts = to.pipeline_posts();
        marker += 1;
        from.transport
            .send(vec![msg(MessageType::MsgHeartbeat, from.id, to.id, marker)]);
        let m = marker;
        if holds_within(500, || to.raft.got_commit(m)).await && to.pipeline_posts() == posts {
            return marker + 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the stream from {:x} to {:x} never came up", from.id, to.id);
}

/// A raw HTTP/1.1 request to a node; returns the status and body text.
pub async fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Bytes,
) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = sender
        .send_request(req.body(Full::new(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    if status == 200 && path.starts_with("/raft/stream/") {
        // An accepted stream never ends; its body is not read here.
        return (status, String::new());
    }
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The headers a well-behaved member `from` sends to member `to`.
pub fn peer_headers(cluster: u64, from: u64, to: u64) -> Vec<(&'static str, String)> {
    vec![
        ("x-etcd-cluster-id", format!("{cluster:x}")),
        ("x-server-from", format!("{from:x}")),
        ("x-server-version", "3.5.0".into()),
        ("x-min-cluster-version", "3.0.0".into()),
        ("x-raft-to", format!("{to:x}")),
    ]
}

/// A protobuf-encoded message, as a pipeline body.
pub fn encoded(m: &Message) -> Bytes {
    use protobuf::Message as _;
    Bytes::from(m.write_to_bytes().unwrap())
}
