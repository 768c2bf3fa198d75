//! Txn semantics: compares, branches, nesting, read-your-writes, all-or-nothing.

use etcd_api::etcdserverpb::RangeRequest;
use etcd_api::etcdserverpb::compare::{CompareResult as R, CompareTarget as T, TargetUnion as U};
use etcd_api::etcdserverpb::{PutRequest, ResponseHeader};
use etcd_mvcc::MvccError;

use crate::support::*;

for_each_backend!(
    compares_choose_the_branch,
    compare_over_a_range_must_hold_for_every_key,
    compares_on_missing_keys,
    ops_see_earlier_ops_of_the_same_txn,
    nested_compares_see_the_state_before_the_txn,
    nested_responses_and_headers,
    failed_txn_changes_nothing,
    range_revisions_are_checked_before_anything_runs,
    txn_without_changes_keeps_the_revision,
    read_txn_serves_read_only_txns,
    put_of_a_key_deleted_earlier_in_the_txn_fails_cleanly,
);

fn compares_choose_the_branch(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "1"); // 2
    let t = txn_req(
        vec![cmp("a", "", T::Value, R::Equal, U::Value(b("1")))],
        vec![op_put("s", "1")],
        vec![op_put("f", "1")],
    );
    let r = txn(&store, &t).unwrap();
    assert!(r.succeeded);
    assert_eq!(header_rev(&r.header), 3);
    assert_eq!(header_rev(&put_resp(&r.responses[0]).header), 3);
    let t2 = txn_req(
        vec![cmp("a", "", T::Version, R::Greater, U::Version(1))],
        vec![op_put("s2", "1")],
        vec![op_put("f2", "1")],
    );
    let r = txn(&store, &t2).unwrap();
    assert!(!r.succeeded);
    assert!(get(&store, "f2").is_some() && get(&store, "s2").is_none());
    let checks = [
        (
            cmp("a", "", T::Create, R::Equal, U::CreateRevision(2)),
            true,
        ),
        (cmp("a", "", T::Mod, R::Less, U::ModRevision(3)), true),
        (cmp("a", "", T::Mod, R::NotEqual, U::ModRevision(2)), false),
        (cmp("a", "", T::Value, R::Greater, U::Value(b("0"))), true),
        (cmp("a", "", T::Lease, R::Equal, U::Lease(0)), true),
        (cmp("a", "", T::Version, R::Equal, U::Version(1)), true),
    ];
    for (c, want) in checks {
        let r = txn(&store, &txn_req(vec![c.clone()], vec![], vec![])).unwrap();
        assert_eq!(r.succeeded, want, "{c:?}");
    }
    // All compares must hold.
    let both = vec![
        cmp("a", "", T::Version, R::Equal, U::Version(1)),
        cmp("a", "", T::Version, R::Equal, U::Version(2)),
    ];
    assert!(
        !txn(&store, &txn_req(both, vec![], vec![]))
            .unwrap()
            .succeeded
    );
}

fn compare_over_a_range_must_hold_for_every_key(fx: Fixture) {
    let store = fx.open();
    put(&store, "k/1", "x");
    put(&store, "k/2", "x");
    put(&store, "k/3", "y");
    let holds = |c| {
        txn(&store, &txn_req(vec![c], vec![], vec![]))
            .unwrap()
            .succeeded
    };
    assert!(!holds(cmp(
        "k/",
        "k0",
        T::Value,
        R::Equal,
        U::Value(b("x"))
    )));
    assert!(holds(cmp(
        "k/1",
        "k/3",
        T::Value,
        R::Equal,
        U::Value(b("x"))
    )));
    assert!(holds(cmp(
        "k/",
        "k0",
        T::Create,
        R::Greater,
        U::CreateRevision(1)
    )));
    assert!(holds(cmp("k/", "\0", T::Mod, R::Less, U::ModRevision(5))));
    assert!(!holds(cmp("k/", "\0", T::Mod, R::Less, U::ModRevision(4))));
}

fn compares_on_missing_keys(fx: Fixture) {
    let store = fx.open();
    let holds = |c| {
        txn(&store, &txn_req(vec![c], vec![], vec![]))
            .unwrap()
            .succeeded
    };
    // A missing key compares as a zero KeyValue ...
    assert!(holds(cmp("nope", "", T::Version, R::Equal, U::Version(0))));
    assert!(holds(cmp(
        "nope",
        "",
        T::Create,
        R::Equal,
        U::CreateRevision(0)
    )));
    assert!(holds(cmp("nope", "", T::Mod, R::Less, U::ModRevision(1))));
    assert!(holds(cmp("nope", "", T::Lease, R::Equal, U::Lease(0))));
    assert!(
        holds(cmp("n", "o", T::Version, R::Equal, U::Version(0))),
        "an empty range too"
    );
    // ... but a value compare on missing keys is always false.
    assert!(!holds(cmp("nope", "", T::Value, R::Equal, U::Value(b("")))));
    assert!(!holds(cmp(
        "nope",
        "",
        T::Value,
        R::NotEqual,
        U::Value(b("x"))
    )));
    put(&store, "a", "1");
    delete(&store, "a", "");
    assert!(
        holds(cmp("a", "", T::Version, R::Equal, U::Version(0))),
        "deleted keys are missing"
    );
}

