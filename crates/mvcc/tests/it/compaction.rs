//! Compaction: errors, key index, physical removal, and resuming after a restart.

use std::time::{Duration, Instant};

use etcd_api::etcdserverpb::RangeRequest;
use etcd_mvcc::{Bucket, KvStore, MvccError, WriteBatch};

use crate::support::*;

for_each_backend!(
    compact_errors_follow_etcd,
    compaction_removes_old_revisions_physically,
    hold_delays_physical_removal_only,
    restart_resumes_an_unfinished_compaction,
    restart_right_after_scheduling_converges,
);

/// etcd's key for the finished compaction revision in the meta bucket.
const FINISHED: &[u8] = b"finishedCompactRev";

fn rev_key(main: i64) -> Vec<u8> {
    let mut k = (main as u64).to_be_bytes().to_vec();
    k.push(b'_');
    k.extend_from_slice(&0u64.to_be_bytes());
    k
}

/// Polls until the backend records compaction at `rev` as finished.
pub fn wait_finished(store: &KvStore, rev: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.backend().get(Bucket::Meta, FINISHED).unwrap() != Some(rev_key(rev)) {
        assert!(
            Instant::now() < deadline,
            "compaction at {rev} did not finish"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn compact(store: &KvStore, rev: i64) -> Result<etcd_mvcc::CompactionWaiter, MvccError> {
    apply(store, |t| t.compact(rev)).0
}

fn compact_errors_follow_etcd(fx: Fixture) {
    let store = fx.open();
    // Never compacted is etcd's -1, so compacting at 0 works once.
    compact(&store, 0).unwrap().wait();
    assert_eq!(store.compact_revision(), 0);
    assert!(matches!(compact(&store, 0), Err(MvccError::Compacted)));
    assert!(matches!(compact(&store, 2), Err(MvccError::FutureRev)));
    for v in ["1", "2", "3", "4"] {
        put(&store, "k", v); // 2..=5
    }
    assert!(matches!(compact(&store, 6), Err(MvccError::FutureRev)));
    let w = compact(&store, 3).unwrap();
    assert_eq!(store.compact_revision(), 3, "published at commit");
    w.wait();
    assert!(matches!(compact(&store, 3), Err(MvccError::Compacted)));
    assert!(matches!(compact(&store, 2), Err(MvccError::Compacted)));
    let w = compact(&store, 5).unwrap();
    w.wait();
    assert_eq!(
        (store.compact_revision(), store.current_revision()),
        (5, 5),
        "no revision bump"
    );
    // Twice in one write txn: the second must be above the first.
    put(&store, "k", "5");
    put(&store, "k", "6");
    let mut t = store.write(store.consistent_index() + 1);
    let w6 = t.compact(6).unwrap();
    assert!(matches!(t.compact(6), Err(MvccError::Compacted)));
    let w7 = t.compact(7).unwrap();
    t.commit().unwrap();
    w6.wait();
    w7.wait();
    assert_eq!(store.compact_revision(), 7);
}

/// 2: a=1, 3: a=2, 4: b=1, 5: del b, 6: c=1, 7: a=3, 8: del c, 9: d=1.
fn history(store: &KvStore) {
    put(store, "a", "1");
    put(store, "a", "2");
    put(store, "b", "1");
    delete(store, "b", "");
    put(store, "c", "1");
    put(store, "a", "3");
    delete(store, "c", "");
    put(store, "d", "1");
}

fn at(store: &KvStore, rev: i64) -> Result<Vec<String>, MvccError> {
    store
        .range(&RangeRequest {
            revision: rev,
            ..rr("\0", "\0")
        })
        .map(|r| pairs(&r))
}

fn compaction_removes_old_revisions_physically(fx: Fixture) {
    let store = fx.open();
    history(&store);
    assert_eq!(
        stored_revisions(&store),
        ["2.0", "3.0", "4.0", "5.0t", "6.0", "7.0", "8.0t", "9.0"]
    );
    let w = compact(&store, 7).unwrap();
    w.wait();
    // Per key: the newest revision <= 7 stays unless it is a tombstone.
    assert_eq!(stored_revisions(&store), ["6.0", "7.0", "8.0t", "9.0"]);
    assert_eq!(
        (store.indexed_key_count(), store.key_count()),
        (3, 2),
        "b is gone from the index"
    );
    assert_eq!(at(&store, 7).unwrap(), ["a=3", "c=1"]);
    assert_eq!(at(&store, 8).unwrap(), ["a=3"]);
    assert!(matches!(at(&store, 6), Err(MvccError::Compacted)));
    assert_eq!(at(&store, 0).unwrap(), ["a=3", "d=1"]);
    let a = get(&store, "a").unwrap();
    assert_eq!(
        (a.create_revision, a.version),
        (2, 3),
        "versions survive compaction"
    );
    // A new put of a compacted key continues its history correctly.
    put(&store, "a", "4");
    assert_eq!(get(&store, "a").unwrap().version, 4);
    put(&store, "b", "2");
    let b = get(&store, "b").unwrap();
    assert_eq!((b.create_revision, b.version), (11, 1));

    compact(&store, 9).unwrap().wait();
    assert_eq!(stored_revisions(&store), ["7.0", "9.0", "10.0", "11.0"]);
    assert_eq!(
        (store.indexed_key_count(), store.key_count()),
        (3, 3),
        "c is gone too"
    );
    assert_eq!(at(&store, 9).unwrap(), ["a=3", "d=1"]);
}

fn hold_delays_physical_removal_only(fx: Fixture) {
    let store = fx.open();
    history(&store);
    let hold = store.hold_compaction();
    let w = compact(&store, 7).unwrap();
    assert!(
        matches!(at(&store, 6), Err(MvccError::Compacted)),
        "logically compacted at once"
    );
    assert_eq!(at(&store, 7).unwrap(), ["a=3", "c=1"]);
    assert!(!w.is_done());
    assert_eq!(stored_revisions(&store).len(), 8, "nothing removed yet");
    drop(hold);
    w.wait();
    assert_eq!(stored_revisions(&store), ["6.0", "7.0", "8.0t", "9.0"]);
}

fn restart_resumes_an_unfinished_compaction(fx: Fixture) {
    {
        let store = fx.open();
        history(&store);
    }
    // A crash after the compaction's write (scheduled, nothing removed) and after the
    // first deletions of a chunk.
    {
        let backend = fx.backend();
        let mut batch = WriteBatch::default();
        batch.put(Bucket::Meta, b"scheduledCompactRev".to_vec(), rev_key(7));
        batch.delete(Bucket::Key, rev_key(2));
        backend.write(batch).unwrap();
    }
    let store = fx.open();
    assert_eq!((store.compact_revision(), store.current_revision()), (7, 9));
    assert!(matches!(at(&store, 6), Err(MvccError::Compacted)));
    assert_eq!(at(&store, 7).unwrap(), ["a=3", "c=1"]);
    wait_finished(&store, 7);
    assert_eq!(stored_revisions(&store), ["6.0", "7.0", "8.0t", "9.0"]);
    assert_eq!(at(&store, 0).unwrap(), ["a=3", "d=1"]);
    assert_eq!(get(&store, "a").unwrap().version, 3);
    drop(store);
    let store = fx.open();
    assert_eq!(store.compact_revision(), 7);
    assert_eq!(stored_revisions(&store), ["6.0", "7.0", "8.0t", "9.0"]);
}

fn restart_right_after_scheduling_converges(fx: Fixture) {
    let keys = 50;
    let rounds = 30; // 1500 revisions: more than one deletion chunk
    {
        let store = fx.open();
        for r in 0..rounds {
            apply(&store, |t| {
                for k in 0..keys {
                    t.put(&put_req(&format!("k{k:03}"), &format!("{r}")))
                        .unwrap();
                }
            });
            for k in 0..keys {
                put(&store, &format!("k{k:03}"), &format!("{r}"));
            }
        }
        let current = store.current_revision();
        compact(&store, current - 5).unwrap();
        // Dropped at once: the compaction may be anywhere.
    }
    let store = fx.open();
    let current = store.current_revision();
    assert_eq!(store.compact_revision(), current - 5);
    wait_finished(&store, current - 5);
    // Per key, only revisions >= the compaction's kept one remain.
    let remaining = key_bucket(&store).len();
    assert_eq!(
        remaining,
        keys + 5,
        "one kept revision per key plus the 5 newer ones"
    );
    let all = store.range(&rr("\0", "\0")).unwrap();
    assert_eq!(all.count, keys as i64);
    assert_eq!(all.kvs[0].version, 2 * rounds as i64);
}
