//! Range options, as etcd's applier answers them.

use etcd_api::etcdserverpb::RangeRequest;
use etcd_api::etcdserverpb::range_request::{SortOrder, SortTarget};
use etcd_mvcc::MvccError;

use crate::support::*;

for_each_backend!(
    single_prefix_and_from_key,
    limit_more_count_and_keys_only,
    sort_targets_and_orders,
    sort_is_applied_to_the_fetched_page_only,
    revision_filters,
    historical_revisions,
    compacted_and_future_revisions,
);

fn single_prefix_and_from_key(fx: Fixture) {
    let store = fx.open();
    assert_eq!(store.current_revision(), 1);
    for (k, v) in [("a", "1"), ("ab", "2"), ("abc", "3"), ("b", "4")] {
        put(&store, k, v);
    }
    let r = range(&store, rr("a", ""));
    assert_eq!(
        (pairs(&r), r.count, r.more),
        (vec!["a=1".to_string()], 1, false)
    );
    assert_eq!(header_rev(&r.header), 5);
    assert_eq!(
        pairs(&range(&store, rr("a", "b"))),
        ["a=1", "ab=2", "abc=3"]
    );
    assert_eq!(keys(&range(&store, rr("ab", "\0"))), ["ab", "abc", "b"]);
    assert_eq!(
        keys(&range(&store, rr("\0", "\0"))),
        ["a", "ab", "abc", "b"]
    );
    let inverted = range(&store, rr("b", "a"));
    assert_eq!((inverted.kvs.len(), inverted.count), (0, 0));
    let missing = range(&store, rr("zz", ""));
    assert_eq!(
        (
            missing.kvs.len(),
            missing.count,
            header_rev(&missing.header)
        ),
        (0, 0, 5)
    );
    let kv = get(&store, "ab").unwrap();
    assert_eq!(
        (kv.create_revision, kv.mod_revision, kv.version, kv.lease),
        (3, 3, 1, 0)
    );
}

fn limit_more_count_and_keys_only(fx: Fixture) {
    let store = fx.open();
    for (k, v) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")] {
        put(&store, k, v);
    }
    let all = || rr("a", "\0");
    let r = range(&store, RangeRequest { limit: 2, ..all() });
    assert_eq!(
        (keys(&r), r.more, r.count),
        (vec!["a".into(), "b".into()], true, 4)
    );
    let r = range(&store, RangeRequest { limit: 3, ..all() });
    assert_eq!((r.kvs.len(), r.more, r.count), (3, true, 4));
    for limit in [4, 5, 0, -1] {
        let r = range(&store, RangeRequest { limit, ..all() });
        assert_eq!(
            (r.kvs.len(), r.more, r.count),
            (4, false, 4),
            "limit {limit}"
        );
    }
    let r = range(
        &store,
        RangeRequest {
            count_only: true,
            ..all()
        },
    );
    assert_eq!((r.kvs.len(), r.more, r.count), (0, false, 4));
    let r = range(
        &store,
        RangeRequest {
            count_only: true,
            limit: 1,
            ..all()
        },
    );
    assert_eq!((r.kvs.len(), r.more, r.count), (0, false, 4));
    let r = range(
        &store,
        RangeRequest {
            keys_only: true,
            limit: 1,
            ..all()
        },
    );
    assert_eq!(r.kvs.len(), 1);
    assert!(r.kvs[0].value.is_empty());
    assert_eq!(
        (s(&r.kvs[0].key), r.kvs[0].version, r.kvs[0].mod_revision),
        ("a".into(), 1, 2)
    );
    assert!(r.more);
}

/// a: create 3, mod 7, version 2, value "u"; b: create 4, mod 4, version 1, "y";
/// c: create 2, mod 6, version 3, "v"; d: create 8, mod 8, version 1, "x".
fn sort_fixture(fx: &Fixture) -> etcd_mvcc::KvStore {
    let store = fx.open();
    for (k, v) in [
        ("c", "x"),
        ("a", "z"),
        ("b", "y"),
        ("c", "w"),
        ("c", "v"),
        ("a", "u"),
        ("d", "x"),
    ] {
        put(&store, k, v);
    }
    store
}

fn sorted(store: &etcd_mvcc::KvStore, target: SortTarget, order: SortOrder) -> Vec<String> {
    keys(&range(
        store,
        RangeRequest {
            sort_target: target as i32,
            sort_order: order as i32,
            ..rr("a", "\0")
        },
    ))
}

