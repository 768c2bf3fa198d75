//! EtcdServer: the raft loop over raft-rs's RawNode, the proposal pipeline, the apply loop,
//! linearizable reads and the gRPC services of the etcd v3 API.
//!
//! A write flows: gRPC service -> [`EtcdServer::propose`] (gap check, request ID, size
//! check, waiter) -> raft loop (group commit to the WAL) -> apply loop (mvcc, consistent
//! index in the same backend write) -> waiter.

mod alarms;
mod apply;
mod bootstrap;
mod cluster_ops;
mod concurrency;
mod conf_change;
mod config;
mod error;
mod ids;
mod kv;
mod lease_ops;
mod membership;
pub mod metrics;
mod node_state;
mod peer_client;
mod peer_http;
mod peer_transport;
mod proposal;
mod proposal_batch;
mod raft_log;
mod raft_logger;
mod raft_loop;
mod read_index;
mod server;
mod services;
mod snapshot_send;
mod spin_recv;
mod status;
mod wait;

pub use config::{DEFAULT_QUOTA_BYTES, JoinCluster, ServerConfig};
pub use error::ServerError;
pub use ids::{cluster_id, id_hex, member_id};
pub use membership::Member;
pub use peer_client::{PeerResponse, request as peer_request};
pub use peer_http::{parse_members, peer_routes};
pub use proposal::{AuthInfo, MAX_APPLY_GAP};
pub use raft_loop::{NoPeers, Peers};
pub use server::{CLUSTER_VERSION, EtcdServer, SERVER_VERSION};
pub use services::{GRPC_OVERHEAD_BYTES, grpc_routes};
pub use status::{to_status, wire_error};
