//! The Watch service: one bidirectional stream carries many watchers.

use std::sync::Arc;

use etcd_api::etcdserverpb::watch_server::Watch;
use etcd_api::etcdserverpb::{WatchRequest, WatchResponse};
use futures::stream::BoxStream;
use tonic::{Request, Response, Status, Streaming};

use crate::server::EtcdServer;

pub struct WatchService(pub Arc<EtcdServer>);

#[tonic::async_trait]
impl Watch for WatchService {
    async fn watch(
        &self,
        req: Request<Streaming<WatchRequest>>,
    ) -> Result<Response<BoxStream<'static, Result<WatchResponse, Status>>>, Status> {
        let _ = (&self.0, req);
        Err(Status::unimplemented("watch is not implemented yet"))
    }
}
