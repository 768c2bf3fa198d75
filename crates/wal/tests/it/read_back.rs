//! Entries read back by the locations `append` and `open` hand out.

use etcd_wal::{Wal, WalError};

use crate::common::{entries, opts, segments};

#[test]
fn locations_from_append_read_back_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(512)).unwrap();
    let written = entries(1..=40, 3);
    let mut locations = Vec::new();
    for chunk in written.chunks(3) {
        locations.extend(wal.append(None, chunk).unwrap());
        wal.sync().unwrap();
    }
    assert!(segments(dir.path()).len() > 2, "the entries span segments");
    let reader = wal.reader();
    for (e, loc) in written.iter().zip(&locations) {
        assert_eq!(&reader.read(*loc, e.index).unwrap(), e);
    }
    // Out of order too: the reader switches segments as needed.
    assert_eq!(reader.read(locations[0], 1).unwrap(), written[0]);
    assert!(matches!(
        reader.read(locations[5], 7),
        Err(WalError::Corrupt { .. })
    ));
}

#[test]
fn locations_from_open_follow_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(512)).unwrap();
    wal.save(None, &entries(1..=10, 1)).unwrap();
    wal.save(None, &entries(6..=8, 2)).unwrap();
    drop(wal);
    let (wal, contents) = Wal::open(dir.path(), opts(512)).unwrap();
    assert_eq!(contents.locations.len(), contents.entries.len());
    let reader = wal.reader();
    for (e, loc) in contents.entries.iter().zip(&contents.locations) {
        assert_eq!(&reader.read(*loc, e.index).unwrap(), e);
    }
    assert_eq!(contents.entries.last().unwrap().term, 2);
}

#[test]
fn a_released_segment_reads_as_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::create(dir.path(), b"", opts(512)).unwrap();
    let mut locations = Vec::new();
    for i in 1..=30 {
        locations.extend(wal.append(None, &entries(i..=i, 1)).unwrap());
        wal.sync().unwrap();
    }
    wal.save_snapshot(&etcd_wal::SnapshotMarker {
        index: 25,
        term: 1,
        conf_state: vec![],
    })
    .unwrap();
    wal.release_to(25).unwrap();
    assert!(matches!(
        wal.reader().read(locations[0], 1),
        Err(WalError::Io { .. })
    ));
}
