//! Why a watch could not be created, in etcd's words (its `cancel_reason`).

/// A refused watch create request; the stream answers it with `created` and `canceled`
/// set, watch ID -1 and this message as the cancel reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    /// `range_end` is at or below `key`.
    #[error("mvcc: watcher range is empty")]
    EmptyRange,
    /// The client chose a watch ID already in use on the stream.
    #[error("mvcc: duplicate watch ID provided on the WatchStream")]
    DuplicateId,
}
