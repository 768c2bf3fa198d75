//! Conditions the transport cannot recover from and the member must act on.

/// A fatal condition reported through `Transport::take_fatal_errors`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportFatal {
    /// Peer `by` answered 410 Gone (or 403): this member was removed from the cluster and
    /// should stop ("the member has been permanently removed from the cluster").
    RemovedFromCluster { by: u64 },
}