fn ops_see_earlier_ops_of_the_same_txn(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "old"); // 2
    let t = txn_req(
        vec![],
        vec![
            op_get("a", ""),
            op_put("a", "new"),
            op_get("a", ""),
            op_del("a", ""),
            op_get("a", "\0"),
            op_put("b", "x"),
            op_range(RangeRequest {
                revision: 2,
                ..rr("a", "")
            }),
        ],
        vec![],
    );
    let r = txn(&store, &t).unwrap();
    let first = range_resp(&r.responses[0]);
    assert_eq!(
        (pairs(first), header_rev(&first.header)),
        (vec!["a=old".to_string()], 2)
    );
    let second = range_resp(&r.responses[2]);
    assert_eq!(
        (pairs(second), header_rev(&second.header)),
        (vec!["a=new".to_string()], 3)
    );
    assert_eq!(second.kvs[0].version, 2);
    let d = del_resp(&r.responses[3]);
    assert_eq!((d.deleted, header_rev(&d.header)), (1, 3));
    assert!(range_resp(&r.responses[4]).kvs.is_empty());
    assert_eq!(pairs(range_resp(&r.responses[6])), ["a=old"]);
    assert_eq!(header_rev(&r.header), 3);
    // One main revision, one sub revision per change.
    assert_eq!(stored_revisions(&store), ["2.0", "3.0", "3.1t", "3.2"]);
    assert!(get(&store, "a").is_none());
}

fn nested_compares_see_the_state_before_the_txn(fx: Fixture) {
    let store = fx.open();
    let inner = txn_req(
        vec![cmp("x", "", T::Version, R::Equal, U::Version(0))],
        vec![op_put("inner-saw-no-x", "1")],
        vec![op_put("inner-saw-x", "1")],
    );
    let t = txn_req(vec![], vec![op_put("x", "1"), op_txn(inner)], vec![]);
    let r = txn(&store, &t).unwrap();
    assert!(txn_resp(&r.responses[1]).succeeded);
    assert!(get(&store, "inner-saw-no-x").is_some());
    assert!(get(&store, "inner-saw-x").is_none());
}

fn nested_responses_and_headers(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "1"); // 2
    let inner = txn_req(
        vec![cmp("a", "", T::Value, R::Equal, U::Value(b("nope")))],
        vec![op_put("never", "1")],
        vec![
            op_put("c", "v"),
            op_get("c", ""),
            op_txn(txn_req(vec![], vec![op_get("a", "")], vec![])),
        ],
    );
    let t = txn_req(
        vec![],
        vec![op_txn(inner), op_get("a", "")],
        vec![op_put("never", "2")],
    );
    let r = txn(&store, &t).unwrap();
    assert!(r.succeeded);
    assert_eq!(header_rev(&r.header), 3);
    let nested = txn_resp(&r.responses[0]);
    assert!(!nested.succeeded);
    assert_eq!(
        nested.header,
        Some(ResponseHeader::default()),
        "as etcd: nested headers are empty"
    );
    assert_eq!(header_rev(&put_resp(&nested.responses[0]).header), 3);
    assert_eq!(pairs(range_resp(&nested.responses[1])), ["c=v"]);
    let deeper = txn_resp(&nested.responses[2]);
    assert!(deeper.succeeded);
    assert_eq!(pairs(range_resp(&deeper.responses[0])), ["a=1"]);
    assert_eq!(header_rev(&range_resp(&r.responses[1]).header), 3);
    assert!(get(&store, "never").is_none());
}

fn failed_txn_changes_nothing(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "1");
    let ignore = |k: &str| etcd_api::etcdserverpb::RequestOp {
        request: Some(etcd_api::etcdserverpb::request_op::Request::RequestPut(
            PutRequest {
                key: b(k),
                ignore_value: true,
                ..Default::default()
            },
        )),
    };
    // The failing put is checked before the first op runs, nested or not.
    for t in [
        txn_req(
            vec![],
            vec![op_put("b", "1"), op_del("a", ""), ignore("missing")],
            vec![],
        ),
        txn_req(
            vec![],
            vec![
                op_put("b", "1"),
                op_txn(txn_req(vec![], vec![ignore("missing")], vec![])),
            ],
            vec![],
        ),
    ] {
        assert!(matches!(txn(&store, &t), Err(MvccError::KeyNotFound)));
    }
    // A put that depends on a key existing before the txn is fine.
    let ok = txn_req(vec![], vec![op_put("b", "1"), ignore("a")], vec![]);
    txn(&store, &ok).unwrap();
    assert_eq!(store.current_revision(), 3);
    assert_eq!(pairs(&range(&store, rr("\0", "\0"))), ["a=1", "b=1"]);
    assert_eq!(get(&store, "a").unwrap().version, 2);
    // Only the branch taken is checked.
    let other_branch = txn_req(vec![], vec![op_put("c", "1")], vec![ignore("missing")]);
    txn(&store, &other_branch).unwrap();
}

