//! The Maintenance service: status, hashes, alarms and defragmentation.

use std::sync::Arc;

use etcd_api::etcdserverpb::maintenance_server::Maintenance;
use etcd_api::etcdserverpb::{
    AlarmRequest, AlarmResponse, DefragmentRequest, DefragmentResponse, HashKvRequest,
    HashKvResponse, MoveLeaderRequest, MoveLeaderResponse, StatusRequest, StatusResponse,
};
use tonic::{Request, Response, Status};

use crate::error::ServerError;
use crate::server::EtcdServer;

pub struct MaintenanceService(pub Arc<EtcdServer>);

#[tonic::async_trait]
impl Maintenance for MaintenanceService {
    async fn status(
        &self,
        _req: Request<StatusRequest>,
    ) -> Result<Response<StatusResponse>, Status> {
        Ok(Response::new(self.0.status()))
    }

    async fn hash_kv(
        &self,
        req: Request<HashKvRequest>,
    ) -> Result<Response<HashKvResponse>, Status> {
        let (hash, compact_revision, hash_revision) = self
            .0
            .store()
            .hash_kv(req.into_inner().revision)
            .map_err(ServerError::from)?;
        Ok(Response::new(HashKvResponse {
            header: Some(self.0.header(self.0.store().current_revision())),
            hash,
            compact_revision,
            hash_revision,
        }))
    }

    async fn alarm(&self, req: Request<AlarmRequest>) -> Result<Response<AlarmResponse>, Status> {
        let alarms = self
            .0
            .alarm(req.into_inner(), &crate::proposal::AuthInfo::default())
            .await?;
        Ok(Response::new(AlarmResponse {
            header: Some(self.0.header(self.0.store().current_revision())),
            alarms,
        }))
    }

    async fn defragment(
        &self,
        _req: Request<DefragmentRequest>,
    ) -> Result<Response<DefragmentResponse>, Status> {
        // The backend reclaims space on its own; there is nothing to rewrite.
        Ok(Response::new(DefragmentResponse {
            header: Some(self.0.header(self.0.store().current_revision())),
        }))
    }

    async fn move_leader(
        &self,
        req: Request<MoveLeaderRequest>,
    ) -> Result<Response<MoveLeaderResponse>, Status> {
        self.0.move_leader(req.into_inner().target_id).await?;
        Ok(Response::new(MoveLeaderResponse {
            header: Some(self.0.header(self.0.store().current_revision())),
        }))
    }
}
