//! Damage that is not a torn tail is refused, and the files are left untouched.

use std::fs;

use etcd_wal::{Wal, WalError};

use crate::common::{edit, entries, entry_records, opts, segments};

fn assert_corrupt_at(dir: &std::path::Path, size: u64, segment: &std::path::Path, offset: usize) {
    let before: Vec<Vec<u8>> = segments(dir).iter().map(|p| fs::read(p).unwrap()).collect();
    match Wal::open(dir, opts(size)) {
        Err(WalError::Corrupt {
            segment: s,
            offset: o,
            reason,
        }) => {
            assert_eq!(s, segment, "{reason}");
            assert_eq!(o, offset as u64, "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let after: Vec<Vec<u8>> = segments(dir).iter().map(|p| fs::read(p).unwrap()).collect();
    assert!(
        before == after,
        "a refused open must not modify the segments"
    );
}

#[test]
fn flipped_byte_followed_by_valid_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(1 << 16)).unwrap();
    wal.save(None, &entries(1..=10, 1)).unwrap();
    drop(wal);
    let seg = segments(dir.path())[0].clone();
    let third = entry_records(&seg)[2];
    edit(&seg, |d| d[third.offset + 20] ^= 0xff);
    assert_corrupt_at(dir.path(), 1 << 16, &seg, third.offset);
}

#[test]
fn zeroed_header_followed_by_valid_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(1 << 16)).unwrap();
    wal.save(None, &entries(1..=10, 1)).unwrap();
    drop(wal);
    let seg = segments(dir.path())[0].clone();
    let third = entry_records(&seg)[2];
    edit(&seg, |d| d[third.offset..third.offset + 12].fill(0));
    assert_corrupt_at(dir.path(), 1 << 16, &seg, third.offset);
}

fn multi_segment(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut wal = Wal::create(dir, b"", opts(512)).unwrap();
    for i in 1..=40 {
        wal.save(None, &entries(i..=i, 1)).unwrap();
    }
    drop(wal);
    let segs = segments(dir);
    assert!(segs.len() >= 3);
    segs
}

#[test]
fn damage_at_the_end_of_a_non_last_segment() {
    let dir = tempfile::tempdir().unwrap();
    let segs = multi_segment(dir.path());
    let last = *entry_records(&segs[0]).last().unwrap();
    edit(&segs[0], |d| d[last.offset + 16] ^= 1);
    assert_corrupt_at(dir.path(), 512, &segs[0], last.offset);
}

#[test]
fn missing_middle_segment() {
    let dir = tempfile::tempdir().unwrap();
    let segs = multi_segment(dir.path());
    fs::remove_file(&segs[1]).unwrap();
    assert!(matches!(
        Wal::open(dir.path(), opts(512)),
        Err(WalError::Corrupt { segment, .. }) if segment == segs[2]
    ));
}

#[test]
fn foreign_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let segs = multi_segment(dir.path());
    let last = segs.last().unwrap();
    edit(last, |d| d[..12].fill(0));
    assert_corrupt_at(dir.path(), 512, last, 0);
}