fn range_revisions_are_checked_before_anything_runs(fx: Fixture) {
    let store = fx.open();
    for v in ["1", "2", "3"] {
        put(&store, "a", v); // 2..=4
    }
    let with_range_at = |rev: i64| {
        txn_req(
            vec![],
            vec![
                op_put("b", "1"),
                op_range(RangeRequest {
                    revision: rev,
                    ..rr("a", "")
                }),
            ],
            vec![],
        )
    };
    // The txn's own new revision is still the future when checked.
    assert!(matches!(
        txn(&store, &with_range_at(5)),
        Err(MvccError::FutureRev)
    ));
    assert_eq!(store.current_revision(), 4);
    // As etcd: -1 is fine while never compacted, anything lower is "compacted".
    let r = txn(&store, &with_range_at(-1)).unwrap();
    assert_eq!(pairs(range_resp(&r.responses[1])), ["a=3"]);
    assert!(matches!(
        txn(&store, &with_range_at(-2)),
        Err(MvccError::Compacted)
    ));
    apply(&store, |t| t.compact(3)).0.unwrap().wait();
    assert!(matches!(
        txn(&store, &with_range_at(2)),
        Err(MvccError::Compacted)
    ));
    assert!(matches!(
        txn(&store, &with_range_at(-1)),
        Err(MvccError::Compacted)
    ));
    let r = txn(&store, &with_range_at(3)).unwrap();
    assert_eq!(pairs(range_resp(&r.responses[1])), ["a=2"]);
    assert_eq!(store.current_revision(), 6);
}

fn txn_without_changes_keeps_the_revision(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "1");
    let r = txn(
        &store,
        &txn_req(vec![], vec![op_get("a", ""), op_del("zzz", "")], vec![]),
    )
    .unwrap();
    assert_eq!(header_rev(&r.header), 2);
    assert_eq!(header_rev(&del_resp(&r.responses[1]).header), 2);
    assert_eq!(store.current_revision(), 2);
    // A delete that finds nothing after a change reports the txn's new revision.
    let r = txn(
        &store,
        &txn_req(vec![], vec![op_put("b", "1"), op_del("zzz", "")], vec![]),
    )
    .unwrap();
    assert_eq!(header_rev(&del_resp(&r.responses[1]).header), 3);
    let empty = txn(&store, &txn_req(vec![], vec![], vec![])).unwrap();
    assert!(empty.succeeded && empty.responses.is_empty());
    assert_eq!(header_rev(&empty.header), 3);
}

fn read_txn_serves_read_only_txns(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "1");
    put(&store, "b", "2");
    let t = txn_req(
        vec![cmp("a", "", T::Value, R::Equal, U::Value(b("1")))],
        vec![
            op_get("a", "\0"),
            op_txn(txn_req(
                vec![],
                vec![op_range(RangeRequest {
                    revision: 2,
                    ..rr("b", "")
                })],
                vec![],
            )),
        ],
        vec![op_get("b", "")],
    );
    let r = store.read_txn(&t).unwrap();
    assert!(r.succeeded);
    assert_eq!(header_rev(&r.header), 3);
    assert_eq!(pairs(range_resp(&r.responses[0])), ["a=1", "b=2"]);
    assert!(
        range_resp(&txn_resp(&r.responses[1]).responses[0])
            .kvs
            .is_empty()
    );
    assert_eq!(
        r,
        txn(&store, &t).unwrap(),
        "same answer as through the writer"
    );
    let writes = txn_req(vec![], vec![], vec![op_put("x", "1")]);
    assert!(matches!(
        store.read_txn(&writes),
        Err(MvccError::NotReadOnly)
    ));
    let future = txn_req(
        vec![],
        vec![op_range(RangeRequest {
            revision: 9,
            ..rr("a", "")
        })],
        vec![],
    );
    assert!(matches!(store.read_txn(&future), Err(MvccError::FutureRev)));
}

fn put_of_a_key_deleted_earlier_in_the_txn_fails_cleanly(fx: Fixture) {
    // etcd's checks let this through (a "\0" range end never counts as covering a put)
    // and etcd 3.4 then panics applying it; here the txn fails and changes nothing.
    let store = fx.open();
    put(&store, "y", "1");
    let mut t = txn_req(vec![], vec![op_del("x", "\0"), op_put("y", "")], vec![]);
    if let Some(etcd_api::etcdserverpb::request_op::Request::RequestPut(p)) =
        &mut t.success[1].request
    {
        p.ignore_value = true;
    }
    etcd_mvcc::validate::check_txn(&t, 128).unwrap();
    assert!(matches!(txn(&store, &t), Err(MvccError::KeyNotFound)));
    assert_eq!(store.current_revision(), 2);
    assert_eq!(pairs(&range(&store, rr("\0", "\0"))), ["y=1"]);
}
