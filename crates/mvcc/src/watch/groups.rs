//! The watchers of one store and the groups they are in: *synced* watchers are caught up
//! and receive each revision's events from [`Groups::notify`]; *unsynced* ones are behind
//! (they started in the past, or their stream's queue was full when events came) and the
//! sync thread catches them up from history ([`Groups::choose`], then
//! [`Groups::complete`]). All of it lives under one mutex; nothing here blocks.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use etcd_api::mvccpb::Event;

use super::error::WatchError;
use super::index::{SpanIndex, WatcherKey};
use super::key_span::KeySpan;
use super::kick::Kick;
use super::metrics::{EVENTS_TOTAL, SLOW_WATCHER_TOTAL, WATCH_STREAM_TOTAL, WATCHER_TOTAL};
use super::options::{EventFilter, WatchOptions, event_key, lacks_prev_kv};
use super::queue::Queue;
use super::update::{UpdateKind, WatchUpdate};

/// Identifies a watch stream inside one store; never reused.
pub(crate) type StreamKey = u64;

/// The watch ID of responses that concern a whole stream (etcd's `InvalidWatchID`).
pub(crate) const STREAM_WIDE_ID: i64 = -1;

#[derive(Debug)]
struct Watcher {
    stream: StreamKey,
    id: i64,
    span: KeySpan,
    /// The next revision to deliver. Invariant: every matching event of a revision in
    /// `[start revision, min_rev)` is in the stream's queue or was consumed, in order.
    min_rev: i64,
    filter: EventFilter,
    progress_notify: bool,
    fragment: bool,
    /// In the synced index (else in the unsynced set).
    synced: bool,
    /// Events were delivered since the last progress tick.
    active: bool,
}

#[derive(Debug)]
struct Stream {
    queue: Arc<Queue>,
    /// Watch IDs in use -> their watcher; None once compacted away (the ID stays taken
    /// and a cancel still answers, as in etcd).
    ids: HashMap<i64, Option<WatcherKey>>,
    next_id: i64,
}

/// An unsynced watcher picked for one catch-up round, copied out of the lock.
#[derive(Clone, Debug)]
pub(crate) struct Chosen {
    pub(crate) key: WatcherKey,
    pub(crate) min_rev: i64,
    pub(crate) span: KeySpan,
    pub(crate) filter: EventFilter,
}

/// One catch-up round: read history `[lo, hi]` and hand each chosen watcher its part.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) chosen: Vec<Chosen>,
    pub(crate) lo: i64,
    pub(crate) hi: i64,
    /// Choosing already changed something (compacted or caught-up watchers).
    pub(crate) changed: bool,
}

#[derive(Debug)]
pub(crate) struct Groups {
    /// The last revision handed to [`Groups::notify`]. Every event up to it reached the
    /// synced watchers, so it is the revision watch responses report.
    rev: i64,
    watchers: HashMap<WatcherKey, Watcher>,
    synced: SpanIndex,
    /// Ordered by creation, so catch-up serves the oldest first.
    unsynced: BTreeSet<WatcherKey>,
    streams: HashMap<StreamKey, Stream>,
    /// Streams whose progress request waits for all their watchers to be synced.
    progress_wanted: BTreeSet<StreamKey>,
    next_watcher: WatcherKey,
    next_stream: StreamKey,
    kick: Arc<Kick>,
}

impl Groups {
    pub(crate) fn new(rev: i64, kick: Arc<Kick>) -> Groups {
        Groups {
            rev,
            watchers: HashMap::new(),
            synced: SpanIndex::default(),
            unsynced: BTreeSet::new(),
            streams: HashMap::new(),
            progress_wanted: BTreeSet::new(),
            next_watcher: 0,
            next_stream: 0,
            kick,
        }
    }

    pub(crate) fn rev(&self) -> i64 {
        self.rev
    }

    pub(crate) fn watcher_count(&self) -> usize {
        self.watchers.len()
    }

    pub(crate) fn unsynced_count(&self) -> usize {
        self.unsynced.len()
    }

    pub(crate) fn add_stream(&mut self, queue: Arc<Queue>) -> StreamKey {
        let key = self.next_stream;
        self.next_stream += 1;
        self.streams.insert(
            key,
            Stream {
                queue,
                ids: HashMap::new(),
                next_id: 0,
            },
        );
        metrics::gauge!(WATCH_STREAM_TOTAL).set(self.streams.len() as f64);
        key
    }

