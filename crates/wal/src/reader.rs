//! Reading single entries back from the segments by their [`Location`], so a caller can
//! drop entries from memory once they are durable and fetch them again when needed.

use std::cell::RefCell;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{WalError, io_err};
use crate::frame::{self, HEADER_LEN};
use crate::record::{self, Record};
use crate::segment_name::SegmentName;
use crate::types::Entry;

/// Where an entry's record lies: its segment and the offset of its frame.
///
/// Valid while the segment exists, that is until [`crate::Wal::release_to`] releases it
/// (a location handed out by `append` can be read once the entry was synced).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub(crate) segment: SegmentName,
    pub(crate) offset: u64,
}

/// Reads entries by location. Holds the last segment it opened, so reading a run of
/// entries opens each segment once. Not shared between threads (it is `Send`).
#[derive(Debug)]
pub struct WalReader {
    dir: PathBuf,
    open: RefCell<Option<(SegmentName, File)>>,
}

impl WalReader {
    pub(crate) fn new(dir: &Path) -> Self {
        WalReader {
            dir: dir.to_path_buf(),
            open: RefCell::new(None),
        }
    }

    /// The entry recorded at `loc`, checked against its CRC and against `index`.
    pub fn read(&self, loc: Location, index: u64) -> Result<Entry, WalError> {
        let path = self.dir.join(loc.segment.file_name());
        let mut open = self.open.borrow_mut();
        let file = match open.take() {
            Some((name, file)) if name == loc.segment => file,
            _ => File::open(&path).map_err(io_err("open segment", &path))?,
        };
        let file = &open.insert((loc.segment, file)).1;
        let mut header = [0u8; HEADER_LEN];
        file.read_exact_at(&mut header, loc.offset)
            .map_err(io_err("read entry from", &path))?;
        let payload_len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let mut buf = vec![0u8; frame::frame_len(payload_len as usize)];
        file.read_exact_at(&mut buf, loc.offset)
            .map_err(io_err("read entry from", &path))?;
        let corrupt = |reason: String| WalError::Corrupt {
            segment: path.clone(),
            offset: loc.offset,
            reason,
        };
        let frame = frame::decode(&buf, 0).map_err(|e| corrupt(e.to_string()))?;
        match record::decode(&frame).map_err(corrupt)? {
            Record::Entry(e) if e.index == index => Ok(e),
            Record::Entry(e) => Err(corrupt(format!(
                "holds entry {} where entry {index} was written",
                e.index
            ))),
            _ => Err(corrupt(format!(
                "holds no entry where entry {index} was written"
            ))),
        }
    }
}
