//! Slow consumers: a stream that is not read never blocks notify or other streams, and
//! later receives every event exactly once, in order.

use std::sync::mpsc;

use etcd_mvcc::watch::UpdateKind;

use super::*;

const WRITES: i64 = 2000;

#[test]
fn a_stalled_stream_blocks_nobody_and_later_gets_everything_once() {
    let ws = store_with(4);
    let stalled = ws.new_stream();
    let stalled_id = stalled.watch(opts("k", "l")).unwrap();
    let fast = ws.new_stream();
    let fast_id = fast.watch(opts("k", "l")).unwrap();
    created(&fast);
    let last = 1 + WRITES;
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| events_until(&fast, fast_id, last));
        let (done_tx, done_rx) = mpsc::channel();
        let ws = &ws;
        scope.spawn(move || {
            for i in 0..WRITES {
                put(ws, &format!("k{}", i % 7), &i.to_string());
            }
            done_tx.send(()).unwrap();
        });
        // If notify waited for the stalled consumer, the writer would never finish.
        done_rx
            .recv_timeout(PATIENCE)
            .expect("writes finish while a consumer is stalled");
        assert!(ws.unsynced_count() >= 1, "the stalled watcher fell behind");
        let fast_events = reader.join().unwrap();
        assert_eq!(revisions(&fast_events), (2..=last).collect::<Vec<_>>());
    });
    // Now the stalled consumer reads: everything, once, in order, from history.
    assert_eq!(created(&stalled), stalled_id);
    let events = events_until(&stalled, stalled_id, last);
    assert_eq!(revisions(&events), (2..=last).collect::<Vec<_>>());
    for (i, e) in events.iter().enumerate() {
        let kv = e.kv.as_ref().unwrap();
        assert_eq!(kv.key, format!("k{}", i % 7).into_bytes());
        assert_eq!(kv.value, i.to_string().into_bytes());
    }
    assert_quiet(&stalled);
    assert_eq!(ws.unsynced_count(), 0);
    // Back in the synced group: live events flow directly again.
    let rev = put(&ws, "k0", "again");
    let u = next(&stalled);
    assert_eq!((u.watch_id, u.revision), (stalled_id, rev));
    assert!(matches!(u.kind, UpdateKind::Events { .. }));
}

#[test]
fn many_watchers_on_one_slow_stream_each_get_their_own_events() {
    let ws = store_with(3);
    let s = ws.new_stream();
    let ids: Vec<i64> = (0..5)
        .map(|i| s.watch(opts(&format!("k{i}"), "")).unwrap())
        .collect();
    for round in 0..40 {
        for i in 0..5 {
            put(&ws, &format!("k{i}"), &round.to_string());
        }
    }
    let last = 1 + 200;
    let mut got: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    let mut created_ids = Vec::new();
    while got.values().map(Vec::len).sum::<usize>() < 200 {
        let u = next(&s);
        match u.kind {
            UpdateKind::Created => created_ids.push(u.watch_id),
            UpdateKind::Events { events, .. } => {
                assert!(created_ids.contains(&u.watch_id), "events before created");
                got.entry(u.watch_id)
                    .or_default()
                    .extend(revisions(&events));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_quiet(&s);
    for (i, id) in ids.iter().enumerate() {
        let expect: Vec<i64> = (0..40).map(|round| 2 + round * 5 + i as i64).collect();
        assert_eq!(got[id], expect, "watcher {id}");
    }
    assert_eq!(*got.values().flatten().max().unwrap(), last);
}
