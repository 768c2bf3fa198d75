//! States a crash can leave behind are opened cleanly.

use std::fs::{self, OpenOptions};

use etcd_wal::{Wal, WalError};

use crate::common::{entries, opts, records, segments};

#[test]
fn leftover_temp_segment_is_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(1024)).unwrap();
    wal.save(None, &entries(1..=3, 1)).unwrap();
    drop(wal);
    let tmp = dir.path().join("0000000000000001-0000000000000004.wal.tmp");
    fs::write(&tmp, b"half-written segment").unwrap();

    let (mut wal, contents) = Wal::open(dir.path(), opts(1024)).unwrap();
    assert!(!tmp.exists());
    assert_eq!(contents.entries, entries(1..=3, 1));
    // Cutting creates a segment with that very name.
    for i in 4..=30 {
        wal.save(None, &entries(i..=i, 1)).unwrap();
    }
    drop(wal);
    let (_wal, contents) = Wal::open(dir.path(), opts(1024)).unwrap();
    assert_eq!(contents.entries, entries(1..=30, 1));
}

#[test]
fn crash_during_create_leaves_no_wal() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("0000000000000000-0000000000000001.wal.tmp");
    fs::write(&tmp, [7u8; 100]).unwrap();
    assert!(!Wal::exists(dir.path()));
    assert!(matches!(
        Wal::open(dir.path(), opts(1024)),
        Err(WalError::NotFound { .. })
    ));
    let mut wal = Wal::create(dir.path(), b"m", opts(1024)).unwrap();
    wal.save(None, &entries(1..=2, 1)).unwrap();
    drop(wal);
    assert!(!tmp.exists());
    let (_wal, contents) = Wal::open(dir.path(), opts(1024)).unwrap();
    assert_eq!(contents.entries, entries(1..=2, 1));
}

#[test]
fn crash_after_finishing_a_segment_before_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(4096)).unwrap();
    wal.save(None, &entries(1..=5, 1)).unwrap();
    drop(wal);
    // What a cut leaves before the next segment exists: the segment cut to its length.
    let seg = segments(dir.path())[0].clone();
    let end = records(&seg).last().map(|r| r.offset + r.len).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(end as u64)
        .unwrap();

    let (mut wal, contents) = Wal::open(dir.path(), opts(4096)).unwrap();
    assert_eq!(contents.entries, entries(1..=5, 1));
    wal.save(None, &entries(6..=7, 1)).unwrap();
    drop(wal);
    let (_wal, contents) = Wal::open(dir.path(), opts(4096)).unwrap();
    assert_eq!(contents.entries, entries(1..=7, 1));
}

#[test]
fn full_segment_is_cut_on_the_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(4096)).unwrap();
    wal.save(None, &entries(1..=5, 1)).unwrap();
    drop(wal);
    // Reopening with a segment size below what is written must still work.
    let (mut wal, _) = Wal::open(dir.path(), opts(64)).unwrap();
    wal.save(None, &entries(6..=8, 1)).unwrap();
    drop(wal);
    assert!(segments(dir.path()).len() >= 2);
    let (_wal, contents) = Wal::open(dir.path(), opts(64)).unwrap();
    assert_eq!(contents.entries, entries(1..=8, 1));
}