fn sort_targets_and_orders(fx: Fixture) {
    let store = sort_fixture(&fx);
    use SortOrder::*;
    use SortTarget::*;
    let cases: [(SortTarget, SortOrder, [&str; 4]); 11] = [
        (Key, None, ["a", "b", "c", "d"]),
        (Key, Ascend, ["a", "b", "c", "d"]),
        (Key, Descend, ["d", "c", "b", "a"]),
        // Equal versions keep key order in both directions (stable sort).
        (Version, Ascend, ["b", "d", "a", "c"]),
        (Version, Descend, ["c", "a", "b", "d"]),
        (Version, None, ["b", "d", "a", "c"]),
        (Create, Ascend, ["c", "a", "b", "d"]),
        (Create, Descend, ["d", "b", "a", "c"]),
        (Mod, Descend, ["d", "a", "c", "b"]),
        (Value, Ascend, ["a", "c", "d", "b"]),
        (Value, Descend, ["b", "d", "c", "a"]),
    ];
    for (target, order, want) in cases {
        assert_eq!(sorted(&store, target, order), want, "{target:?} {order:?}");
    }
    let r = range(
        &store,
        RangeRequest {
            sort_target: Mod as i32,
            sort_order: Descend as i32,
            limit: 2,
            ..rr("a", "\0")
        },
    );
    assert_eq!(
        (keys(&r), r.more, r.count),
        (vec!["d".into(), "a".into()], true, 4)
    );
}

fn sort_is_applied_to_the_fetched_page_only(fx: Fixture) {
    // etcd fetches limit + 1 keys by key when the sort order is NONE, then sorts by the
    // target: with CREATE and limit 1 it sorts [a, b] and answers a, not c.
    let store = sort_fixture(&fx);
    let r = range(
        &store,
        RangeRequest {
            sort_target: SortTarget::Create as i32,
            limit: 1,
            ..rr("a", "\0")
        },
    );
    assert_eq!((keys(&r), r.more, r.count), (vec!["a".into()], true, 4));
    let r = range(
        &store,
        RangeRequest {
            sort_target: SortTarget::Create as i32,
            sort_order: SortOrder::Ascend as i32,
            limit: 1,
            ..rr("a", "\0")
        },
    );
    assert_eq!(keys(&r), ["c"]);
}

fn revision_filters(fx: Fixture) {
    let store = sort_fixture(&fx);
    let q = |f: &dyn Fn(&mut RangeRequest)| {
        let mut req = rr("a", "\0");
        f(&mut req);
        range(&store, req)
    };
    let r = q(&|r| {
        r.min_mod_revision = 5;
        r.max_mod_revision = 7;
    });
    assert_eq!(
        (keys(&r), r.count),
        (vec!["a".into(), "c".into()], 4),
        "count ignores filters"
    );
    assert_eq!(keys(&q(&|r| r.min_create_revision = 3)), ["a", "b", "d"]);
    assert_eq!(keys(&q(&|r| r.max_create_revision = 3)), ["a", "c"]);
    assert_eq!(keys(&q(&|r| r.max_mod_revision = 6)), ["b", "c"]);
    // Filters apply before the limit; more tells about what the filters left.
    let r = q(&|r| {
        r.min_mod_revision = 6;
        r.limit = 1;
    });
    assert_eq!((keys(&r), r.more, r.count), (vec!["a".into()], true, 4));
    let r = q(&|r| {
        r.min_mod_revision = 8;
        r.limit = 1;
    });
    assert_eq!((keys(&r), r.more), (vec!["d".into()], false));
}

fn historical_revisions(fx: Fixture) {
    let store = fx.open();
    put(&store, "a", "1"); // 2
    put(&store, "a", "2"); // 3
    delete(&store, "a", ""); // 4
    put(&store, "a", "3"); // 5
    put(&store, "b", "1"); // 6
    let at = |rev: i64, key: &str, end: &str| {
        range(
            &store,
            RangeRequest {
                revision: rev,
                ..rr(key, end)
            },
        )
    };
    let r = at(2, "a", "");
    assert_eq!(pairs(&r), ["a=1"]);
    assert_eq!(
        header_rev(&r.header),
        6,
        "the header has the current revision"
    );
    let kv = &at(3, "a", "").kvs[0];
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (2, 3, 2));
    let r = at(4, "a", "");
    assert_eq!((r.kvs.len(), r.count), (0, 0));
    let kv = &at(5, "a", "").kvs[0];
    assert_eq!(
        (kv.create_revision, kv.mod_revision, kv.version),
        (5, 5, 1),
        "version restarts"
    );
    assert_eq!(keys(&at(5, "a", "\0")), ["a"]);
    assert_eq!(keys(&at(6, "a", "\0")), ["a", "b"]);
    assert_eq!(keys(&at(1, "a", "\0")), Vec::<String>::new());
    assert_eq!(pairs(&at(-5, "a", "")), ["a=3"], "negative means current");
}

fn compacted_and_future_revisions(fx: Fixture) {
    let store = fx.open();
    for v in ["1", "2", "3", "4"] {
        put(&store, "k", v); // 2..=5
    }
    let at = |rev: i64| {
        store.range(&RangeRequest {
            revision: rev,
            ..rr("k", "")
        })
    };
    assert!(matches!(at(6), Err(MvccError::FutureRev)));
    let waiter = apply(&store, |t| t.compact(3)).0.unwrap();
    waiter.wait();
    assert!(matches!(at(2), Err(MvccError::Compacted)));
    assert_eq!(
        pairs(&at(3).unwrap()),
        ["k=2"],
        "the compaction revision itself is readable"
    );
    assert_eq!(pairs(&at(5).unwrap()), ["k=4"]);
    assert_eq!(pairs(&at(0).unwrap()), ["k=4"]);
    assert!(matches!(at(6), Err(MvccError::FutureRev)));
}
