//! The crate's error type: what `Raft::process` may refuse with, and everything that can
//! go wrong while sending or receiving raft messages.

use std::io;
use std::path::PathBuf;

/// Errors of the peer transport.
///
/// The first three variants are the ones a [`Raft`](crate::Raft) implementation returns
/// from `process`; the receiving handler maps them to HTTP statuses (410, 503, 500).
/// IDs are printed in etcd's lower-case hex.
#[derive(Debug, thiserror::Error)]
pub enum RaftHttpError {
    /// The sender was removed from the cluster; answered with 410 Gone.
    #[error("cannot process message from removed member {id:x}")]
    MemberRemoved { id: u64 },

    /// The raft loop no longer accepts messages (it is stopping); answered with 503.
    #[error("raft is stopped")]
    RaftStopped,

    /// Any other refusal by the raft loop; answered with 500.
    #[error("failed to process raft message: {reason}")]
    Process { reason: String },

    /// A raft message could not be encoded.
    #[error("failed to encode raft message: {reason}")]
    Encode { reason: String },

    /// A raft message or its framing could not be decoded.
    #[error("failed to decode raft message: {reason}")]
    Decode { reason: String },

    /// A frame announced more bytes than we accept for one message.
    #[error("raft message of {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge { size: u64, limit: u64 },

    /// A peer URL that cannot be parsed.
    #[error("invalid peer URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// Connecting to a peer failed.
    #[error(transparent)]
    Dial(#[from] etcd_transport::TransportError),

    /// The HTTP exchange with a peer failed.
    #[error("{action} {url}: {source}")]
    Http {
        action: &'static str,
        url: String,
        source: hyper::Error,
    },

    /// A peer did not answer in time.
    #[error("{action} {url}: timed out")]
    Timeout { action: &'static str, url: String },

    /// A peer answered with a status we do not expect for this request.
    #[error("unexpected http status {status} while {action} {url}")]
    UnexpectedStatus {
        status: u16,
        action: &'static str,
        url: String,
    },

    /// The peer belongs to another cluster (it answered 412 "cluster ID mismatch").
    #[error("cluster ID mismatch (local {local:x}, remote {remote})")]
    ClusterIdMismatch { local: u64, remote: String },

    /// The peer's version is incompatible with ours (it answered 412 "incompatible version").
    #[error("incompatible version")]
    IncompatibleVersion,

    /// A peer told us (410 Gone or 403) that this member was removed from the cluster.
    #[error("the member has been permanently removed from the cluster")]
    RemovedFromCluster { by: u64 },

    /// A peer does not know this member yet (its stream handler answered 404).
    #[error("peer {peer:x} failed to find local node {local:x}")]
    UnknownToPeer { peer: u64, local: u64 },

    /// Receiving a request or response body failed.
    #[error("reading body: {reason}")]
    ReceiveBody { reason: String },

    /// A stream or request body ended before a message was complete.
    #[error("connection closed before the message was complete")]
    Truncated,

    /// A snapshot carried a raft message of another type than MsgSnapshot.
    #[error("wrong raft message type {msg_type}")]
    NotASnapshot { msg_type: String },

    /// The snapshot data source ended before the announced size.
    #[error("snapshot data ended after {got} of {expected} bytes")]
    SnapshotShort { expected: u64, got: u64 },

    /// Reading the snapshot data source failed.
    #[error("reading snapshot data: {source}")]
    SnapshotRead { source: io::Error },

    /// A file-system operation on a received snapshot failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },

    /// The transport has been stopped.
    #[error("transport stopped")]
    TransportStopped,
}

impl RaftHttpError {
    /// Wraps an I/O error with the operation and path it concerns.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        RaftHttpError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_printed_in_hex() {
        let err = RaftHttpError::MemberRemoved {
            id: 0x8e9e05c52164694d,
        };
        assert_eq!(
            err.to_string(),
            "cannot process message from removed member 8e9e05c52164694d"
        );
        let err = RaftHttpError::UnknownToPeer {
            peer: 0xab,
            local: 0x1,
        };
        assert_eq!(err.to_string(), "peer ab failed to find local node 1");
    }
}
