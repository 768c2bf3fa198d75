//! Thin wrappers over the file-system calls durability depends on.

use std::fs::File;
use std::path::Path;

use rustix::fs::FallocateFlags;
use rustix::io::Errno;

use crate::error::{WalError, io_err};

/// Makes `file` at least `size` bytes long with every block reserved and written (as
/// zeros), so appends are plain overwrites: they allocate no blocks, change neither the
/// size nor the extent map, and `fdatasync` then flushes data only. Space reserved by
/// `fallocate(2)` alone is "unwritten" on ext4 and XFS: the first write to each extent
/// converts it, and every `fdatasync` after such a write also writes the inode. Where the
/// file system cannot reserve, the zeros alone allocate the blocks.
pub(crate) fn preallocate(file: &File, size: u64, path: &Path) -> Result<(), WalError> {
    let len = file.metadata().map_err(io_err("stat", path))?.len();
    if len >= size {
        return Ok(());
    }
    match rustix::fs::fallocate(file, FallocateFlags::empty(), 0, size) {
        Ok(()) => {}
        Err(e) if e == Errno::OPNOTSUPP || e == Errno::NOSYS => {}
        Err(e) => return Err(io_err("preallocate", path)(e.into())),
    }
    write_zeros(file, len, size, path)
}

/// Writes zeros over `[from, to)` of `file`.
fn write_zeros(file: &File, from: u64, to: u64, path: &Path) -> Result<(), WalError> {
    use std::os::unix::fs::FileExt;
    const CHUNK: u64 = 256 << 10;
    let zeros = vec![0u8; CHUNK.min(to - from) as usize];
    let mut at = from;
    while at < to {
        let n = CHUNK.min(to - at) as usize;
        file.write_all_at(&zeros[..n], at)
            .map_err(io_err("zero-fill", path))?;
        at += n as u64;
    }
    Ok(())
}

/// Makes the data written to `file` (and the size, if it changed) durable.
pub(crate) fn fdatasync(file: &File, path: &Path) -> Result<(), WalError> {
    rustix::fs::fdatasync(file).map_err(|e| io_err("fdatasync", path)(e.into()))
}

/// Makes the entries of directory `dir` (creations, renames, deletions) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), WalError> {
    let file = File::open(dir).map_err(io_err("open directory", dir))?;
    rustix::fs::fsync(&file).map_err(|e| io_err("fsync directory", dir)(e.into()))
}

/// The directory holding `path` (`.` for a bare relative name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `filefrag -v -s` (e2fsprogs) on `path`: its extent list, flags included, after a
    /// sync; `None` where the tool or the file system's extent map is unavailable.
    fn extent_map(path: &Path) -> Option<String> {
        let out = std::process::Command::new("filefrag")
            .args(["-v", "-s"])
            .arg(path)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success() && text.contains("found")).then_some(text)
    }

    #[test]
    fn preallocated_space_is_written_not_merely_reserved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let size = 1 << 20;
        preallocate(&file, size, &path).unwrap();
        assert_eq!(file.metadata().unwrap().len(), size);
        assert!(std::fs::read(&path).unwrap().iter().all(|&b| b == 0));
        let Some(map) = extent_map(&path) else {
            eprintln!("skipped: no filefrag, or the file system does not report extents");
            return;
        };
        assert!(
            !map.contains("unwritten"),
            "unwritten extents left, appends would convert them at every fdatasync:\n{map}"
        );
    }

    #[test]
    fn preallocate_keeps_what_is_already_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        std::fs::write(&path, [7u8; 100]).unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        preallocate(&file, 4096, &path).unwrap();
        let data = std::fs::read(&path).unwrap();
        assert_eq!(data.len(), 4096);
        assert!(data[..100].iter().all(|&b| b == 7));
        assert!(data[100..].iter().all(|&b| b == 0));
        preallocate(&file, 1024, &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len(), 4096);
    }
}
