//! One segment file: what the WAL remembers about it, and how a new one comes into being.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{WalError, io_err};
use crate::fsutil;
use crate::record::{self, SegmentHeader};
use crate::segment_name::SegmentName;
use crate::types::HardState;

/// What the WAL knows about a segment without reading it again; enough to decide whether
/// it may be released.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentInfo {
    pub(crate) name: SegmentName,
    pub(crate) path: PathBuf,
    /// Lowest and highest entry index written in this segment.
    pub(crate) min_entry: Option<u64>,
    pub(crate) max_entry: Option<u64>,
    /// Indexes of the snapshot markers in this segment, in log order.
    pub(crate) markers: Vec<u64>,
}

impl SegmentInfo {
    pub(crate) fn new(dir: &Path, name: SegmentName) -> Self {
        SegmentInfo {
            name,
            path: dir.join(name.file_name()),
            min_entry: None,
            max_entry: None,
            markers: Vec::new(),
        }
    }

    pub(crate) fn note_entry(&mut self, index: u64) {
        self.min_entry = Some(self.min_entry.map_or(index, |m| m.min(index)));
        self.max_entry = Some(self.max_entry.map_or(index, |m| m.max(index)));
    }

    pub(crate) fn note_marker(&mut self, index: u64) {
        self.markers.push(index);
    }
}

/// A freshly created segment, open for writing after its header.
#[derive(Debug)]
pub(crate) struct NewSegment {
    pub(crate) file: File,
    pub(crate) info: SegmentInfo,
    /// Bytes of header records at the start of the file.
    pub(crate) header_len: u64,
}

/// Creates segment `name` in `dir` so that it appears complete or not at all: the file is
/// built under a temporary name (preallocated, header records written and fsynced), then
/// renamed into place and the directory fsynced. The header records are the segment
/// header, the metadata and, if any, the latest hard state.
pub(crate) fn create(
    dir: &Path,
    name: SegmentName,
    metadata: &[u8],
    hard_state: Option<&HardState>,
    segment_size: u64,
) -> Result<NewSegment, WalError> {
    let mut header = Vec::new();
    record::encode_segment_header(
        &mut header,
        &SegmentHeader {
            seq: name.seq,
            first_index: name.first_index,
        },
    )?;
    record::encode_metadata(&mut header, metadata)?;
    if let Some(hs) = hard_state {
        record::encode_hard_state(&mut header, hs)?;
    }

    let tmp_path = dir.join(name.tmp_file_name());
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp_path)
        .map_err(io_err("create segment", &tmp_path))?;
    fsutil::preallocate(&file, segment_size, &tmp_path)?;
    write_all_at(&file, &header, 0, &tmp_path)?;
    rustix::fs::fsync(&file).map_err(|e| io_err("fsync", &tmp_path)(e.into()))?;
    let info = SegmentInfo::new(dir, name);
    fs::rename(&tmp_path, &info.path).map_err(io_err("rename segment into place", &info.path))?;
    fsutil::sync_dir(dir)?;
    tracing::debug!(segment = %info.path.display(), "created WAL segment");
    Ok(NewSegment {
        file,
        info,
        header_len: header.len() as u64,
    })
}

/// One positional write of all of `buf` (one `pwrite(2)` unless the kernel splits it).
pub(crate) fn write_all_at(
    file: &File,
    buf: &[u8],
    offset: u64,
    path: &Path,
) -> Result<(), WalError> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(buf, offset)
        .map_err(io_err("write", path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame;
    use crate::record::Record;

    #[test]
    fn new_segment_is_preallocated_and_self_describing() {
        let dir = tempfile::tempdir().unwrap();
        let name = SegmentName {
            seq: 3,
            first_index: 17,
        };
        let hs = HardState {
            term: 2,
            vote: 1,
            commit: 16,
        };
        let seg = create(dir.path(), name, b"md", Some(&hs), 4096).unwrap();
        assert!(!dir.path().join(name.tmp_file_name()).exists());
        let data = fs::read(&seg.info.path).unwrap();
        assert_eq!(data.len(), 4096);

        let mut records = Vec::new();
        let mut off = 0;
        while let Ok(f) = frame::decode(&data, off) {
            records.push(record::decode(&f).unwrap());
            off += f.len;
        }
        assert_eq!(off as u64, seg.header_len);
        assert_eq!(
            records,
            vec![
                Record::SegmentHeader(SegmentHeader {
                    seq: 3,
                    first_index: 17
                }),
                Record::Metadata(b"md".to_vec()),
                Record::HardState(hs),
            ]
        );
    }
}
