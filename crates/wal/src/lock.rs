//! The exclusive lock that keeps two `Wal`s off the same directory.

use std::fs::{File, OpenOptions};
use std::path::Path;

use rustix::fs::FlockOperation;
use rustix::io::Errno;

use crate::error::{WalError, io_err};

/// Name of the lock file inside a WAL directory.
pub(crate) const LOCK_FILE: &str = "wal.lock";

/// Holds an exclusive `flock` on the directory's lock file until dropped. The lock
/// belongs to the open file description, so a second lock from the same process fails
/// too.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock without waiting; `WalError::Locked` if someone else holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<Self, WalError> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err("open lock file", &path))?;
        match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(e) if e == Errno::WOULDBLOCK => Err(WalError::Locked {
                dir: dir.to_path_buf(),
            }),
            Err(e) => Err(io_err("lock", &path)(e.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails_until_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        assert!(matches!(
            DirLock::acquire(dir.path()),
            Err(WalError::Locked { .. })
        ));
        drop(first);
        DirLock::acquire(dir.path()).unwrap();
    }
}
