//! The segment being written: a buffer of encoded records, written with one `pwrite` and
//! made durable with one `fdatasync`.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{WalError, io_err};
use crate::fsutil;
use crate::segment::write_all_at;

/// Buffer capacity kept between flushes; a larger one left by a big batch is shrunk.
const KEEP_CAPACITY: usize = 4 * 1024 * 1024;

/// Invariant: bytes `0..written` of the file hold valid records, `buf` holds the records
/// that follow them, and nothing after `written` has been written since the file was
/// created or repaired (it reads as zero).
#[derive(Debug)]
pub(crate) struct TailWriter {
    file: File,
    path: PathBuf,
    written: u64,
    buf: Vec<u8>,
    /// Bytes were written since the last fdatasync.
    unsynced: bool,
}

impl TailWriter {
    /// Continues `file` at offset `written`.
    pub(crate) fn new(file: File, path: PathBuf, written: u64) -> Self {
        TailWriter {
            file,
            path,
            written,
            buf: Vec::new(),
            unsynced: false,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Where the next record will land (written plus buffered bytes).
    pub(crate) fn end(&self) -> u64 {
        self.written + self.buf.len() as u64
    }

    /// The buffer records are encoded into.
    pub(crate) fn buf_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Something was appended that is not yet durable.
    pub(crate) fn has_pending(&self) -> bool {
        !self.buf.is_empty() || self.unsynced
    }

    /// Hands the buffered records to the kernel in one positional write.
    fn write_pending(&mut self) -> Result<(), WalError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        write_all_at(&self.file, &self.buf, self.written, &self.path)?;
        self.written += self.buf.len() as u64;
        self.unsynced = true;
        self.buf.clear();
        if self.buf.capacity() > KEEP_CAPACITY {
            self.buf.shrink_to(KEEP_CAPACITY);
        }
        Ok(())
    }

    /// Writes what is buffered and fdatasyncs it (nothing at all if nothing is pending).
    pub(crate) fn sync(&mut self) -> Result<(), WalError> {
        self.write_pending()?;
        if self.unsynced {
            fsutil::fdatasync(&self.file, &self.path)?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// Ends the segment: writes what is buffered, cuts the preallocated rest off, and
    /// fdatasyncs both.
    pub(crate) fn finish(&mut self) -> Result<(), WalError> {
        self.write_pending()?;
        self.file
            .set_len(self.written)
            .map_err(io_err("truncate finished segment", &self.path))?;
        fsutil::fdatasync(&self.file, &self.path)?;
        self.unsynced = false;
        Ok(())
    }
}
