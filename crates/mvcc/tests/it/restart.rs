//! Reopening a store rebuilds the same state; the consistent index and extra batch
//! writes commit atomically with the changes.

use etcd_api::etcdserverpb::RangeRequest;
use etcd_mvcc::{Bucket, KvStore};

use crate::support::*;

for_each_backend!(
    reopen_rebuilds_the_same_state,
    consistent_index_and_batch_commit_with_the_data
);

/// Everything observable: every key at every revision, and the store's revisions.
fn snapshot(store: &KvStore) -> (i64, i64, usize, Vec<String>) {
    let mut seen = Vec::new();
    for rev in store.compact_revision().max(1)..=store.current_revision() {
        let r = store
            .range(&RangeRequest {
                revision: rev,
                ..rr("\0", "\0")
            })
            .unwrap();
        for kv in r.kvs {
            seen.push(format!(
                "@{rev} {}={} c{} m{} v{} l{}",
                s(&kv.key),
                s(&kv.value),
                kv.create_revision,
                kv.mod_revision,
                kv.version,
                kv.lease
            ));
        }
    }
    (
        store.current_revision(),
        store.compact_revision(),
        store.key_count(),
        seen,
    )
}

fn reopen_rebuilds_the_same_state(fx: Fixture) {
    let before = {
        let store = fx.open();
        for i in 0..30 {
            let k = format!("k{}", i % 7);
            put(&store, &k, &format!("{i}"));
            if i % 4 == 0 {
                delete(&store, &format!("k{}", i % 5), "");
            }
            if i % 9 == 0 {
                let t = txn_req(
                    vec![],
                    vec![op_put("t1", "x"), op_del("k3", ""), op_put("t2", &k)],
                    vec![],
                );
                txn(&store, &t).unwrap();
            }
        }
        apply(&store, |t| t.compact(10)).0.unwrap().wait();
        put(&store, "after", "compaction");
        (snapshot(&store), store.hash_kv(0).unwrap())
    };
    let store = fx.open();
    assert_eq!((snapshot(&store), store.hash_kv(0).unwrap()), before);
    // Histories continue where they were.
    let next = store.current_revision() + 1;
    let k0 = get(&store, "k6").unwrap();
    assert_eq!(put(&store, "k6", "again").header.unwrap().revision, next);
    let k0_after = get(&store, "k6").unwrap();
    assert_eq!(
        (k0_after.create_revision, k0_after.version),
        (k0.create_revision, k0.version + 1)
    );
}

fn consistent_index_and_batch_commit_with_the_data(fx: Fixture) {
    {
        let store = fx.open();
        assert_eq!(store.consistent_index(), 0);
        let mut t = store.write(7);
        t.put(&put_req("a", "1")).unwrap();
        t.batch_mut()
            .put(Bucket::Lease, b"lease-1".to_vec(), b"ttl".to_vec());
        t.commit().unwrap();
        assert_eq!(store.consistent_index(), 7);
        // An entry with no changes still moves the index; a lower one never lowers it.
        store.write(8).commit().unwrap();
        store.write(3).commit().unwrap();
        assert_eq!(store.consistent_index(), 8);
        let mut t = store.write(9);
        t.put(&put_req("b", "1")).unwrap();
        drop(t);
        store.backend().sync().unwrap();
    }
    let store = fx.open();
    assert_eq!(store.consistent_index(), 8);
    assert_eq!(store.current_revision(), 2);
    assert_eq!(pairs(&range(&store, rr("\0", "\0"))), ["a=1"]);
    assert_eq!(
        store.backend().get(Bucket::Lease, b"lease-1").unwrap(),
        Some(b"ttl".to_vec())
    );
}
