//! The watchable store through its public API: key ranges, filters, history replay,
//! compaction, slow consumers and progress notifications.

mod basics;
mod history;
mod progress;
mod victims;

use std::sync::Arc;
use std::time::Duration;

use etcd_api::mvccpb::Event;
use etcd_api::mvccpb::event::EventType;
use etcd_mvcc::watch::{
    UpdateKind, WatchConfig, WatchOptions, WatchStream, WatchUpdate, WatchableStore,
};
use etcd_mvcc::{KvStore, MemBackend, WriteTxn};

use crate::support::{del_req, put_req};

/// Long enough that only a bug makes a wait for an update time out.
const PATIENCE: Duration = Duration::from_secs(10);

pub fn store_with(capacity: usize) -> Arc<WatchableStore> {
    let store = Arc::new(KvStore::open(Arc::new(MemBackend::new())).expect("open store"));
    WatchableStore::with_config(
        store,
        WatchConfig {
            stream_capacity: capacity,
            sync_interval: Duration::from_millis(10),
            ..Default::default()
        },
    )
}

pub fn store() -> Arc<WatchableStore> {
    store_with(128)
}

/// Commits `f`'s changes as the next raft entry and notifies the watchers, as the
/// apply loop does. Returns the store revision after it.
pub fn write(ws: &WatchableStore, f: impl FnOnce(&mut WriteTxn<'_>)) -> i64 {
    let store = ws.store();
    let mut txn = store.write(store.consistent_index() + 1);
    f(&mut txn);
    let rev = txn.revision();
    let events = txn.commit().expect("commit");
    if !events.is_empty() {
        ws.notify(rev, &events);
    }
    rev
}

pub fn put(ws: &WatchableStore, key: &str, value: &str) -> i64 {
    write(ws, |t| {
        t.put(&put_req(key, value)).expect("put");
    })
}

pub fn del(ws: &WatchableStore, key: &str, end: &str) -> i64 {
    write(ws, |t| {
        t.delete_range(&del_req(key, end)).expect("delete");
    })
}

pub fn compact(ws: &WatchableStore, rev: i64) {
    let store = ws.store();
    let mut txn = store.write(store.consistent_index() + 1);
    let waiter = txn.compact(rev).expect("compact");
    txn.commit().expect("commit");
    waiter.wait();
}

pub fn opts(key: &str, end: &str) -> WatchOptions {
    WatchOptions {
        key: key.as_bytes().to_vec().into(),
        range_end: end.as_bytes().to_vec().into(),
        ..Default::default()
    }
}

pub fn next(s: &WatchStream) -> WatchUpdate {
    s.recv_timeout(PATIENCE)
        .expect("an update within the patience")
}

/// Nothing arrives within a short while (absence can only be observed by waiting).
pub fn assert_quiet(s: &WatchStream) {
    let got = s.recv_timeout(Duration::from_millis(50));
    assert!(got.is_none(), "unexpected update {got:?}");
}

pub fn created(s: &WatchStream) -> i64 {
    let u = next(s);
    assert_eq!(u.kind, UpdateKind::Created, "{u:?}");
    u.watch_id
}

/// (type, key, mod revision, value) of each event, compactly.
pub fn brief(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let kv = e.kv.as_ref().expect("kv");
            let t = if e.r#type == EventType::Delete as i32 {
                "DEL"
            } else {
                "PUT"
            };
            format!(
                "{t} {}@{}={}",
                String::from_utf8_lossy(&kv.key),
                kv.mod_revision,
                String::from_utf8_lossy(&kv.value)
            )
        })
        .collect()
}

/// Reads updates of `id` until one carries an event at `last_rev` or later; returns the
/// events in order. Panics on any other kind of update for `id`.
pub fn events_until(s: &WatchStream, id: i64, last_rev: i64) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    while out
        .last()
        .and_then(|e| e.kv.as_ref())
        .map_or(0, |kv| kv.mod_revision)
        < last_rev
    {
        let u = next(s);
        if u.watch_id != id {
            continue;
        }
        match u.kind {
            UpdateKind::Events { events, .. } => {
                assert!(!events.is_empty());
                let top = events
                    .last()
                    .and_then(|e| e.kv.as_ref())
                    .map_or(0, |kv| kv.mod_revision);
                assert!(u.revision >= top, "header {} below event {top}", u.revision);
                out.extend(events);
            }
            other => panic!("unexpected {other:?} for watcher {id}"),
        }
    }
    out
}

pub fn revisions(events: &[Event]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e.kv.as_ref().map_or(0, |kv| kv.mod_revision))
        .collect()
}
