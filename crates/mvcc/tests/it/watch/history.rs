//! Watchers that start in the past: history replay, then live events, without gap or
//! duplicate; compaction of the history they need.

use std::sync::atomic::{AtomicBool, Ordering};

use etcd_mvcc::watch::{UpdateKind, WatchOptions};

use super::*;
use crate::support::{op_put, txn_req};

#[test]
fn a_past_start_replays_history_then_continues_live() {
    let ws = store();
    for i in 0..50 {
        put(&ws, &format!("k{}", i % 5), &i.to_string()); // revisions 2..=51
    }
    // A multi-key revision in history stays whole.
    write(&ws, |t| {
        t.txn(&txn_req(
            vec![],
            vec![op_put("k1", "x"), op_put("k2", "y")],
            vec![],
        ))
        .unwrap();
    }); // 52
    let s = ws.new_stream();
    let id = s
        .watch(WatchOptions {
            start_revision: 10,
            prev_kv: true,
            ..opts("k", "l")
        })
        .unwrap();
    let u = next(&s);
    assert_eq!((u.kind, u.revision), (UpdateKind::Created, 52));
    // Live writes race with the catch-up.
    let writer = {
        let ws = ws.clone();
        std::thread::spawn(move || {
            let mut last = 0;
            for i in 50..250 {
                last = put(&ws, &format!("k{}", i % 5), &i.to_string());
            }
            last
        })
    };
    let last = writer.join().unwrap();
    assert_eq!(last, 252);
    let events = events_until(&s, id, last);
    let mut expect: Vec<i64> = (10..=51).collect();
    expect.extend([52, 52]);
    expect.extend(53..=252);
    assert_eq!(revisions(&events), expect);
    // prev_kv is the key's previous state, read from history for replayed events.
    for e in &events {
        let kv = e.kv.as_ref().unwrap();
        let prev = e.prev_kv.as_ref();
        if kv.create_revision == kv.mod_revision {
            assert!(prev.is_none());
        } else {
            let prev = prev.unwrap_or_else(|| panic!("no prev_kv at {}", kv.mod_revision));
            assert_eq!(prev.key, kv.key);
            assert!(prev.mod_revision < kv.mod_revision);
            assert_eq!(prev.version + 1, kv.version);
        }
    }
    assert_quiet(&s);
    assert_eq!(ws.unsynced_count(), 0);
}

#[test]
fn a_long_history_is_replayed_in_windows_without_gap() {
    let ws = store();
    for i in 0..2500 {
        put(&ws, "k", &i.to_string());
    }
    let s = ws.new_stream();
    let id = s
        .watch(WatchOptions {
            start_revision: 1,
            ..opts("k", "")
        })
        .unwrap();
    created(&s);
    let events = events_until(&s, id, 2501);
    assert_eq!(revisions(&events), (2..=2501).collect::<Vec<_>>());
}

#[test]
fn resuming_at_last_seen_plus_one_continues_without_gap() {
    let ws = store();
    let s = ws.new_stream();
    let id = s.watch(opts("k", "")).unwrap();
    created(&s);
    for i in 0..10 {
        put(&ws, "k", &i.to_string());
    }
    let first = events_until(&s, id, 11);
    assert!(s.cancel(id));
    assert_eq!(next(&s).kind, UpdateKind::Canceled);
    for i in 10..20 {
        put(&ws, "k", &i.to_string());
    }
    let resume = revisions(&first).last().unwrap() + 1;
    let id = s
        .watch(WatchOptions {
            start_revision: resume,
            ..opts("k", "")
        })
        .unwrap();
    created(&s);
    let second = events_until(&s, id, 21);
    let mut all = revisions(&first);
    all.extend(revisions(&second));
    assert_eq!(all, (2..=21).collect::<Vec<_>>());
}

#[test]
fn a_compacted_start_is_canceled_with_the_compaction_revision() {
    let ws = store();
    for i in 0..9 {
        put(&ws, "k", &i.to_string()); // 2..=10
    }
    compact(&ws, 6);
    let s = ws.new_stream();
    let gone = s
        .watch(WatchOptions {
            start_revision: 3,
            ..opts("k", "")
        })
        .unwrap();
    assert_eq!(next(&s).kind, UpdateKind::Created);
    let u = next(&s);
    assert_eq!(
        (u.watch_id, u.revision, u.kind),
        (
            gone,
            0,
            UpdateKind::Compacted {
                compact_revision: 6
            }
        )
    );
    assert_eq!(ws.watcher_count(), 0);
    // The compaction revision itself can still be watched from.
    let ok = s
        .watch(WatchOptions {
            start_revision: 6,
            ..opts("k", "")
        })
        .unwrap();
    assert_ne!(
        ok, gone,
        "a compacted watcher's ID stays taken until canceled"
    );
    created(&s);
    assert_eq!(revisions(&events_until(&s, ok, 10)), [6, 7, 8, 9, 10]);
    // Canceling the compacted watcher is still answered, as in etcd.
    assert!(s.cancel(gone));
    assert_eq!(next(&s).kind, UpdateKind::Canceled);
}

#[test]
fn a_victim_whose_history_is_compacted_meanwhile_is_canceled() {
    let ws = store_with(2);
    let s = ws.new_stream();
    let id = s.watch(opts("k", "")).unwrap();
    let mut last = 0;
    for i in 0..5 {
        last = put(&ws, "k", &i.to_string());
    }
    // Created + the first event fill the queue; the watcher fell behind.
    assert_eq!(ws.unsynced_count(), 1);
    compact(&ws, last);
    assert_eq!(next(&s).kind, UpdateKind::Created);
    assert_eq!(revisions(&events_until(&s, id, 2)), [2]);
    let u = next(&s);
    assert_eq!(
        (u.watch_id, u.kind),
        (
            id,
            UpdateKind::Compacted {
                compact_revision: last
            }
        )
    );
    assert_eq!(ws.unsynced_count(), 0);
    assert_eq!(ws.watcher_count(), 0);
}

#[test]
fn catch_up_never_blocks_writers() {
    // Writers keep going while many watchers replay a long history.
    let ws = store_with(8);
    for i in 0..1500 {
        put(&ws, &format!("k{}", i % 10), "v");
    }
    let streams: Vec<_> = (0..4).map(|_| ws.new_stream()).collect();
    for s in &streams {
        s.watch(WatchOptions {
            start_revision: 2,
            ..opts("k", "l")
        })
        .unwrap();
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut last = 0;
            for i in 0..500 {
                last = put(&ws, &format!("k{}", i % 10), "w");
            }
            done.store(true, Ordering::Release);
            last
        });
        let readers: Vec<_> = streams
            .iter()
            .map(|s| {
                scope.spawn(|| {
                    created(s);
                    events_until(s, 0, 2001)
                })
            })
            .collect();
        assert_eq!(writer.join().unwrap(), 2001);
        for r in readers {
            assert_eq!(
                revisions(&r.join().unwrap()),
                (2..=2001).collect::<Vec<_>>()
            );
        }
    });
    assert!(done.load(Ordering::Acquire));
}
