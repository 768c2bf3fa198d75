//! The values the WAL stores and returns; none of them know about raft-rs types.

/// One raft log entry with its payload kept opaque.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub index: u64,
    pub term: u64,
    pub data: Vec<u8>,
}

/// The raft hard state (term, vote, commit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HardState {
    pub term: u64,
    pub vote: u64,
    pub commit: u64,
}

/// Records that a snapshot at `index`/`term` exists elsewhere (the snapshot itself is not
/// in the WAL). A marker whose index lies beyond the last entry starts the log afresh:
/// the next entry must be `index + 1`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotMarker {
    pub index: u64,
    pub term: u64,
    pub conf_state: Vec<u8>,
}

/// Tuning of a WAL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalOptions {
    /// Size each segment is preallocated to; a segment is cut once its written length
    /// reaches this (one record may overshoot it).
    pub segment_size: u64,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: 64 * 1024 * 1024,
        }
    }
}

/// Everything `Wal::open` recovered from disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalContents {
    /// The metadata given to `create`, repeated in every segment.
    pub metadata: Vec<u8>,
    /// The last hard state recorded, if any.
    pub hard_state: Option<HardState>,
    /// Every snapshot marker still on disk, in log order.
    pub snapshots: Vec<SnapshotMarker>,
    /// Every entry still on disk: ascending and contiguous. A later write of an index
    /// replaced the earlier one and everything after it; a marker beyond the last entry
    /// dropped all entries before it.
    pub entries: Vec<Entry>,
    /// Where each of `entries` lies (same order), for [`crate::WalReader::read`].
    pub locations: Vec<crate::Location>,
}
