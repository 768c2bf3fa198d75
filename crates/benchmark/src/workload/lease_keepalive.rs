//! `lease-keepalive`: one lease per client, then back-to-back keep-alive round trips on
//! each client's bidirectional `Lease.LeaseKeepAlive` stream.

use etcd_api::etcdserverpb::lease_client::LeaseClient;
use etcd_api::etcdserverpb::{
    LeaseGrantRequest, LeaseKeepAliveRequest, LeaseKeepAliveResponse, LeaseRevokeRequest,
};
use futures::channel::mpsc;
use futures::future::{join_all, try_join_all};
use tonic::transport::Channel;
use tonic::{Status, Streaming};

use crate::connect::Connections;
use crate::driver::{Worker, drive};
use crate::failure::describe;
use crate::{Error, Options, Outcome, Summary, progress};

/// TTL of the benchmark's leases in seconds, as etcd's tool grants them.
const LEASE_TTL: i64 = 100;

/// Options of `lease-keepalive`, with etcd benchmark's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseKeepaliveOptions {
    /// Number of keep-alive round trips.
    pub total: u64,
}

impl Default for LeaseKeepaliveOptions {
    fn default() -> Self {
        Self { total: 10_000 }
    }
}

/// An open keep-alive stream: requests go in through the sender.
struct KeepAliveStream {
    requests: mpsc::UnboundedSender<LeaseKeepAliveRequest>,
    responses: Streaming<LeaseKeepAliveResponse>,
}

struct KeepAliveWorker {
    client: LeaseClient<Channel>,
    lease: i64,
    /// Reopened on the next request after a failure.
    stream: Option<KeepAliveStream>,
}

impl KeepAliveWorker {
    async fn round_trip(&mut self) -> Result<LeaseKeepAliveResponse, Status> {
        let request = LeaseKeepAliveRequest { id: self.lease };
        let stream = match &mut self.stream {
            Some(stream) => {
                stream
                    .requests
                    .unbounded_send(request)
                    .map_err(|_| Status::unavailable("lease keepalive stream closed"))?;
                stream
            }
            None => {
                // etcd sends response headers only with the first message, so the first
                // request must be queued before the call is awaited.
                let (requests, rx) = mpsc::unbounded();
                requests
                    .unbounded_send(request)
                    .map_err(|_| Status::internal("request queue closed"))?;
                let responses = self.client.lease_keep_alive(rx).await?.into_inner();
                self.stream.insert(KeepAliveStream {
                    requests,
                    responses,
                })
            }
        };
        stream
            .responses
            .message()
            .await?
            .ok_or_else(|| Status::unavailable("lease keepalive stream closed"))
    }
}

impl Worker for KeepAliveWorker {
    async fn call(&mut self, _index: u64) -> Result<(), Status> {
        match self.round_trip().await {
            Ok(response) if response.ttl > 0 => Ok(()),
            Ok(_) => Err(Status::not_found("etcdserver: requested lease not found")),
            Err(status) => {
                self.stream = None;
                Err(status)
            }
        }
    }
}

async fn grant(channel: Channel) -> Result<(LeaseClient<Channel>, i64), Error> {
    let mut client = LeaseClient::new(channel);
    let response = client
        .lease_grant(LeaseGrantRequest {
            ttl: LEASE_TTL,
            id: 0,
        })
        .await
        .map_err(|status| Error::Setup {
            step: "lease grant",
            message: describe(&status),
        })?;
    Ok((client, response.into_inner().id))
}

pub(super) async fn run(
    o: &LeaseKeepaliveOptions,
    options: &Options,
    conns: &Connections,
) -> Result<Outcome, Error> {
    let granted = try_join_all((0..options.clients).map(|i| grant(conns.for_client(i)))).await?;
    let workers: Vec<_> = granted
        .into_iter()
        .map(|(client, lease)| KeepAliveWorker {
            client,
            lease,
            stream: None,
        })
        .collect();
    let cleanup: Vec<_> = workers
        .iter()
        .map(|w| (w.client.clone(), w.lease))
        .collect();
    let bar = progress::bar(options.progress, o.total);
    let driven = drive(workers, o.total, &bar).await?;
    bar.finish_and_clear();
    // Best effort: the leases would expire after their TTL anyway.
    join_all(cleanup.into_iter().map(|(mut client, id)| async move {
        let _ = client.lease_revoke(LeaseRevokeRequest { id }).await;
    }))
    .await;
    Ok(Outcome::single(Summary::new(
        "lease-keepalive",
        &driven.recorder,
        driven.elapsed,
    )))
}
