//! The Watch service over real gRPC against an in-process member: etcd's response
//! shapes, and a checker of the watch guarantees under concurrent writers.

mod guarantees;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use etcd_api::etcdserverpb::kv_client::KvClient;
use etcd_api::etcdserverpb::watch_client::WatchClient;
use etcd_api::etcdserverpb::watch_request::RequestUnion;
use etcd_api::etcdserverpb::{
    PutRequest, WatchCancelRequest, WatchCreateRequest, WatchProgressRequest, WatchRequest,
    WatchResponse,
};
use etcd_server::{EtcdServer, ServerConfig, grpc_routes};
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::transport::Channel;

/// Long enough that only a bug makes a wait for a response time out.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A started member serving the client API on a free local port.
pub struct Member {
    pub server: Arc<EtcdServer>,
    pub addr: SocketAddr,
    _dir: TempDir,
}

impl Member {
    pub async fn start(adjust: impl FnOnce(&mut ServerConfig)) -> Member {
        Self::start_unready(adjust, true).await
    }

    /// Starts a member; waits for it to be ready only if `wait_ready`.
    pub async fn start_unready(adjust: impl FnOnce(&mut ServerConfig), wait_ready: bool) -> Member {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cfg = ServerConfig::for_test("m", dir.path().join("data"));
        adjust(&mut cfg);
        let server = EtcdServer::start(cfg).expect("start member");
        if wait_ready {
            assert!(server.ready().await, "member ready");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let routes = grpc_routes(server.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_routes(routes)
                .serve_with_incoming(TcpListenerStream::new(listener)),
        );
        Member {
            server,
            addr,
            _dir: dir,
        }
    }

    pub async fn channel(&self) -> Channel {
        tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect")
    }

    pub async fn kv(&self) -> KvClient<Channel> {
        KvClient::new(self.channel().await)
    }

    pub async fn put(&self, key: &str, value: &str) -> i64 {
        put(&mut self.kv().await, key, value).await
    }
}

pub async fn put(kv: &mut KvClient<Channel>, key: &str, value: &str) -> i64 {
    kv.put(PutRequest {
        key: key.as_bytes().to_vec().into(),
        value: value.as_bytes().to_vec().into(),
        ..Default::default()
    })
    .await
    .expect("put")
    .into_inner()
    .header
    .expect("header")
    .revision
}

/// One Watch call: a request sender and the response stream.
pub struct WatchConn {
    pub tx: mpsc::Sender<WatchRequest>,
    pub rx: tonic::Streaming<WatchResponse>,
}

impl WatchConn {
    pub async fn open(ch: Channel) -> WatchConn {
        Self::open_with(ch, false).await.expect("open watch stream")
    }

    pub async fn open_with(ch: Channel, require_leader: bool) -> Result<WatchConn, tonic::Status> {
        let (tx, rx) = mpsc::channel(64);
        let mut req = tonic::Request::new(ReceiverStream::new(rx));
        if require_leader {
            req.metadata_mut()
                .insert("hasleader", "true".parse().expect("metadata value"));
        }
        let rx = WatchClient::new(ch).watch(req).await?.into_inner();
        Ok(WatchConn { tx, rx })
    }

    pub async fn send(&self, req: RequestUnion) {
        self.tx
            .send(WatchRequest {
                request_union: Some(req),
            })
            .await
            .expect("send watch request");
    }

    pub async fn create(&self, c: WatchCreateRequest) {
        self.send(RequestUnion::CreateRequest(c)).await;
    }

    pub async fn cancel(&self, watch_id: i64) {
        self.send(RequestUnion::CancelRequest(WatchCancelRequest { watch_id }))
            .await;
    }

    pub async fn progress(&self) {
        self.send(RequestUnion::ProgressRequest(WatchProgressRequest {}))
            .await;
    }

    pub async fn next(&mut self) -> WatchResponse {
        tokio::time::timeout(PATIENCE, self.rx.message())
            .await
            .expect("a response within the patience")
            .expect("stream ok")
            .expect("stream open")
    }
}

pub fn create_req(key: &str, end: &str) -> WatchCreateRequest {
    WatchCreateRequest {
        key: key.as_bytes().to_vec().into(),
        range_end: end.as_bytes().to_vec().into(),
        ..Default::default()
    }
}

pub fn rev_of(resp: &WatchResponse) -> i64 {
    resp.header.as_ref().map_or(-1, |h| h.revision)
}
