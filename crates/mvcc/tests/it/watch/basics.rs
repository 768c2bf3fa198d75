//! Live watching: which events each kind of key range sees, filters, prev_kv, watch IDs
//! and cancellation.

use etcd_mvcc::watch::{UpdateKind, WatchError, WatchOptions};

use super::*;
use crate::support::op_put;

#[test]
fn key_ranges_follow_etcd_conventions() {
    let ws = store();
    let s = ws.new_stream();
    let single = s.watch(opts("foo", "")).unwrap();
    let prefix = s.watch(opts("foo", "fop")).unwrap();
    let from_m = s.watch(opts("m", "\0")).unwrap();
    let all = s.watch(opts("", "\0")).unwrap();
    assert_eq!((single, prefix, from_m, all), (0, 1, 2, 3));
    for _ in 0..4 {
        assert_eq!(next(&s).kind, UpdateKind::Created);
    }
    put(&ws, "foo", "1"); // 2
    put(&ws, "foo1", "2"); // 3
    put(&ws, "m", "3"); // 4
    put(&ws, "a", "4"); // 5
    del(&ws, "foo", "fop"); // 6: foo and foo1
    let last = put(&ws, "zz", "5"); // 7

    let mut seen: std::collections::HashMap<i64, Vec<String>> = Default::default();
    while seen.values().map(Vec::len).sum::<usize>() < 15 {
        let u = next(&s);
        let UpdateKind::Events { events, fragment } = u.kind else {
            panic!("unexpected {u:?}");
        };
        assert!(!fragment);
        seen.entry(u.watch_id).or_default().extend(brief(&events));
    }
    assert_quiet(&s);
    assert_eq!(seen[&single], ["PUT foo@2=1", "DEL foo@6="]);
    assert_eq!(
        seen[&prefix],
        ["PUT foo@2=1", "PUT foo1@3=2", "DEL foo@6=", "DEL foo1@6="]
    );
    assert_eq!(seen[&from_m], ["PUT m@4=3", "PUT zz@7=5"]);
    assert_eq!(
        seen[&all],
        [
            "PUT foo@2=1",
            "PUT foo1@3=2",
            "PUT m@4=3",
            "PUT a@5=4",
            "DEL foo@6=",
            "DEL foo1@6=",
            "PUT zz@7=5"
        ]
    );
    assert_eq!(last, 7);
}

#[test]
fn all_events_of_a_revision_come_in_one_update() {
    let ws = store();
    let s = ws.new_stream();
    let id = s.watch(opts("k", "l")).unwrap();
    created(&s);
    let rev = write(&ws, |t| {
        let txn = crate::support::txn_req(
            vec![],
            vec![
                op_put("k1", "a"),
                op_put("k2", "b"),
                op_put("x", "c"),
                op_put("k3", "d"),
            ],
            vec![],
        );
        t.txn(&txn).unwrap();
    });
    let u = next(&s);
    assert_eq!((u.watch_id, u.revision), (id, rev));
    let UpdateKind::Events { events, .. } = u.kind else {
        panic!("{u:?}")
    };
    assert_eq!(brief(&events), ["PUT k1@2=a", "PUT k2@2=b", "PUT k3@2=d"]);
}

#[test]
fn filters_and_prev_kv() {
    let ws = store();
    put(&ws, "k", "v1");
    let s = ws.new_stream();
    let plain = s.watch(opts("k", "")).unwrap();
    let no_put = s
        .watch(WatchOptions {
            no_put: true,
            ..opts("k", "")
        })
        .unwrap();
    let no_delete = s
        .watch(WatchOptions {
            no_delete: true,
            prev_kv: true,
            ..opts("k", "")
        })
        .unwrap();
    let prev = s
        .watch(WatchOptions {
            prev_kv: true,
            ..opts("k", "")
        })
        .unwrap();
    for _ in 0..4 {
        created(&s);
    }
    put(&ws, "k", "v2"); // 3
    del(&ws, "k", ""); // 4
    put(&ws, "k", "v3"); // 5: a creation again
    let mut got: std::collections::HashMap<i64, Vec<(String, Option<String>)>> = Default::default();
    for _ in 0..(3 + 1 + 2 + 3) {
        let u = next(&s);
        let UpdateKind::Events { events, .. } = u.kind else {
            panic!("{u:?}")
        };
        for e in &events {
            let prev = e
                .prev_kv
                .as_ref()
                .map(|kv| format!("{}@{}", String::from_utf8_lossy(&kv.value), kv.mod_revision));
            got.entry(u.watch_id)
                .or_default()
                .push((brief(std::slice::from_ref(e))[0].clone(), prev));
        }
    }
    assert_quiet(&s);
    let plain_expect = vec![
        ("PUT k@3=v2".to_string(), None),
        ("DEL k@4=".to_string(), None),
        ("PUT k@5=v3".to_string(), None),
    ];
    assert_eq!(got[&plain], plain_expect);
    assert_eq!(got[&no_put], vec![("DEL k@4=".to_string(), None)]);
    assert_eq!(
        got[&no_delete],
        vec![
            ("PUT k@3=v2".to_string(), Some("v1@2".to_string())),
            ("PUT k@5=v3".to_string(), None),
        ]
    );
    assert_eq!(
        got[&prev],
        vec![
            ("PUT k@3=v2".to_string(), Some("v1@2".to_string())),
            ("DEL k@4=".to_string(), Some("v2@3".to_string())),
            ("PUT k@5=v3".to_string(), None),
        ]
    );
}

