//! Later writes of an index replace the earlier one and everything after it.

use etcd_wal::{Wal, WalError};

use crate::common::{entries, opts, segments};

#[test]
fn overwrite_drops_the_stale_suffix() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(1 << 20)).unwrap();
    wal.save(None, &entries(1..=10, 1)).unwrap();
    wal.save(None, &entries(6..=8, 2)).unwrap();
    assert_eq!(wal.last_index(), 8);
    drop(wal);

    let (mut wal, contents) = Wal::open(dir.path(), opts(1 << 20)).unwrap();
    let mut expected = entries(1..=5, 1);
    expected.extend(entries(6..=8, 2));
    assert_eq!(contents.entries, expected);
    assert_eq!(wal.last_index(), 8);
    wal.save(None, &entries(9..=9, 2)).unwrap();
}

#[test]
fn overwrite_reaching_into_an_earlier_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(512)).unwrap();
    for i in 1..=30 {
        wal.save(None, &entries(i..=i, 1)).unwrap();
    }
    let before = segments(dir.path()).len();
    assert!(before > 2);
    wal.save(None, &entries(3..=4, 2)).unwrap();
    drop(wal);
    let (_wal, contents) = Wal::open(dir.path(), opts(512)).unwrap();
    let mut expected = entries(1..=2, 1);
    expected.extend(entries(3..=4, 2));
    assert_eq!(contents.entries, expected);
}

#[test]
fn rewriting_at_or_below_a_snapshot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(1 << 20)).unwrap();
    wal.save(None, &entries(1..=10, 1)).unwrap();
    wal.save_snapshot(&etcd_wal::SnapshotMarker {
        index: 7,
        term: 1,
        conf_state: vec![],
    })
    .unwrap();
    let err = wal.save(None, &entries(7..=7, 2)).unwrap_err();
    assert!(
        matches!(
            err,
            WalError::EntryRewind {
                index: 7,
                min_index: 8
            }
        ),
        "{err}"
    );
    wal.save(None, &entries(8..=8, 2)).unwrap();
}
