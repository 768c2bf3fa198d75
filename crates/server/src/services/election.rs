//! The Election service (v3electionpb): leader election on leases and transactions.

use std::sync::Arc;

use etcd_api::v3electionpb::election_server::Election;
use etcd_api::v3electionpb::{
    CampaignRequest, CampaignResponse, LeaderRequest, LeaderResponse, ProclaimRequest,
    ProclaimResponse, ResignRequest, ResignResponse,
};
use futures::StreamExt as _;
use futures::stream::BoxStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::admit;
use crate::concurrency;
use crate::server::EtcdServer;

pub struct ElectionService(pub Arc<EtcdServer>);

#[tonic::async_trait]
impl Election for ElectionService {
    /// Waits for leadership; a client that goes away stops waiting and resigns.
    async fn campaign(
        &self,
        req: Request<CampaignRequest>,
    ) -> Result<Response<CampaignResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        let req = req.into_inner();
        let resp = concurrency::campaign(&self.0, req.name, req.lease, req.value, &auth).await?;
        Ok(Response::new(resp))
    }

    async fn proclaim(
        &self,
        req: Request<ProclaimRequest>,
    ) -> Result<Response<ProclaimResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        let req = req.into_inner();
        let resp = concurrency::proclaim(&self.0, req.leader, req.value, &auth).await?;
        Ok(Response::new(resp))
    }

    async fn leader(
        &self,
        req: Request<LeaderRequest>,
    ) -> Result<Response<LeaderResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        let resp = concurrency::leader(&self.0, &req.into_inner().name, &auth).await?;
        Ok(Response::new(resp))
    }

    async fn observe(
        &self,
        req: Request<LeaderRequest>,
    ) -> Result<Response<BoxStream<'static, Result<LeaderResponse, Status>>>, Status> {
        let auth = admit(&self.0, &req)?;
        let leaders = concurrency::observe(self.0.clone(), &req.into_inner().name, auth);
        Ok(Response::new(ReceiverStream::new(leaders).map(Ok).boxed()))
    }

    async fn resign(
        &self,
        req: Request<ResignRequest>,
    ) -> Result<Response<ResignResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        let resp = concurrency::resign(&self.0, req.into_inner().leader, &auth).await?;
        Ok(Response::new(resp))
    }
}
