//! One `Wal` per directory at a time.

use etcd_wal::{Wal, WalError};

use crate::common::opts;

#[test]
fn second_open_or_create_is_locked_out_while_the_first_lives() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::create(dir.path(), b"", opts(4096)).unwrap();
    let err = Wal::open(dir.path(), opts(4096)).unwrap_err();
    assert!(matches!(err, WalError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("locked"), "{err}");
    assert!(matches!(
        Wal::create(dir.path(), b"", opts(4096)),
        Err(WalError::Locked { .. })
    ));
    drop(wal);
    let (_wal, _) = Wal::open(dir.path(), opts(4096)).unwrap();
}
