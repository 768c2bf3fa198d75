//! The file system side of a unix listener: clearing a stale socket file before bind
//! and removing the file the listener created when it is dropped.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::TransportError;

/// Removes a leftover socket file at `path` (etcd removes it before listening).
///
/// Only sockets are removed: anything else at the path is left alone, so the bind that
/// follows fails with "address already in use" instead of deleting a user's file.
pub(crate) fn remove_stale(path: &Path) -> Result<(), TransportError> {
    let io_err = |source| TransportError::Io {
        op: "remove stale unix socket",
        target: path.display().to_string(),
        source,
    };
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => match fs::remove_file(path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(io_err(err)),
            _ => Ok(()),
        },
        Ok(_) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(io_err(err)),
    }
}

/// The socket file a listener bound; removed on drop if it is still the same file.
///
/// Invariant: `identity` is the (device, inode) of the file right after bind, so a
/// socket that another process put at the same path later is never removed.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    identity: Option<(u64, u64)>,
}

impl SocketFile {
    /// Records the file just created at `path` by a successful bind.
    pub(crate) fn created(path: &Path) -> SocketFile {
        SocketFile {
            path: path.to_owned(),
            identity: identify(path),
        }
    }
}

fn identify(path: &Path) -> Option<(u64, u64)> {
    fs::symlink_metadata(path)
        .ok()
        .map(|meta| (meta.dev(), meta.ino()))
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if self.identity.is_none() || identify(&self.path) != self.identity {
            return;
        }
        if let Err(err) = fs::remove_file(&self.path) {
            tracing::debug!(path = %self.path.display(), %err, "removing unix socket file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_socket_is_removed_but_regular_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
        assert!(sock.exists());
        remove_stale(&sock).unwrap();
        assert!(!sock.exists());

        let file = dir.path().join("data");
        fs::write(&file, b"keep me").unwrap();
        remove_stale(&file).unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"keep me");

        remove_stale(&dir.path().join("missing")).unwrap();
    }

    #[test]
    fn drop_leaves_a_replaced_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("a.sock");
        drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
        let guard = SocketFile::created(&sock);
        // Replace the file by rename, so the newcomer cannot reuse the old inode.
        let other = dir.path().join("other");
        fs::write(&other, b"someone else's").unwrap();
        fs::rename(&other, &sock).unwrap();
        drop(guard);
        assert!(sock.exists());
    }

    #[test]
    fn drop_removes_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("a.sock");
        drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
        drop(SocketFile::created(&sock));
        assert!(!sock.exists());
    }
}
