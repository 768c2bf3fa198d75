//! hash_kv: errors, and equality across members whether or not compaction finished.

use etcd_mvcc::{KvStore, MvccError};

use crate::support::*;

for_each_backend!(
    hash_errors_and_revisions,
    hash_ignores_unfinished_physical_compaction
);

fn history(store: &KvStore) {
    for i in 0..20 {
        put(store, &format!("k{}", i % 4), &format!("v{i}"));
        if i % 5 == 4 {
            delete(store, &format!("k{}", i % 3), "");
        }
    }
    delete(store, "k0", "\0");
    put(store, "k9", "last");
}

fn hash_errors_and_revisions(fx: Fixture) {
    let store = fx.open();
    let (empty, compact, rev) = store.hash_kv(0).unwrap();
    assert_eq!((compact, rev), (-1, 1));
    put(&store, "a", "1");
    let (h2, _, rev) = store.hash_kv(0).unwrap();
    assert_eq!(rev, 2);
    assert_ne!(h2, empty);
    put(&store, "a", "2");
    assert_eq!(
        store.hash_kv(2).unwrap().0,
        h2,
        "a past revision hashes as it was"
    );
    assert!(matches!(store.hash_kv(4), Err(MvccError::FutureRev)));
    put(&store, "a", "3");
    apply(&store, |t| t.compact(3)).0.unwrap().wait();
    assert!(matches!(store.hash_kv(2), Err(MvccError::Compacted)));
    assert_eq!(store.hash_kv(3).unwrap().1, 3);
}

fn hash_ignores_unfinished_physical_compaction(fx: Fixture) {
    // Two members with the same history; on `slow` physical compaction cannot run yet.
    let done = fx.open();
    let other = Fixture::mem();
    let slow = other.open();
    history(&done);
    history(&slow);
    let current = done.current_revision();
    assert_eq!(slow.current_revision(), current);
    let before: Vec<_> = (1..=current).map(|r| done.hash_kv(r).unwrap()).collect();
    assert_eq!(
        before,
        (1..=current)
            .map(|r| slow.hash_kv(r).unwrap())
            .collect::<Vec<_>>()
    );

    let c = current - 6;
    let hold = slow.hold_compaction();
    let slow_waiter = apply(&slow, |t| t.compact(c)).0.unwrap();
    apply(&done, |t| t.compact(c)).0.unwrap().wait();
    assert!(!slow_waiter.is_done());
    assert!(
        key_bucket(&slow).len() > key_bucket(&done).len(),
        "slow still holds old revisions"
    );
    for r in c..=current {
        assert_eq!(done.hash_kv(r).unwrap(), slow.hash_kv(r).unwrap(), "at {r}");
        assert_eq!(done.hash_kv(r).unwrap().1, c);
    }
    assert_ne!(
        done.hash_kv(current).unwrap().0,
        before[(current - 1) as usize].0
    );
    drop(hold);
    slow_waiter.wait();
    assert_eq!(key_bucket(&slow), key_bucket(&done));
    for r in c..=current {
        assert_eq!(done.hash_kv(r).unwrap(), slow.hash_kv(r).unwrap(), "at {r}");
    }
    // And after a restart mid-way (index rebuilt from the backend).
    drop(done);
    let reopened = fx.open();
    assert_eq!(reopened.hash_kv(0).unwrap(), slow.hash_kv(0).unwrap());
}
