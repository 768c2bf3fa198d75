//! Thin wrappers over the file-system calls durability depends on.

use std::fs::File;
use std::path::Path;

use rustix::fs::FallocateFlags;
use rustix::io::Errno;

use crate::error::{WalError, io_err};

/// Makes `file` at least `size` bytes long with the space reserved, so appends neither
/// allocate blocks nor change the file size. Falls back to a sparse extension where the
/// file system cannot preallocate.
pub(crate) fn preallocate(file: &File, size: u64, path: &Path) -> Result<(), WalError> {
    let len = file.metadata().map_err(io_err("stat", path))?.len();
    if len >= size {
        return Ok(());
    }
    match rustix::fs::fallocate(file, FallocateFlags::empty(), 0, size) {
        Ok(()) => Ok(()),
        Err(e) if e == Errno::OPNOTSUPP || e == Errno::NOSYS => {
            file.set_len(size).map_err(io_err("extend", path))
        }
        Err(e) => Err(io_err("preallocate", path)(e.into())),
    }
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
