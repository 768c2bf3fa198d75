//! The Cluster service: the membership as clients see and change it.

use std::sync::Arc;

use etcd_api::etcdserverpb::cluster_server::Cluster;
use etcd_api::etcdserverpb::{
    Member as PbMember, MemberAddRequest, MemberAddResponse, MemberListRequest, MemberListResponse,
    MemberPromoteRequest, MemberPromoteResponse, MemberRemoveRequest, MemberRemoveResponse,
    MemberUpdateRequest, MemberUpdateResponse,
};
use tonic::{Request, Response, Status};

use crate::membership::Member;
use crate::server::EtcdServer;

pub struct ClusterService(pub Arc<EtcdServer>);

fn pb(members: &[Member]) -> Vec<PbMember> {
    members.iter().map(Member::to_pb).collect()
}

impl ClusterService {
    fn header(&self) -> Option<etcd_api::etcdserverpb::ResponseHeader> {
        Some(self.0.header(self.0.store().current_revision()))
    }
}

#[tonic::async_trait]
impl Cluster for ClusterService {
    async fn member_add(
        &self,
        req: Request<MemberAddRequest>,
    ) -> Result<Response<MemberAddResponse>, Status> {
        let req = req.into_inner();
        let (member, members) = self.0.member_add(req.peer_ur_ls, req.is_learner).await?;
        Ok(Response::new(MemberAddResponse {
            header: self.header(),
            member: Some(member.to_pb()),
            members: pb(&members),
        }))
    }

    async fn member_remove(
        &self,
        req: Request<MemberRemoveRequest>,
    ) -> Result<Response<MemberRemoveResponse>, Status> {
        let members = self.0.member_remove(req.into_inner().id).await?;
        Ok(Response::new(MemberRemoveResponse {
            header: self.header(),
            members: pb(&members),
        }))
    }

    async fn member_update(
        &self,
        req: Request<MemberUpdateRequest>,
    ) -> Result<Response<MemberUpdateResponse>, Status> {
        let req = req.into_inner();
        let members = self.0.member_update(req.id, req.peer_ur_ls).await?;
        Ok(Response::new(MemberUpdateResponse {
            header: self.header(),
            members: pb(&members),
        }))
    }

    async fn member_list(
        &self,
        req: Request<MemberListRequest>,
    ) -> Result<Response<MemberListResponse>, Status> {
        if req.into_inner().linearizable {
            self.0.linearizable_read_notify().await?;
        }
        Ok(Response::new(MemberListResponse {
            header: self.header(),
            members: self.0.membership().members_pb(),
        }))
    }

    async fn member_promote(
        &self,
        req: Request<MemberPromoteRequest>,
    ) -> Result<Response<MemberPromoteResponse>, Status> {
        let members = self.0.member_promote(req.into_inner().id).await?;
        Ok(Response::new(MemberPromoteResponse {
            header: self.header(),
            members: pb(&members),
        }))
    }
}
