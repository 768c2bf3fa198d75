//! Helpers shared by the integration tests: entry builders and a minimal reader of the
//! on-disk framing (length u32, type u8, 3 reserved, CRC u32, payload, pad to 8).

use std::fs;
use std::path::{Path, PathBuf};

use etcd_wal::{Entry, HardState, WalOptions};

/// Record type of an entry on disk.
pub const TYPE_ENTRY: u8 = 3;

pub fn opts(segment_size: u64) -> WalOptions {
    WalOptions { segment_size }
}

/// Entries `indexes` at `term`, each with non-empty data whose bytes are all non-zero.
pub fn entries(indexes: impl IntoIterator<Item = u64>, term: u64) -> Vec<Entry> {
    indexes
        .into_iter()
        .map(|index| Entry {
            index,
            term,
            data: format!(
                "entry-{index}-term-{term}-{}",
                "x".repeat((index % 7) as usize)
            )
            .into_bytes(),
        })
        .collect()
}

pub fn hs(term: u64, commit: u64) -> HardState {
    HardState {
        term,
        vote: 1,
        commit,
    }
}

/// Segment files of `dir`, oldest first.
pub fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    files.sort();
    files
}

/// One frame found on disk.
#[derive(Debug, Clone, Copy)]
pub struct RawRecord {
    pub offset: usize,
    pub len: usize,
    pub record_type: u8,
}

/// The frames of a segment file up to the first zero header.
pub fn records(path: &Path) -> Vec<RawRecord> {
    let data = fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut off = 0;
    while off + 12 <= data.len() && data[off..off + 12].iter().any(|&b| b != 0) {
        let len = u32::from_le_bytes(data[off..off + 4].try_into().unwrap()) as usize;
        let total = (12 + len).next_multiple_of(8);
        out.push(RawRecord {
            offset: off,
            len: total,
            record_type: data[off + 4],
        });
        off += total;
    }
    out
}

/// Entry records of a segment file.
pub fn entry_records(path: &Path) -> Vec<RawRecord> {
    records(path)
        .into_iter()
        .filter(|r| r.record_type == TYPE_ENTRY)
        .collect()
}

/// Applies `change` to the bytes of `path`.
pub fn edit(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let mut data = fs::read(path).unwrap();
    change(&mut data);
    fs::write(path, data).unwrap();
}
