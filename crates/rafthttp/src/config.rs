//! What a [`Transport`](crate::Transport) needs to know about the local member.

use std::path::PathBuf;
use std::time::Duration;

/// etcd's default peer dial timeout.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(1);

/// etcd's `ConnWriteTimeout`: a write to a peer pending longer than this fails.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of the peer transport.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// This member's ID (sent as `X-Server-From`, expected in `X-Raft-To`).
    pub local_id: u64,
    /// The cluster's ID (`X-Etcd-Cluster-ID`); requests from another cluster get 412.
    pub cluster_id: u64,
    /// Sent as `X-Server-Version`; peers older than our minimum cluster version are refused.
    pub server_version: String,
    /// Sent as `X-Min-Cluster-Version`.
    pub min_cluster_version: String,
    /// TLS material for dialing `https` peers. Plain `http` peers ignore it.
    pub tls: Option<etcd_transport::TlsInfo>,
    /// Limit for establishing a connection to a peer.
    pub dial_timeout: Duration,
    /// A write to a peer that stays pending this long fails and the connection is dropped.
    pub write_timeout: Duration,
    /// Where received snapshot databases are written (see [`crate::snapshot_db_path`]).
    /// Must exist.
    pub snapshot_dir: PathBuf,
}
