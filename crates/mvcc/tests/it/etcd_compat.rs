//! Byte compatibility with etcd: the same history gives the same HashKV as etcd 3.4.23
//! (values recorded from a real etcd fed these requests), which pins the key-bucket
//! encoding, the KeyValue encoding and the hash.

use etcd_mvcc::KvStore;

use crate::support::*;

for_each_backend!(hash_kv_matches_etcd);

fn etcd_history(store: &KvStore) {
    put(store, "a", "1"); // 2
    put(store, "a", "2"); // 3
    put(store, "b", "x"); // 4
    let nested = txn_req(vec![], vec![op_put("c", "v"), op_get("c", "")], vec![]);
    txn(
        store,
        &txn_req(vec![], vec![op_txn(nested), op_get("a", "")], vec![]),
    )
    .unwrap(); // 5
    txn(
        store,
        &txn_req(vec![], vec![op_del("x", "\0"), op_put("y", "v")], vec![]),
    )
    .unwrap(); // 6
    let put_q = txn_req(vec![], vec![op_put("q", "v")], vec![]);
    let del_q = txn_req(vec![], vec![op_del("q", "")], vec![]);
    txn(
        store,
        &txn_req(vec![], vec![op_txn(put_q), op_txn(del_q)], vec![]),
    )
    .unwrap(); // 7
}

fn hash_kv_matches_etcd(fx: Fixture) {
    let store = fx.open();
    etcd_history(&store);
    assert_eq!(store.current_revision(), 7);
    assert_eq!(store.hash_kv(0).unwrap(), (289_536_868, -1, 7));
    for rev in [0, 1] {
        apply(&store, |t| t.compact(rev)).0.unwrap().wait();
    }
    assert_eq!(store.hash_kv(0).unwrap(), (289_536_868, 1, 7));
    apply(&store, |t| t.compact(3)).0.unwrap().wait();
    let expected = [
        (4, 1_670_052_297u32),
        (5, 3_311_709_719),
        (6, 347_089_894),
        (7, 1_843_052_029),
    ];
    for (rev, hash) in expected {
        assert_eq!(store.hash_kv(rev).unwrap(), (hash, 3, rev), "at {rev}");
    }
    assert_eq!(store.hash_kv(0).unwrap(), (1_843_052_029, 3, 7));
}