    pub(crate) fn remove_stream(&mut self, sk: StreamKey) {
        if let Some(stream) = self.streams.remove(&sk) {
            for wk in stream.ids.into_values().flatten() {
                self.drop_watcher(wk);
            }
        }
        self.progress_wanted.remove(&sk);
        metrics::gauge!(WATCH_STREAM_TOTAL).set(self.streams.len() as f64);
        self.update_gauges();
    }

    /// Creates a watcher on stream `sk` and queues the answer (created, or refused with
    /// etcd's reason) ahead of anything the watcher delivers.
    pub(crate) fn watch(&mut self, sk: StreamKey, opts: WatchOptions) -> Result<i64, WatchError> {
        let rev = self.rev;
        // etcd answers a create on a closed stream as an empty range.
        let Some(stream) = self.streams.get_mut(&sk) else {
            return Err(WatchError::EmptyRange);
        };
        let refuse = |stream: &Stream, err: WatchError| {
            stream.queue.push_control(WatchUpdate {
                watch_id: STREAM_WIDE_ID,
                revision: rev,
                kind: UpdateKind::Refused(err.clone()),
            });
            Err(err)
        };
        let Some(span) = KeySpan::new(&opts.key, &opts.range_end) else {
            return refuse(stream, WatchError::EmptyRange);
        };
        let id = if opts.watch_id == 0 {
            while stream.ids.contains_key(&stream.next_id) {
                stream.next_id += 1;
            }
            stream.next_id += 1;
            stream.next_id - 1
        } else if stream.ids.contains_key(&opts.watch_id) {
            return refuse(stream, WatchError::DuplicateId);
        } else {
            opts.watch_id
        };
        let min_rev = match opts.start_revision {
            0 => rev + 1,
            r => r.max(1),
        };
        stream.queue.push_control(WatchUpdate {
            watch_id: id,
            revision: rev,
            kind: UpdateKind::Created,
        });
        let wk = self.next_watcher;
        self.next_watcher += 1;
        stream.ids.insert(id, Some(wk));
        let synced = min_rev > rev;
        if synced {
            self.synced.insert(wk, &span);
        } else {
            self.unsynced.insert(wk);
            self.kick.kick();
        }
        self.watchers.insert(
            wk,
            Watcher {
                stream: sk,
                id,
                span,
                min_rev,
                filter: EventFilter {
                    prev_kv: opts.prev_kv,
                    no_put: opts.no_put,
                    no_delete: opts.no_delete,
                },
                progress_notify: opts.progress_notify,
                fragment: opts.fragment,
                synced,
                active: false,
            },
        );
        self.update_gauges();
        Ok(id)
    }

    /// Removes watcher `id` of stream `sk`, drops what it still had queued and queues
    /// the canceled answer. False (and no answer) for an unknown ID, as in etcd.
    pub(crate) fn cancel(&mut self, sk: StreamKey, id: i64) -> bool {
        let Some(entry) = self.streams.get_mut(&sk).and_then(|s| s.ids.remove(&id)) else {
            return false;
        };
        if let Some(wk) = entry {
            self.drop_watcher(wk);
        }
        if let Some(stream) = self.streams.get(&sk) {
            stream.queue.purge(id);
            stream.queue.push_control(WatchUpdate {
                watch_id: id,
                revision: self.rev,
                kind: UpdateKind::Canceled,
            });
        }
        self.update_gauges();
        self.flush_progress_wanted();
        true
    }

    /// A client's progress request: a stream-wide progress notification at the current
    /// revision once every watcher of the stream is synced (at once if they are), so it
    /// never overtakes an event at or below its revision. Requests made while one waits
    /// are answered by that one.
    pub(crate) fn request_progress(&mut self, sk: StreamKey) {
        if self.streams.contains_key(&sk) && self.progress_wanted.insert(sk) {
            self.flush_progress_wanted();
        }
    }

    /// Moves every synced watcher to the unsynced group (the key space was replaced), with
    /// `rev` as the new latest revision.
    pub(crate) fn unsync_all(&mut self, rev: i64) {
        self.rev = self.rev.max(rev);
        let synced: Vec<WatcherKey> = self
            .watchers
            .iter()
            .filter(|(_, w)| w.synced)
            .map(|(k, _)| *k)
            .collect();
        for wk in synced {
            if let Some(w) = self.watchers.get_mut(&wk) {
                w.synced = false;
                self.synced.remove(wk, &w.span);
                self.unsynced.insert(wk);
            }
        }
        self.kick.kick();
        self.update_gauges();
    }

