//! Segment file names (`{seq:016x}-{first_index:016x}.wal`) and listing them in a directory.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{WalError, io_err};

const SUFFIX: &str = ".wal";
/// Suffix of a segment still being prepared; such a file never holds acknowledged data.
const TMP_SUFFIX: &str = ".wal.tmp";

/// The identity of a segment as encoded in its file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SegmentName {
    pub(crate) seq: u64,
    pub(crate) first_index: u64,
}

impl SegmentName {
    pub(crate) fn file_name(&self) -> String {
        format!("{:016x}-{:016x}{SUFFIX}", self.seq, self.first_index)
    }

    pub(crate) fn tmp_file_name(&self) -> String {
        format!("{:016x}-{:016x}{TMP_SUFFIX}", self.seq, self.first_index)
    }

    /// Parses a final (not temporary) segment file name.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::parse_stem(name.strip_suffix(SUFFIX)?)
    }

    fn parse_stem(stem: &str) -> Option<Self> {
        let (seq, first) = stem.split_once('-')?;
        Some(SegmentName {
            seq: parse_hex16(seq)?,
            first_index: parse_hex16(first)?,
        })
    }
}

fn parse_hex16(s: &str) -> Option<u64> {
    if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

fn is_tmp_segment(name: &str) -> bool {
    name.strip_suffix(TMP_SUFFIX)
        .and_then(SegmentName::parse_stem)
        .is_some()
}

/// What a WAL directory holds.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Segments, by ascending sequence number.
    pub(crate) segments: Vec<SegmentName>,
    /// Leftovers of segment creations that crashed before the rename.
    pub(crate) tmp_files: Vec<PathBuf>,
}

pub(crate) fn list(dir: &Path) -> Result<Listing, WalError> {
    let mut listing = Listing::default();
    for item in fs::read_dir(dir).map_err(io_err("read directory", dir))? {
        let item = item.map_err(io_err("read directory", dir))?;
        let name = item.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(segment) = SegmentName::parse(name) {
            listing.segments.push(segment);
        } else if is_tmp_segment(name) {
            listing.tmp_files.push(item.path());
        }
    }
    listing.segments.sort();
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let n = SegmentName {
            seq: 0x1f,
            first_index: 0xabc,
        };
        assert_eq!(n.file_name(), "000000000000001f-0000000000000abc.wal");
        assert_eq!(SegmentName::parse(&n.file_name()), Some(n));
        assert_eq!(SegmentName::parse(&n.tmp_file_name()), None);
        assert!(is_tmp_segment(&n.tmp_file_name()));
    }

    #[test]
    fn foreign_names_are_ignored() {
        for bad in [
            "wal.lock",
            "0-0.wal",
            "000000000000001f-0000000000000abc.wal.bak",
            "000000000000001g-0000000000000abc.wal",
            "000000000000001f_0000000000000abc.wal",
            "+00000000000001f-0000000000000abc.wal",
        ] {
            assert_eq!(SegmentName::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn list_sorts_and_separates_tmp_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = SegmentName {
            seq: 2,
            first_index: 9,
        };
        let b = SegmentName {
            seq: 1,
            first_index: 1,
        };
        for name in [
            a.file_name(),
            b.file_name(),
            a.tmp_file_name(),
            "other".into(),
        ] {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        let listing = list(dir.path()).unwrap();
        assert_eq!(listing.segments, vec![b, a]);
        assert_eq!(listing.tmp_files, vec![dir.path().join(a.tmp_file_name())]);
    }
}
