//! The KV service.

use std::sync::Arc;

use etcd_api::etcdserverpb::kv_server::Kv;
use etcd_api::etcdserverpb::{
    CompactionRequest, CompactionResponse, DeleteRangeRequest, DeleteRangeResponse, PutRequest,
    PutResponse, RangeRequest, RangeResponse, TxnRequest, TxnResponse,
};
use tonic::{Request, Response, Status};

use super::admit;
use crate::server::EtcdServer;

pub struct KvService(pub Arc<EtcdServer>);

#[tonic::async_trait]
impl Kv for KvService {
    async fn range(&self, req: Request<RangeRequest>) -> Result<Response<RangeResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        Ok(Response::new(self.0.range(req.into_inner(), &auth).await?))
    }

    async fn put(&self, req: Request<PutRequest>) -> Result<Response<PutResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        Ok(Response::new(self.0.put(req.into_inner(), &auth).await?))
    }

    async fn delete_range(
        &self,
        req: Request<DeleteRangeRequest>,
    ) -> Result<Response<DeleteRangeResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        Ok(Response::new(
            self.0.delete_range(req.into_inner(), &auth).await?,
        ))
    }

    async fn txn(&self, req: Request<TxnRequest>) -> Result<Response<TxnResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        Ok(Response::new(self.0.txn(req.into_inner(), &auth).await?))
    }

    async fn compact(
        &self,
        req: Request<CompactionRequest>,
    ) -> Result<Response<CompactionResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        Ok(Response::new(
            self.0.compact(req.into_inner(), &auth).await?,
        ))
    }
}
