//! The gRPC services of the etcd v3 API, and the router that serves them. Services whose
//! RPCs belong to later work answer `Unimplemented` (tonic's default for unknown paths).

mod cluster;
mod election;
mod kv;
mod lease;
mod lock;
mod maintenance;
mod watch;

use std::sync::Arc;

use etcd_api::etcdserverpb::{
    cluster_server::ClusterServer, kv_server::KvServer, lease_server::LeaseServer,
    maintenance_server::MaintenanceServer, watch_server::WatchServer,
};
use tonic::service::Routes;

use crate::server::EtcdServer;

/// gRPC leaves this much room above `--max-request-bytes` so the server, not the codec,
/// answers "request is too large" for requests just over the limit (etcd's grpcOverheadBytes).
pub const GRPC_OVERHEAD_BYTES: usize = 512 * 1024;

/// Every client-facing gRPC service of the member.
pub fn grpc_routes(server: Arc<EtcdServer>) -> Routes {
    let max_recv = server.config().max_request_bytes + GRPC_OVERHEAD_BYTES;
    let kv = KvServer::new(kv::KvService(server.clone()))
        .max_decoding_message_size(max_recv)
        .max_encoding_message_size(usize::MAX);
    let maintenance = MaintenanceServer::new(maintenance::MaintenanceService(server.clone()))
        .max_decoding_message_size(max_recv)
        .max_encoding_message_size(usize::MAX);
    let election = etcd_api::v3electionpb::election_server::ElectionServer::new(
        election::ElectionService(server.clone()),
    )
    .max_decoding_message_size(max_recv)
    .max_encoding_message_size(usize::MAX);
    let lock = etcd_api::v3lockpb::lock_server::LockServer::new(lock::LockService(server.clone()))
        .max_decoding_message_size(max_recv)
        .max_encoding_message_size(usize::MAX);
    let lease = LeaseServer::new(lease::LeaseService(server.clone()))
        .max_decoding_message_size(max_recv)
        .max_encoding_message_size(usize::MAX);
    let watch = WatchServer::new(watch::WatchService(server.clone()))
        .max_decoding_message_size(max_recv)
        .max_encoding_message_size(usize::MAX);
    let cluster = ClusterServer::new(cluster::ClusterService(server))
        .max_decoding_message_size(max_recv)
        .max_encoding_message_size(usize::MAX);
    Routes::new(kv)
        .add_service(maintenance)
        .add_service(cluster)
        .add_service(watch)
        .add_service(lease)
        .add_service(election)
        .add_service(lock)
}

/// The auth info of a request, from its token (filled in by the auth work).
/// What every unary request goes through before it is served: etcd's require-leader
/// check (metadata `hasleader: true` on a member without a leader answers "no leader" at
/// once) and the caller's auth info (from its token, filled in by the auth work).
fn admit<T>(
    server: &EtcdServer,
    req: &tonic::Request<T>,
) -> Result<crate::proposal::AuthInfo, tonic::Status> {
    let wants_leader = req
        .metadata()
        .get(REQUIRE_LEADER_KEY)
        .is_some_and(|v| v == HAS_LEADER);
    if wants_leader && server.leader() == 0 {
        return Err(crate::error::ServerError::NoLeader.into());
    }
    Ok(crate::proposal::AuthInfo::default())
}

/// etcd's gRPC metadata for "only serve me if there is a leader".
pub(super) const REQUIRE_LEADER_KEY: &str = "hasleader";
pub(super) const HAS_LEADER: &str = "true";
