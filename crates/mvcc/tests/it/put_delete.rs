//! Put and delete semantics, events, and the all-or-nothing write txn.

use etcd_api::etcdserverpb::{DeleteRangeRequest, PutRequest};
use etcd_api::mvccpb::event::EventType;
use etcd_mvcc::{Bucket, MvccError};

use crate::support::*;

for_each_backend!(
    put_versions_and_prev_kv,
    ignore_value_and_ignore_lease,
    delete_range_counts_and_does_not_bump_when_empty,
    events_in_order_with_prev_kv,
    a_plain_put_reads_no_previous_kv,
    failed_op_leaves_the_write_txn_unchanged,
    dropped_write_txn_discards_everything,
    write_txn_reads_its_own_writes,
);

fn put_versions_and_prev_kv(fx: Fixture) {
    let store = fx.open();
    let r = put(&store, "a", "1");
    assert_eq!((header_rev(&r.header), r.prev_kv), (2, None));
    let r = put_with(
        &store,
        PutRequest {
            prev_kv: true,
            ..put_req("a", "2")
        },
    )
    .unwrap();
    assert_eq!(header_rev(&r.header), 3);
    let prev = r.prev_kv.unwrap();
    assert_eq!(
        (s(&prev.value), prev.mod_revision, prev.version),
        ("1".into(), 2, 1)
    );
    let kv = get(&store, "a").unwrap();
    assert_eq!(
        (
            kv.create_revision,
            kv.mod_revision,
            kv.version,
            s(&kv.value)
        ),
        (2, 3, 2, "2".into())
    );
    // The same value again is still a new revision.
    put(&store, "a", "2");
    assert_eq!(get(&store, "a").unwrap().version, 3);
    delete(&store, "a", "");
    let r = put_with(
        &store,
        PutRequest {
            prev_kv: true,
            ..put_req("a", "3")
        },
    )
    .unwrap();
    assert_eq!(r.prev_kv, None, "no previous kv after a delete");
    let kv = get(&store, "a").unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (6, 6, 1));
    assert_eq!(store.current_revision(), 6);
}

fn ignore_value_and_ignore_lease(fx: Fixture) {
    let store = fx.open();
    put_with(
        &store,
        PutRequest {
            lease: 5,
            ..put_req("a", "v")
        },
    )
    .unwrap();
    put_with(
        &store,
        PutRequest {
            ignore_value: true,
            lease: 7,
            ..put_req("a", "")
        },
    )
    .unwrap();
    let kv = get(&store, "a").unwrap();
    assert_eq!((s(&kv.value), kv.lease, kv.version), ("v".into(), 7, 2));
    put_with(
        &store,
        PutRequest {
            ignore_lease: true,
            ..put_req("a", "w")
        },
    )
    .unwrap();
    let kv = get(&store, "a").unwrap();
    assert_eq!((s(&kv.value), kv.lease), ("w".into(), 7));
    put_with(
        &store,
        PutRequest {
            lease: 0,
            ..put_req("a", "x")
        },
    )
    .unwrap();
    assert_eq!(
        get(&store, "a").unwrap().lease,
        0,
        "a plain put replaces the lease"
    );
    let rev = store.current_revision();
    for req in [
        PutRequest {
            ignore_value: true,
            ..put_req("missing", "")
        },
        PutRequest {
            ignore_lease: true,
            ..put_req("missing", "v")
        },
    ] {
        assert!(matches!(put_with(&store, req), Err(MvccError::KeyNotFound)));
    }
    assert_eq!(store.current_revision(), rev);
    assert!(get(&store, "missing").is_none());
}

fn delete_range_counts_and_does_not_bump_when_empty(fx: Fixture) {
    let store = fx.open();
    for k in ["a", "a/1", "a/2", "b"] {
        put(&store, k, k);
    }
    let r = delete(&store, "zz", "");
    assert_eq!(
        (r.deleted, header_rev(&r.header), r.prev_kvs.len()),
        (0, 5, 0)
    );
    assert_eq!(
        store.current_revision(),
        5,
        "deleting nothing does not bump the revision"
    );
    let r = apply(&store, |t| {
        t.delete_range(&DeleteRangeRequest {
            prev_kv: true,
            ..del_req("a/", "a0")
        })
    })
    .0
    .unwrap();
    assert_eq!((r.deleted, header_rev(&r.header)), (2, 6));
    assert_eq!(
        r.prev_kvs.iter().map(|kv| s(&kv.key)).collect::<Vec<_>>(),
        ["a/1", "a/2"]
    );
    assert_eq!(r.prev_kvs[0].mod_revision, 3);
    assert_eq!(keys(&range(&store, rr("\0", "\0"))), ["a", "b"]);
    let r = delete(&store, "a", "\0");
    assert_eq!(
        (r.deleted, r.prev_kvs.len()),
        (2, 0),
        "no prev_kvs unless asked"
    );
    assert_eq!(range(&store, rr("\0", "\0")).count, 0);
    // Tombstones are stored under the revision with a "t" mark.
    assert_eq!(
        stored_revisions(&store)[4..],
        ["6.0t", "6.1t", "7.0t", "7.1t"]
    );
}