#[test]
fn watch_ids_refusals_and_cancel() {
    let ws = store();
    put(&ws, "a", "1");
    let s = ws.new_stream();
    assert_eq!(
        s.watch(WatchOptions {
            watch_id: 1,
            ..opts("a", "")
        }),
        Ok(1)
    );
    assert_eq!(s.watch(opts("a", "")), Ok(0));
    assert_eq!(
        s.watch(opts("a", "")),
        Ok(2),
        "auto IDs skip the ones in use"
    );
    assert_eq!(
        s.watch(WatchOptions {
            watch_id: 2,
            ..opts("b", "")
        }),
        Err(WatchError::DuplicateId)
    );
    assert_eq!(s.watch(opts("b", "a")), Err(WatchError::EmptyRange));
    for id in [1, 0, 2] {
        let u = next(&s);
        assert_eq!(
            (u.watch_id, u.revision, u.kind),
            (id, 2, UpdateKind::Created)
        );
    }
    for reason in [WatchError::DuplicateId, WatchError::EmptyRange] {
        let u = next(&s);
        assert_eq!((u.watch_id, u.kind), (-1, UpdateKind::Refused(reason)));
    }
    assert_eq!(
        WatchError::DuplicateId.to_string(),
        "mvcc: duplicate watch ID provided on the WatchStream"
    );
    assert_eq!(
        WatchError::EmptyRange.to_string(),
        "mvcc: watcher range is empty"
    );
    assert_eq!(ws.watcher_count(), 3);

    // Cancel drops what the watcher had not delivered yet and answers once.
    put(&ws, "a", "2");
    assert!(s.cancel(0));
    assert!(!s.cancel(0));
    assert!(!s.cancel(42));
    let mut rest = Vec::new();
    while let Some(u) = s.try_recv() {
        rest.push((u.watch_id, u.kind));
    }
    assert_eq!(rest.last(), Some(&(0, UpdateKind::Canceled)), "{rest:?}");
    let mut delivered: Vec<i64> = rest[..rest.len() - 1].iter().map(|(id, _)| *id).collect();
    delivered.sort_unstable();
    assert_eq!(
        delivered,
        [1, 2],
        "watcher 0's pending event is dropped: {rest:?}"
    );
    assert_eq!(ws.watcher_count(), 2);
    put(&ws, "a", "3");
    let ids: Vec<i64> = [next(&s), next(&s)].iter().map(|u| u.watch_id).collect();
    assert!(ids.contains(&1) && ids.contains(&2));
    assert_quiet(&s);
    // Automatic IDs keep counting up (as etcd's); a canceled ID may be chosen again.
    assert_eq!(s.watch(opts("z", "")), Ok(3));
    assert!(s.cancel(1));
    assert_eq!(
        s.watch(WatchOptions {
            watch_id: 1,
            ..opts("z", "")
        }),
        Ok(1)
    );
    drop(s);
    assert_eq!(ws.watcher_count(), 0);
}

#[test]
fn a_future_start_revision_waits_for_it() {
    let ws = store();
    let s = ws.new_stream();
    let start = ws.rev() + 3;
    let id = s
        .watch(WatchOptions {
            start_revision: start,
            ..opts("k", "")
        })
        .unwrap();
    created(&s);
    for i in 0..5 {
        put(&ws, "k", &i.to_string());
    }
    let events = events_until(&s, id, 6);
    assert_eq!(revisions(&events), [4, 5, 6]);
    assert_quiet(&s);
}