    /// Hands revision `rev`'s events to the synced watchers. A watcher whose stream's
    /// queue is full becomes unsynced at `rev` and is caught up from history later.
    ///
    /// Returns false, having changed nothing, when a watcher asks for a prev_kv that an
    /// event lacks (a put reads its previous kv only on request) and `prev_read` is false:
    /// the caller reads them without holding this lock and calls again with true.
    pub(crate) fn notify(&mut self, rev: i64, events: &[Event], prev_read: bool) -> bool {
        if self.synced.is_empty() {
            self.rev = self.rev.max(rev);
            return true;
        }
        let mut lacks_prev = false;
        let mut batches: Vec<(WatcherKey, Vec<Event>)> = Vec::new();
        let mut slots: HashMap<WatcherKey, usize> = HashMap::new();
        let watchers = &self.watchers;
        for ev in events {
            self.synced.for_each_match(event_key(ev), |wk| {
                let Some(w) = watchers.get(&wk) else {
                    return;
                };
                if w.min_rev > rev || !w.filter.accepts(ev) {
                    return;
                }
                if w.filter.prev_kv && !prev_read && lacks_prev_kv(ev) {
                    lacks_prev = true;
                }
                let slot = *slots.entry(wk).or_insert_with(|| {
                    batches.push((wk, Vec::new()));
                    batches.len() - 1
                });
                batches[slot].1.push(w.filter.shape(ev));
            });
        }
        if lacks_prev {
            return false;
        }
        self.rev = self.rev.max(rev);
        let mut delivered = 0usize;
        let mut victims = false;
        for (wk, events) in batches {
            let Some(w) = self.watchers.get_mut(&wk) else {
                continue;
            };
            let n = events.len();
            let update = WatchUpdate {
                watch_id: w.id,
                revision: rev,
                kind: UpdateKind::Events {
                    events,
                    fragment: w.fragment,
                },
            };
            let sent = self
                .streams
                .get(&w.stream)
                .is_some_and(|s| s.queue.try_push(update));
            if sent {
                w.min_rev = rev + 1;
                w.active = true;
                delivered += n;
            } else {
                w.min_rev = rev;
                w.synced = false;
                self.synced.remove(wk, &w.span);
                self.unsynced.insert(wk);
                victims = true;
            }
        }
        if delivered > 0 {
            metrics::counter!(EVENTS_TOTAL).increment(delivered as u64);
        }
        if victims {
            self.kick.kick();
            self.update_gauges();
        }
        true
    }

    /// Starts a catch-up round at compaction revision `compact`: cancels unsynced
    /// watchers whose next revision is compacted, syncs those with nothing to read, and
    /// picks up to `max_watchers` others whose queue has room, with the history window
    /// (at most `max_revs` revisions) they need next.
    pub(crate) fn choose(&mut self, compact: i64, max_watchers: usize, max_revs: i64) -> Plan {
        let mut plan = Plan::default();
        let mut compacted = Vec::new();
        let mut caught_up = Vec::new();
        for &wk in &self.unsynced {
            if plan.chosen.len() >= max_watchers {
                break;
            }
            let Some(w) = self.watchers.get(&wk) else {
                continue;
            };
            if w.min_rev < compact {
                compacted.push(wk);
            } else if w.min_rev > self.rev {
                caught_up.push(wk);
            } else if self
                .streams
                .get(&w.stream)
                .is_some_and(|s| s.queue.has_room())
            {
                plan.chosen.push(Chosen {
                    key: wk,
                    min_rev: w.min_rev,
                    span: w.span.clone(),
                    filter: w.filter,
                });
            }
        }
        plan.changed = !compacted.is_empty() || !caught_up.is_empty();
        for wk in compacted {
            if let Some(w) = self.drop_watcher(wk)
                && let Some(stream) = self.streams.get_mut(&w.stream)
            {
                stream.ids.insert(w.id, None);
                stream.queue.push_control(WatchUpdate {
                    watch_id: w.id,
                    revision: 0,
                    kind: UpdateKind::Compacted {
                        compact_revision: compact,
                    },
                });
            }
        }
        for wk in caught_up {
            self.make_synced(wk);
        }
        if plan.changed {
            self.update_gauges();
            self.flush_progress_wanted();
        }
        if let Some(lo) = plan.chosen.iter().map(|c| c.min_rev).min() {
            plan.lo = lo;
            plan.hi = self.rev.min(lo.saturating_add(max_revs.max(1) - 1));
        }
        plan
    }

