//! Dialing: one tonic channel (one HTTP/2 connection) per `--conns`, round-robin over the
//! endpoints, or only to the leader with `--target-leader`.

use etcd_api::etcdserverpb::StatusRequest;
use etcd_api::etcdserverpb::maintenance_client::MaintenanceClient;
use futures::future::{join_all, try_join_all};
use tonic::transport::{Channel, Endpoint};

use crate::endpoint::parse_endpoints;
use crate::{Error, Options};

/// The connections of one run; clients share them round-robin.
#[derive(Debug, Clone)]
pub(crate) struct Connections {
    channels: Vec<Channel>,
}

impl Connections {
    /// The channel of client (or stream) number `i`.
    pub(crate) fn for_client(&self, i: usize) -> Channel {
        self.channels[i % self.channels.len()].clone()
    }
}

/// Opens `options.conns` connections; fails if any cannot be established.
pub(crate) async fn dial(options: &Options) -> Result<Connections, Error> {
    let mut endpoints = parse_endpoints(&options.endpoints)?;
    if options.target_leader {
        endpoints = vec![find_leader(&endpoints, options).await?];
    }
    let channels =
        try_join_all((0..options.conns).map(|i| connect(&endpoints[i % endpoints.len()], options)))
            .await?;
    Ok(Connections { channels })
}

/// Receive window of each HTTP/2 stream.
const STREAM_WINDOW: u32 = 4 << 20;

/// Receive window of each HTTP/2 connection.
const CONNECTION_WINDOW: u32 = 16 << 20;

/// Connects eagerly, with the channel options tuned for throughput.
///
/// Windows are large and fixed rather than adaptive: hyper's adaptive window sends BDP
/// pings, and a Go gRPC server (etcd) answers pings that outnumber the DATA frames it
/// sends with GOAWAY `ENHANCE_YOUR_CALM` ("too_many_pings"), which kills watch streams.
async fn connect(uri: &str, options: &Options) -> Result<Channel, Error> {
    let failed = |source| Error::Connect {
        endpoint: uri.to_owned(),
        source,
    };
    Endpoint::from_shared(uri.to_owned())
        .map_err(failed)?
        .tcp_nodelay(true)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .connect_timeout(options.dial_timeout)
        .connect()
        .await
        .map_err(failed)
}

/// The endpoint whose member reports itself as the leader. Unreachable endpoints are
/// skipped; fails when none of the endpoints is the leader.
async fn find_leader(endpoints: &[String], options: &Options) -> Result<String, Error> {
    let answers = join_all(endpoints.iter().map(|uri| async move {
        let channel = connect(uri, options).await.ok()?;
        let status = MaintenanceClient::new(channel)
            .status(StatusRequest {})
            .await
            .ok()?
            .into_inner();
        let member = status.header?.member_id;
        (status.leader != 0 && status.leader == member).then(|| uri.clone())
    }))
    .await;
    answers
        .into_iter()
        .flatten()
        .next()
        .ok_or_else(|| Error::NoLeader {
            endpoints: endpoints.to_vec(),
        })
}
