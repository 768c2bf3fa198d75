//! Create, save across several segments, reopen, continue.

use etcd_wal::{Wal, WalError};

use crate::common::{entries, hs, opts, segments};

#[test]
fn entries_hard_state_and_metadata_survive_reopen_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal");
    assert!(!Wal::exists(&path));
    let mut wal = Wal::create(&path, b"cluster-meta", opts(1024)).unwrap();
    assert!(Wal::exists(&path));
    assert_eq!(wal.dir(), path.as_path());
    for batch in 0..10u64 {
        let lo = batch * 10 + 1;
        wal.save(Some(&hs(2, lo + 9)), &entries(lo..lo + 10, 2))
            .unwrap();
    }
    assert_eq!(wal.last_index(), 100);
    drop(wal);
    assert!(
        segments(&path).len() > 3,
        "small segments must have been cut"
    );

    let (mut wal, contents) = Wal::open(&path, opts(1024)).unwrap();
    assert_eq!(contents.metadata, b"cluster-meta");
    assert_eq!(contents.hard_state, Some(hs(2, 100)));
    assert!(contents.snapshots.is_empty());
    assert_eq!(contents.entries, entries(1..=100, 2));
    assert_eq!(wal.last_index(), 100);

    wal.save(Some(&hs(3, 110)), &entries(101..=110, 3)).unwrap();
    drop(wal);
    let (_wal, contents) = Wal::open(&path, opts(1024)).unwrap();
    let mut expected = entries(1..=100, 2);
    expected.extend(entries(101..=110, 3));
    assert_eq!(contents.entries, expected);
    assert_eq!(contents.hard_state, Some(hs(3, 110)));
}

#[test]
fn empty_wal_reopens_empty() {
    let dir = tempfile::tempdir().unwrap();
    drop(Wal::create(dir.path(), b"m", opts(4096)).unwrap());
    let (wal, contents) = Wal::open(dir.path(), opts(4096)).unwrap();
    assert_eq!(wal.last_index(), 0);
    assert_eq!(contents.metadata, b"m");
    assert_eq!(contents.hard_state, None);
    assert!(contents.entries.is_empty());
}

#[test]
fn hard_state_alone_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(4096)).unwrap();
    wal.save(Some(&hs(5, 0)), &[]).unwrap();
    drop(wal);
    let (_wal, contents) = Wal::open(dir.path(), opts(4096)).unwrap();
    assert_eq!(contents.hard_state, Some(hs(5, 0)));
}

#[test]
fn unsynced_appends_become_durable_on_sync() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(1 << 20)).unwrap();
    wal.append(None, &entries(1..=3, 1)).unwrap();
    wal.append(Some(&hs(1, 3)), &entries(4..=5, 1)).unwrap();
    wal.sync().unwrap();
    wal.sync().unwrap();
    drop(wal);
    let (_wal, contents) = Wal::open(dir.path(), opts(1 << 20)).unwrap();
    assert_eq!(contents.entries, entries(1..=5, 1));
    assert_eq!(contents.hard_state, Some(hs(1, 3)));
}

#[test]
fn create_and_open_refuse_the_wrong_state() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    assert!(matches!(
        Wal::open(&missing, opts(4096)),
        Err(WalError::NotFound { .. })
    ));
    std::fs::create_dir(&missing).unwrap();
    assert!(matches!(
        Wal::open(&missing, opts(4096)),
        Err(WalError::NotFound { .. })
    ));
    // A failed open leaves nothing that stops a create.
    drop(Wal::create(&missing, b"", opts(4096)).unwrap());
    assert!(matches!(
        Wal::create(&missing, b"", opts(4096)),
        Err(WalError::AlreadyExists { .. })
    ));
}

#[test]
fn bad_batches_are_refused_whole_and_leave_the_wal_usable() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(4096)).unwrap();
    wal.save(None, &entries(1..=3, 1)).unwrap();
    let mut bad = entries(4..=5, 1);
    bad.extend(entries(7..=7, 1));
    let err = wal.save(None, &bad).unwrap_err();
    assert!(
        matches!(
            err,
            WalError::EntryGap {
                index: 7,
                last_index: 5
            }
        ),
        "{err}"
    );
    assert_eq!(wal.last_index(), 3);
    wal.save(None, &entries(4..=4, 1)).unwrap();
    drop(wal);
    let (_wal, contents) = Wal::open(dir.path(), opts(4096)).unwrap();
    assert_eq!(contents.entries, entries(1..=4, 1));
}