    /// Ends a catch-up round: `batches[i]` holds the events of history `[plan.lo,
    /// plan.hi]` for `plan.chosen[i]`. A watcher whose queue is full now keeps its place
    /// and is served again later. Returns whether any watcher advanced.
    pub(crate) fn complete(&mut self, plan: &Plan, batches: Vec<Vec<Event>>) -> bool {
        let hi = plan.hi;
        let mut advanced = false;
        let mut synced = Vec::new();
        let mut delivered = 0usize;
        for (c, events) in plan.chosen.iter().zip(batches) {
            let Some(w) = self.watchers.get_mut(&c.key) else {
                continue; // canceled meanwhile
            };
            if w.synced || w.min_rev != c.min_rev || w.min_rev > hi {
                continue;
            }
            if !events.is_empty() {
                let n = events.len();
                let update = WatchUpdate {
                    watch_id: w.id,
                    revision: hi,
                    kind: UpdateKind::Events {
                        events,
                        fragment: w.fragment,
                    },
                };
                let sent = self
                    .streams
                    .get(&w.stream)
                    .is_some_and(|s| s.queue.try_push(update));
                if !sent {
                    continue;
                }
                w.active = true;
                delivered += n;
            }
            w.min_rev = hi + 1;
            advanced = true;
            if w.min_rev > self.rev {
                synced.push(c.key);
            }
        }
        if delivered > 0 {
            metrics::counter!(EVENTS_TOTAL).increment(delivered as u64);
        }
        if !synced.is_empty() {
            for wk in synced {
                self.make_synced(wk);
            }
            self.update_gauges();
            self.flush_progress_wanted();
        }
        advanced
    }

    /// etcd's periodic progress notification: each synced watcher that asked for it and
    /// received nothing since the last tick is told the current revision.
    pub(crate) fn progress_tick(&mut self) {
        for w in self.watchers.values_mut() {
            if !w.progress_notify {
                continue;
            }
            if w.synced
                && !w.active
                && let Some(stream) = self.streams.get(&w.stream)
            {
                stream.queue.try_push(WatchUpdate {
                    watch_id: w.id,
                    revision: self.rev,
                    kind: UpdateKind::Progress,
                });
            }
            w.active = false;
        }
    }

    fn make_synced(&mut self, wk: WatcherKey) {
        if let Some(w) = self.watchers.get_mut(&wk)
            && !w.synced
        {
            w.synced = true;
            self.unsynced.remove(&wk);
            self.synced.insert(wk, &w.span);
        }
    }

    /// Removes a watcher from its group (not from its stream's IDs).
    fn drop_watcher(&mut self, wk: WatcherKey) -> Option<Watcher> {
        let w = self.watchers.remove(&wk)?;
        if w.synced {
            self.synced.remove(wk, &w.span);
        } else {
            self.unsynced.remove(&wk);
        }
        Some(w)
    }

    fn flush_progress_wanted(&mut self) {
        if self.progress_wanted.is_empty() {
            return;
        }
        let ready: Vec<StreamKey> = self
            .progress_wanted
            .iter()
            .copied()
            .filter(|sk| self.all_synced(*sk))
            .collect();
        for sk in ready {
            self.progress_wanted.remove(&sk);
            if let Some(stream) = self.streams.get(&sk) {
                stream.queue.push_control(WatchUpdate {
                    watch_id: STREAM_WIDE_ID,
                    revision: self.rev,
                    kind: UpdateKind::Progress,
                });
            }
        }
    }

    fn all_synced(&self, sk: StreamKey) -> bool {
        self.streams.get(&sk).is_some_and(|s| {
            s.ids
                .values()
                .flatten()
                .all(|wk| self.watchers.get(wk).is_none_or(|w| w.synced))
        })
    }

    fn update_gauges(&self) {
        metrics::gauge!(WATCHER_TOTAL).set(self.watchers.len() as f64);
        metrics::gauge!(SLOW_WATCHER_TOTAL).set(self.unsynced.len() as f64);
    }
}
