//! The background thread of a watchable store: catches unsynced watchers up from
//! history, a bounded window per round, without holding the watcher lock while it reads,
//! and sends the periodic progress notifications.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use etcd_api::etcdserverpb::RangeRequest;
use etcd_api::mvccpb::event::EventType;
use etcd_api::mvccpb::{Event, KeyValue};

use super::Inner;
use super::groups::Plan;
use super::index::SpanIndex;
use super::options::{event_key, event_revision, lacks_prev_kv};
use crate::{KvStore, MvccError};

/// Unsynced watchers served per round (etcd's maxWatchersPerSync).
const MAX_WATCHERS_PER_SYNC: usize = 512;
/// Revisions of history read per round (etcd's watchBatchMaxRevs).
const MAX_REVS_PER_SYNC: i64 = 1000;

pub(crate) fn run(inner: Arc<Inner>) {
    let mut last_tick = Instant::now();
    while !inner.stop.load(Ordering::Acquire) {
        let advanced = sync_round(&inner);
        let interval = inner.progress_interval();
        let now = Instant::now();
        let next_tick = last_tick + interval;
        if now >= next_tick {
            inner.groups.lock().progress_tick();
            last_tick = now;
        }
        if !advanced {
            let until_tick = (last_tick + interval).saturating_duration_since(now);
            inner.kick.wait(
                inner
                    .sync_interval
                    .min(until_tick)
                    .max(Duration::from_millis(1)),
            );
        }
    }
}

/// One catch-up round. Returns whether it changed anything (another round may then
/// have more to do right away).
pub(crate) fn sync_round(inner: &Inner) -> bool {
    let compact = inner.store.compact_revision();
    let plan = inner
        .groups
        .lock()
        .choose(compact, MAX_WATCHERS_PER_SYNC, MAX_REVS_PER_SYNC);
    if plan.chosen.is_empty() {
        return plan.changed;
    }
    let events = match inner.store.events(plan.lo, plan.hi) {
        Ok(events) => events,
        // Compacted since choosing: the next round cancels the watchers concerned.
        Err(MvccError::Compacted) => return true,
        Err(e) => {
            tracing::warn!(error = %e, from = plan.lo, to = plan.hi, "watch: reading history failed");
            return plan.changed;
        }
    };
    let batches = distribute(&inner.store, &plan, &events);
    inner.groups.lock().complete(&plan, batches) || plan.changed
}

/// Each chosen watcher's share of `events` (history `[plan.lo, plan.hi]`), with prev_kv
/// read from the store for those that asked for it.
fn distribute(store: &KvStore, plan: &Plan, events: &[Event]) -> Vec<Vec<Event>> {
    let mut index = SpanIndex::default();
    for (i, c) in plan.chosen.iter().enumerate() {
        index.insert(i as u64, &c.span);
    }
    let mut batches = vec![Vec::new(); plan.chosen.len()];
    let mut prev_cache: Vec<Option<Option<KeyValue>>> = vec![None; events.len()];
    for (n, ev) in events.iter().enumerate() {
        let rev = event_revision(ev);
        index.for_each_match(event_key(ev), |i| {
            let c = &plan.chosen[i as usize];
            if rev < c.min_rev || !c.filter.accepts(ev) {
                return;
            }
            let mut shaped = c.filter.shape(ev);
            if c.filter.prev_kv && shaped.prev_kv.is_none() {
                shaped.prev_kv = prev_cache[n]
                    .get_or_insert_with(|| prev_kv(store, ev))
                    .clone();
            }
            batches[i as usize].push(shaped);
        });
    }
    batches
}

/// `ev` with its prev_kv read from the store if it lacks one it could have.
pub(crate) fn with_prev_kv(store: &KvStore, ev: &Event) -> Event {
    let mut ev = ev.clone();
    if lacks_prev_kv(&ev) {
        ev.prev_kv = prev_kv(store, &ev);
    }
    ev
}

/// The key's state just before `ev` (none for a creation, or when compacted away).
fn prev_kv(store: &KvStore, ev: &Event) -> Option<KeyValue> {
    let kv = ev.kv.as_ref()?;
    let created = ev.r#type == EventType::Put as i32 && kv.create_revision == kv.mod_revision;
    if created || kv.mod_revision <= 1 {
        return None;
    }
    let req = RangeRequest {
        key: kv.key.clone(),
        revision: kv.mod_revision - 1,
        ..Default::default()
    };
    store.range(&req).ok()?.kvs.into_iter().next()
}