fn events_in_order_with_prev_kv(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "1");
    put(&store, "b", "2");
    let with_prev = PutRequest {
        prev_kv: true,
        ..put_req("a", "3")
    };
    let (_, events) = apply(&store, |t| {
        t.put(&with_prev).unwrap();
        t.put(&put_req("c", "4")).unwrap();
        t.delete_range(&del_req("b", "")).unwrap();
    });
    assert_eq!(events.len(), 3);
    let e = &events[0];
    assert_eq!(e.r#type, EventType::Put as i32);
    let kv = e.kv.as_ref().unwrap();
    assert_eq!(
        (s(&kv.key), s(&kv.value), kv.mod_revision, kv.version),
        ("a".into(), "3".into(), 4, 2)
    );
    assert_eq!(s(&e.prev_kv.as_ref().unwrap().value), "1");
    assert_eq!(events[1].prev_kv, None);
    let d = &events[2];
    assert_eq!(d.r#type, EventType::Delete as i32);
    let kv = d.kv.as_ref().unwrap();
    assert_eq!(
        (s(&kv.key), kv.mod_revision, kv.version, kv.create_revision),
        ("b".into(), 4, 0, 0)
    );
    assert_eq!(s(&d.prev_kv.as_ref().unwrap().value), "2");
    assert_eq!(stored_revisions(&store)[2..], ["4.0", "4.1", "4.2t"]);
    // A write txn without changes yields no events and keeps the revision.
    let (_, events) = apply(&store, |_| ());
    assert!(events.is_empty());
    assert_eq!(store.current_revision(), 4);
}

/// A put that does not ask for the previous kv does not read it (a backend lookup of an
/// old revision), yet gets the version and create revision right from the key index.
fn a_plain_put_reads_no_previous_kv(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "1"); // 2
    put(&store, "a", "2"); // 3
    let (_, events) = apply(&store, |t| {
        t.put(&put_req("a", "3")).unwrap();
    });
    assert_eq!(events[0].prev_kv, None);
    let kv = events[0].kv.as_ref().unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (2, 4, 3));
    // In a txn, a put after a delete of the same key starts a new generation.
    let (_, events) = apply(&store, |t| {
        t.delete_range(&del_req("a", "")).unwrap();
        t.put(&put_req("a", "4")).unwrap();
    });
    let kv = events[1].kv.as_ref().unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (5, 5, 1));
    let r = range(&store, rr("a", ""));
    assert_eq!((r.kvs[0].create_revision, r.kvs[0].version), (5, 1));
}

fn failed_op_leaves_the_write_txn_unchanged(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "1");
    let (_, events) = apply(&store, |t| {
        t.put(&put_req("b", "1")).unwrap();
        assert_eq!(t.revision(), 3);
        let bad = PutRequest {
            ignore_value: true,
            ..put_req("missing", "")
        };
        assert!(matches!(t.put(&bad), Err(MvccError::KeyNotFound)));
        let good_txn = txn_req(
            vec![],
            vec![
                op_put("c", "1"),
                op_del("a", ""),
                op_txn(txn_req(vec![], vec![op_put("missing2", "")], vec![])),
            ],
            vec![],
        );
        // The nested put cannot fail, so this txn succeeds; then a failing one.
        t.txn(&good_txn).unwrap();
        let mut failing = txn_req(vec![], vec![op_put("d", "1"), op_put("x", "")], vec![]);
        if let Some(etcd_api::etcdserverpb::request_op::Request::RequestPut(p)) =
            &mut failing.success[1].request
        {
            p.ignore_lease = true;
        }
        assert!(matches!(t.txn(&failing), Err(MvccError::KeyNotFound)));
        assert!(
            t.range(&rr("d", "")).unwrap().kvs.is_empty(),
            "failed txn left nothing"
        );
        assert_eq!(t.revision(), 3);
    });
    let keys_events: Vec<_> = events
        .iter()
        .map(|e| s(&e.kv.as_ref().unwrap().key))
        .collect();
    assert_eq!(keys_events, ["b", "c", "a", "missing2"]);
    assert_eq!(keys(&range(&store, rr("\0", "\0"))), ["b", "c", "missing2"]);
}

fn dropped_write_txn_discards_everything(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "1");
    let ci = store.consistent_index();
    {
        let mut t = store.write(ci + 1);
        t.put(&put_req("a", "2")).unwrap();
        t.delete_range(&del_req("a", "")).unwrap();
        t.batch_mut()
            .put(Bucket::Lease, b"l".to_vec(), b"v".to_vec());
        let waiter = t.compact(2).unwrap();
        drop(t);
        waiter.wait(); // abandoned, so it returns
    }
    assert_eq!(store.current_revision(), 2);
    assert_eq!(store.consistent_index(), ci);
    assert_eq!(store.compact_revision(), 0);
    assert_eq!(s(&get(&store, "a").unwrap().value), "1");
    assert_eq!(store.backend().get(Bucket::Lease, b"l").unwrap(), None);
}

fn write_txn_reads_its_own_writes(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "1");
    let mut t = store.write(store.consistent_index() + 1);
    t.put(&put_req("b", "2")).unwrap();
    t.delete_range(&del_req("a", "")).unwrap();
    let r = t.range(&rr("\0", "\0")).unwrap();
    assert_eq!(
        (pairs(&r), header_rev(&r.header)),
        (vec!["b=2".to_string()], 3)
    );
    let old = t
        .range(&etcd_api::etcdserverpb::RangeRequest {
            revision: 2,
            ..rr("\0", "\0")
        })
        .unwrap();
    assert_eq!(pairs(&old), ["a=1"]);
    // Readers see nothing until commit.
    assert_eq!(pairs(&range(&store, rr("\0", "\0"))), ["a=1"]);
    t.commit().unwrap();
    assert_eq!(pairs(&range(&store, rr("\0", "\0"))), ["b=2"]);
}
