//! Snapshot markers and releasing old segments.

use etcd_wal::{SnapshotMarker, Wal};

use crate::common::{entries, hs, opts, segments};

fn marker(index: u64) -> SnapshotMarker {
    SnapshotMarker {
        index,
        term: 1,
        conf_state: format!("voters-at-{index}").into_bytes(),
    }
}

#[test]
fn release_deletes_old_segments_and_keeps_the_covering_marker() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"meta", opts(1024)).unwrap();
    for i in 1..=100 {
        wal.save(Some(&hs(1, i)), &entries(i..=i, 1)).unwrap();
        if i == 40 || i == 60 {
            wal.save_snapshot(&marker(i)).unwrap();
        }
    }
    let all = segments(dir.path());
    wal.release_to(60).unwrap();
    let left = segments(dir.path());
    assert!(left.len() < all.len(), "old segments must be deleted");
    assert_eq!(
        left[..],
        all[all.len() - left.len()..],
        "only a prefix goes"
    );

    wal.save(Some(&hs(1, 101)), &entries(101..=101, 1)).unwrap();
    drop(wal);
    let (_wal, contents) = Wal::open(dir.path(), opts(1024)).unwrap();
    assert_eq!(contents.metadata, b"meta");
    assert_eq!(contents.hard_state, Some(hs(1, 101)));
    assert_eq!(contents.snapshots.last(), Some(&marker(60)));
    assert!(
        !contents.snapshots.contains(&marker(40)),
        "older segments went"
    );
    let first = contents.entries.first().unwrap().index;
    assert!(first <= 61 && first > 40, "first kept entry {first}");
    assert_eq!(contents.entries, entries(first..=101, 1));
}

#[test]
fn release_without_a_marker_keeps_entries_at_or_above_index() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(512)).unwrap();
    for i in 1..=50 {
        wal.save(None, &entries(i..=i, 1)).unwrap();
    }
    wal.release_to(30).unwrap();
    drop(wal);
    let (_wal, contents) = Wal::open(dir.path(), opts(512)).unwrap();
    let first = contents.entries.first().unwrap().index;
    assert!(first > 1 && first <= 30, "first kept entry {first}");
    assert_eq!(contents.entries, entries(first..=50, 1));
}

#[test]
fn marker_beyond_the_log_restarts_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(1024)).unwrap();
    wal.save(None, &entries(1..=5, 1)).unwrap();
    wal.save_snapshot(&marker(100)).unwrap();
    assert_eq!(wal.last_index(), 100);
    wal.save(None, &entries(101..=103, 2)).unwrap();
    drop(wal);
    let (_wal, contents) = Wal::open(dir.path(), opts(1024)).unwrap();
    assert_eq!(contents.snapshots, vec![marker(100)]);
    assert_eq!(contents.entries, entries(101..=103, 2));
}

#[test]
fn release_everything_but_the_marker_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(512)).unwrap();
    for i in 1..=20 {
        wal.save(None, &entries(i..=i, 1)).unwrap();
    }
    wal.save_snapshot(&marker(20)).unwrap();
    wal.release_to(20).unwrap();
    wal.release_to(21).unwrap();
    drop(wal);
    let (mut wal, contents) = Wal::open(dir.path(), opts(512)).unwrap();
    assert_eq!(contents.snapshots, vec![marker(20)]);
    assert_eq!(wal.last_index(), 20);
    wal.save(None, &entries(21..=21, 1)).unwrap();
}
