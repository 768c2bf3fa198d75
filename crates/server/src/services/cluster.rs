//! The Cluster service: the membership as clients see it.

use std::sync::Arc;

use etcd_api::etcdserverpb::cluster_server::Cluster;
use etcd_api::etcdserverpb::{MemberListRequest, MemberListResponse};
use tonic::{Request, Response, Status};

use crate::server::EtcdServer;

pub struct ClusterService(pub Arc<EtcdServer>);

#[tonic::async_trait]
impl Cluster for ClusterService {
    async fn member_list(
        &self,
        req: Request<MemberListRequest>,
    ) -> Result<Response<MemberListResponse>, Status> {
        if req.into_inner().linearizable {
            self.0.linearizable_read_notify().await?;
        }
        Ok(Response::new(MemberListResponse {
            header: Some(self.0.header(self.0.store().current_revision())),
            members: self.0.membership().members_pb(),
        }))
    }
}
