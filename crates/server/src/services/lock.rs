//! The Lock service (v3lockpb): distributed locks on leases and transactions.

use std::sync::Arc;

use etcd_api::etcdserverpb::DeleteRangeRequest;
use etcd_api::v3lockpb::lock_server::Lock;
use etcd_api::v3lockpb::{LockRequest, LockResponse, UnlockRequest, UnlockResponse};
use tonic::{Request, Response, Status};

use super::admit;
use crate::concurrency::{self, ConcurrencyError};
use crate::server::EtcdServer;

pub struct LockService(pub Arc<EtcdServer>);

#[tonic::async_trait]
impl Lock for LockService {
    /// Waits for the lock; a client that goes away stops waiting and its key is deleted.
    async fn lock(&self, req: Request<LockRequest>) -> Result<Response<LockResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        let req = req.into_inner();
        let resp = concurrency::lock(&self.0, &req.name, req.lease, &auth).await?;
        Ok(Response::new(resp))
    }

    /// Deletes the lock's key, whoever holds it (etcd's Unlock is a plain delete; its
    /// errors come as the recipes' do).
    async fn unlock(
        &self,
        req: Request<UnlockRequest>,
    ) -> Result<Response<UnlockResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        let del = DeleteRangeRequest {
            key: req.into_inner().key,
            ..Default::default()
        };
        let resp = self
            .0
            .delete_range(del, &auth)
            .await
            .map_err(ConcurrencyError::from)?;
        Ok(Response::new(UnlockResponse {
            header: resp.header,
        }))
    }
}
