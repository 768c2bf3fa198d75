//! The Lease service: grant, revoke, keep-alive streams, time-to-live, list.

use std::sync::Arc;

use etcd_api::etcdserverpb::lease_server::Lease;
use etcd_api::etcdserverpb::{
    LeaseGrantRequest, LeaseGrantResponse, LeaseKeepAliveRequest, LeaseKeepAliveResponse,
    LeaseLeasesRequest, LeaseLeasesResponse, LeaseRevokeRequest, LeaseRevokeResponse,
    LeaseTimeToLiveRequest, LeaseTimeToLiveResponse,
};
use futures::stream::BoxStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::admit;
use crate::server::EtcdServer;

pub struct LeaseService(pub Arc<EtcdServer>);

#[tonic::async_trait]
impl Lease for LeaseService {
    async fn lease_grant(
        &self,
        req: Request<LeaseGrantRequest>,
    ) -> Result<Response<LeaseGrantResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        Ok(Response::new(
            self.0.lease_grant(req.into_inner(), &auth).await?,
        ))
    }

    async fn lease_revoke(
        &self,
        req: Request<LeaseRevokeRequest>,
    ) -> Result<Response<LeaseRevokeResponse>, Status> {
        let auth = admit(&self.0, &req)?;
        Ok(Response::new(
            self.0.lease_revoke(req.into_inner().id, &auth).await?,
        ))
    }

    async fn lease_keep_alive(
        &self,
        req: Request<Streaming<LeaseKeepAliveRequest>>,
    ) -> Result<Response<BoxStream<'static, Result<LeaseKeepAliveResponse, Status>>>, Status> {
        let mut incoming = req.into_inner();
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let server = self.0.clone();
        // etcd's leaseKeepAlive: one renewal at a time, in order. A renewal rides out
        // leader changes itself (see `EtcdServer::lease_renew`), so only a real error
        // (stopped, or no leader / timeout for a whole request timeout) ends the stream,
        // with that error. The loop ends as soon as the client goes away.
        tokio::spawn(async move {
            loop {
                let req = tokio::select! {
                    m = incoming.message() => match m {
                        Ok(Some(r)) => r,
                        Ok(None) | Err(_) => return,
                    },
                    _ = tx.closed() => return,
                };
                // The header is taken before the renewal, as etcd does.
                let header = Some(server.header(server.store().current_revision()));
                let renewed = tokio::select! {
                    r = server.lease_renew(req.id) => r,
                    _ = tx.closed() => return,
                };
                let answer = match renewed {
                    Ok(ttl) => Ok(LeaseKeepAliveResponse {
                        header,
                        id: req.id,
                        ttl,
                    }),
                    Err(e) => Err(Status::from(e)),
                };
                let failed = answer.is_err();
                if tx.send(answer).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn lease_time_to_live(
        &self,
        req: Request<LeaseTimeToLiveRequest>,
    ) -> Result<Response<LeaseTimeToLiveResponse>, Status> {
        Ok(Response::new(
            self.0.lease_time_to_live(req.into_inner()).await?,
        ))
    }

    async fn lease_leases(
        &self,
        _req: Request<LeaseLeasesRequest>,
    ) -> Result<Response<LeaseLeasesResponse>, Status> {
        Ok(Response::new(self.0.lease_leases()))
    }
}
