//! The one error type of the WAL crate.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while creating, opening or writing a WAL.
///
/// `Io`, `Corrupt` and `Poisoned` are disk-level failures the server treats as fatal;
/// `EntryGap`, `EntryRewind` and `RecordTooLarge` reject a bad request before anything
/// is written.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// A system call on a WAL file or directory failed.
    #[error("wal: cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A segment holds data that cannot be trusted and cannot be repaired automatically.
    #[error("wal: segment {} is corrupt at offset {offset}: {reason}", segment.display())]
    Corrupt {
        segment: PathBuf,
        offset: u64,
        reason: String,
    },
    /// Another `Wal` (in this or another process) holds the directory's lock.
    #[error(
        "wal: directory {} is locked by another process (is another etcd using the same data dir?)",
        dir.display()
    )]
    Locked { dir: PathBuf },
    /// `open` found no segment in the directory.
    #[error("wal: no WAL found in {}", dir.display())]
    NotFound { dir: PathBuf },
    /// `create` found segments already in the directory.
    #[error("wal: a WAL already exists in {}", dir.display())]
    AlreadyExists { dir: PathBuf },
    /// An appended entry does not follow the last index of the log.
    #[error("wal: entry {index} would leave a gap after the last index {last_index}")]
    EntryGap { index: u64, last_index: u64 },
    /// An appended entry would rewrite an index that may no longer change (below the first
    /// entry kept, or at or below a recorded snapshot).
    #[error("wal: entry {index} would rewrite the log below index {min_index}")]
    EntryRewind { index: u64, min_index: u64 },
    /// A record payload does not fit the 32-bit length of the framing.
    #[error("wal: record of {size} bytes exceeds the maximum of {max} bytes")]
    RecordTooLarge { size: usize, max: usize },
    /// An earlier write or sync failed; what reached the disk is unknown.
    #[error("wal: unusable after an earlier write or sync failure; restart to recover from disk")]
    Poisoned,
}

/// Builds a `map_err` closure that wraps an I/O error with the operation and path.
pub(crate) fn io_err(
    op: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(io::Error) -> WalError {
    let path = path.into();
    move |source| WalError::Io { op, path, source }
}
