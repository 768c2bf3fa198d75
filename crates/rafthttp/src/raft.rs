//! The server as the transport sees it: etcd's four-method `Raft` interface.

use raft::SnapshotStatus;
use raft::eraftpb::Message;

use crate::error::RaftHttpError;

/// The raft side of the member. Called from the transport's tasks and handlers, so every
/// method must return promptly and never block on the network or the disk.
pub trait Raft: Send + Sync + 'static {
    /// Hands a message from a peer to the raft loop. Must not block.
    ///
    /// Refusals map to HTTP statuses on pipeline and snapshot requests:
    /// [`RaftHttpError::MemberRemoved`] → 410, [`RaftHttpError::RaftStopped`] → 503,
    /// anything else → 500.
    fn process(&self, msg: Message) -> Result<(), RaftHttpError>;

    /// True when `id` was removed from the cluster; its requests are answered 410 Gone.
    fn is_id_removed(&self, id: u64) -> bool;

    /// A message to `id` could not be delivered (queue full or send failed).
    fn report_unreachable(&self, id: u64);

    /// The outcome of a snapshot sent to `id` with `Transport::send_snapshot`.
    fn report_snapshot(&self, id: u64, status: SnapshotStatus);
}
