//! Cheap change detection for TLS files: size, mtime and inode of each, as last seen.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What `stat` (following symlinks) said about one file; `None` when it failed.
type Stamp = Option<(u64, u64, u64, i64, i64)>;

/// The stamps of a fixed list of files.
///
/// Invariant: two `FileStamps` of the same paths are equal when no file was replaced,
/// resized or touched in between (a rename onto the path, as in atomic rotation or a
/// Kubernetes secret's symlink swap, changes the inode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileStamps(Vec<Stamp>);

impl FileStamps {
    pub(crate) fn of(paths: &[PathBuf]) -> FileStamps {
        FileStamps(paths.iter().map(|p| stamp(p)).collect())
    }
}

fn stamp(path: &Path) -> Stamp {
    let meta = fs::metadata(path).ok()?;
    Some((
        meta.dev(),
        meta.ino(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewriting_or_replacing_a_file_changes_the_stamps() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.pem");
        fs::write(&a, b"one").unwrap();
        let paths = vec![a.clone(), dir.path().join("missing.pem")];
        let first = FileStamps::of(&paths);
        assert_eq!(first, FileStamps::of(&paths));

        let b = dir.path().join("b.pem");
        fs::write(&b, b"two").unwrap();
        fs::rename(&b, &a).unwrap();
        let second = FileStamps::of(&paths);
        assert_ne!(first, second, "same size, but replaced by rename");

        fs::write(&a, b"three").unwrap();
        assert_ne!(second, FileStamps::of(&paths));
    }
}
