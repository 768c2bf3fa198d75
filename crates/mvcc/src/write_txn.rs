//! The single writer's transaction: the changes of one applied raft entry, invisible to
//! readers until [`WriteTxn::commit`] writes them in one backend batch and publishes the
//! new revision.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use etcd_api::etcdserverpb::{
    DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, RangeRequest, RangeResponse,
    ResponseHeader, TxnRequest, TxnResponse,
};
use etcd_api::mvccpb::event::EventType;
use etcd_api::mvccpb::{Event, KeyValue};
use prost::Message;

use crate::compaction::CompactionWaiter;
use crate::key_range::KeyRange;
use crate::meta;
use crate::range::apply_range;
use crate::revision::Revision;
use crate::txn::{TxnTarget, apply_txn};
use crate::view::{
    Found, Overlay, RawRange, RawRangeOpts, ReadView, collect, load, read_kv, resolve_rev,
};
use crate::writer_gate::WriterPermit;
use crate::{Bucket, KvStore, MvccError, WriteBatch};

/// One change of the txn; its sub revision is its position in the list.
#[derive(Debug)]
struct Change {
    /// The new kv of a put; just the key for a delete.
    kv: KeyValue,
    tombstone: bool,
    /// The kv before this change. A put reads it only when the request needs it
    /// (prev_kv, ignore_value, ignore_lease): otherwise None even when the key existed,
    /// and watchers that ask for it read it lazily (see the watch module).
    prev: Option<KeyValue>,
}

/// Positions to roll back to when an op fails.
#[derive(Clone, Copy)]
struct Checkpoint {
    changes: usize,
    undo: usize,
}

/// The changes of one applied raft entry. Dropping it without [`WriteTxn::commit`]
/// discards them. An op returning Err leaves the txn exactly as before the op.
pub struct WriteTxn<'a> {
    store: &'a KvStore,
    _writer: WriterPermit<'a>,
    raft_index: u64,
    /// The committed revision this txn builds on; its changes get `base_rev + 1`.
    base_rev: i64,
    changes: Vec<Change>,
    /// Latest pending state of each changed key.
    overlay: Overlay,
    /// Previous overlay entries, newest last, to undo a failed op.
    undo: Vec<(Bytes, Option<Option<KeyValue>>)>,
    batch: WriteBatch,
    compactions: Vec<(i64, CompactionWaiter)>,
}

impl std::fmt::Debug for WriteTxn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTxn")
            .field("raft_index", &self.raft_index)
            .field("base_rev", &self.base_rev)
            .field("changes", &self.changes.len())
            .finish_non_exhaustive()
    }
}

impl<'a> WriteTxn<'a> {
    pub(crate) fn new(store: &'a KvStore, writer: WriterPermit<'a>, raft_index: u64) -> Self {
        WriteTxn {
            store,
            _writer: writer,
            raft_index,
            base_rev: store.current_revision(),
            changes: Vec::new(),
            overlay: Overlay::new(),
            undo: Vec::new(),
            batch: WriteBatch::default(),
            compactions: Vec::new(),
        }
    }

    /// A range that sees this txn's writes.
    pub fn range(&self, req: &RangeRequest) -> Result<RangeResponse, MvccError> {
        apply_range(self, req)
    }

    pub fn put(&mut self, req: &PutRequest) -> Result<PutResponse, MvccError> {
        self.atomically(|t| t.do_put(req))
    }

    pub fn delete_range(
        &mut self,
        req: &DeleteRangeRequest,
    ) -> Result<DeleteRangeResponse, MvccError> {
        self.atomically(|t| t.do_delete_range(req))
    }

    /// Compares, then the ops of the chosen branch, all at one revision; a failed txn
    /// changes nothing.
    pub fn txn(&mut self, req: &TxnRequest) -> Result<TxnResponse, MvccError> {
        self.atomically(|t| apply_txn(t, req))
    }

    /// Schedules compaction at `revision`: Compacted if not above the compaction revision,
    /// FutureRev if above the current revision. The waiter completes when the old
    /// revisions are physically removed from the backend (done off the writer's path,
    /// after commit).
    pub fn compact(&mut self, revision: i64) -> Result<CompactionWaiter, MvccError> {
        let compacted = self.compactions.iter().map(|(r, _)| *r).fold(
            self.store.shared().compact_rev.load(Ordering::Acquire),
            i64::max,
        );
        if revision <= compacted {
            return Err(MvccError::Compacted);
        }
        if revision > self.revision() {
            return Err(MvccError::FutureRev);
        }
        let waiter = CompactionWaiter::new();
        self.compactions.push((revision, waiter.clone()));
        Ok(waiter)
    }

    /// Extra writes (lease, auth, members buckets) committed atomically with this txn.
    pub fn batch_mut(&mut self) -> &mut WriteBatch {
        &mut self.batch
    }

    /// The store revision after this txn commits (current revision if nothing changed).
    pub fn revision(&self) -> i64 {
        if self.changes.is_empty() {
            self.base_rev
        } else {
            self.base_rev + 1
        }
    }

    /// The raft index this txn records as the consistent index.
    pub fn raft_index(&self) -> u64 {
        self.raft_index
    }

    /// Writes the changes, the extra batch and the consistent index in ONE backend write,
    /// then publishes the new revision to readers. Returns the events, in order.
    pub fn commit(mut self) -> Result<Vec<Event>, MvccError> {
        let shared = self.store.shared().clone();
        let rev = self.revision();
        let main = self.base_rev + 1;
        let mut batch = std::mem::take(&mut self.batch);
        for (sub, ch) in self.changes.iter().enumerate() {
            let key = Revision::new(main, sub as i64).to_key(ch.tombstone);
            batch.put(Bucket::Key, key, ch.kv.encode_to_vec());
        }
        let ci = shared
            .consistent_index
            .load(Ordering::Acquire)
            .max(self.raft_index);
        meta::put_consistent_index(&mut batch, ci);
        let compact = self.compactions.iter().map(|(r, _)| *r).max();
        if let Some(c) = compact {
            meta::put_compact_rev(&mut batch, meta::SCHEDULED_COMPACT_KEY, c);
        }
        shared.backend.write(batch)?;

        let changes = std::mem::take(&mut self.changes);
        {
            let mut state = shared.state.write();
            for (sub, ch) in changes.iter().enumerate() {
                let r = Revision::new(main, sub as i64);
                let applied = if ch.tombstone {
                    state.index.tombstone(&ch.kv.key, r)
                } else {
                    state.index.put(&ch.kv.key, r)
                };
                if let Err(e) = applied {
                    tracing::error!(key = ?ch.kv.key, revision = main, error = ?e, "key index out of step with a committed change");
                }
            }
            shared.publish(&mut state, rev, compact, ci);
        }
        let mut compactions = std::mem::take(&mut self.compactions);
        compactions.sort_by_key(|(r, _)| *r);
        for (r, waiter) in compactions {
            self.store.compactor().schedule(r, waiter);
        }
        Ok(changes.into_iter().map(|ch| event(ch, main)).collect())
    }

    /// Runs `op`, undoing its changes if it fails.
    fn atomically<R>(
        &mut self,
        op: impl FnOnce(&mut Self) -> Result<R, MvccError>,
    ) -> Result<R, MvccError> {
        let cp = Checkpoint {
            changes: self.changes.len(),
            undo: self.undo.len(),
        };
        let result = op(self);
        if result.is_err() {
            self.changes.truncate(cp.changes);
            while self.undo.len() > cp.undo {
                let Some((key, old)) = self.undo.pop() else {
                    break;
                };
                match old {
                    Some(v) => self.overlay.insert(key, v),
                    None => self.overlay.remove(&key),
                };
            }
        }
        result
    }

    fn record(&mut self, change: Change) {
        let key = change.kv.key.clone();
        let pending = (!change.tombstone).then(|| change.kv.clone());
        self.changes.push(change);
        let old = self.overlay.insert(key.clone(), pending);
        self.undo.push((key, old));
    }

    /// The key's kv as of this txn's revision, if it exists.
    fn current_kv(&self, key: &[u8]) -> Result<Option<KeyValue>, MvccError> {
        if let Some(pending) = self.overlay.get(key) {
            return Ok(pending.clone());
        }
        let found = self
            .store
            .shared()
            .state
            .read()
            .index
            .get(key, self.base_rev);
        match found {
            Some((modified, ..)) => Ok(Some(read_kv(&*self.store.shared().backend, modified)?)),
            None => Ok(None),
        }
    }

    /// (create revision, version) of the key as of this txn, from the index and the
    /// pending changes: no backend read.
    fn current_version(&self, key: &[u8]) -> Option<(i64, i64)> {
        if let Some(pending) = self.overlay.get(key) {
            return pending.as_ref().map(|kv| (kv.create_revision, kv.version));
        }
        let state = self.store.shared().state.read();
        let (_, created, version) = state.index.get(key, self.base_rev)?;
        Some((created.main, version))
    }

    /// Keys of `range` alive at `at_rev`, seeing pending changes when `at_rev` is this
    /// txn's revision.
    fn collect_at(
        &self,
        range: &KeyRange<'_>,
        at_rev: i64,
        limit: usize,
        count_only: bool,
    ) -> (Vec<Found>, i64) {
        let overlay = (at_rev > self.base_rev).then_some(&self.overlay);
        let state = self.store.shared().state.read();
        collect(&state.index, overlay, range, at_rev, limit, count_only)
    }

    fn do_put(&mut self, req: &PutRequest) -> Result<PutResponse, MvccError> {
        // Reading the current kv is a backend lookup of an old revision (a cache miss on a
        // large key space): only done when the request uses its value or lease.
        let cur = if req.prev_kv || req.ignore_value || req.ignore_lease {
            self.current_kv(&req.key)?
        } else {
            None
        };
        if (req.ignore_value || req.ignore_lease) && cur.is_none() {
            return Err(MvccError::KeyNotFound);
        }
        let rev = self.base_rev + 1;
        let (value, lease) = match &cur {
            Some(c) => (
                if req.ignore_value {
                    c.value.clone()
                } else {
                    req.value.clone()
                },
                if req.ignore_lease { c.lease } else { req.lease },
            ),
            None => (req.value.clone(), req.lease),
        };
        let (create_revision, version) = match self.current_version(&req.key) {
            Some((created, version)) => (created, version + 1),
            None => (rev, 1),
        };
        let kv = KeyValue {
            key: Bytes::copy_from_slice(&req.key),
            create_revision,
            mod_revision: rev,
            version,
            value,
            lease,
        };
        let prev_kv = if req.prev_kv { cur.clone() } else { None };
        self.record(Change {
            kv,
            tombstone: false,
            prev: cur,
        });
        Ok(PutResponse {
            header: Some(header(rev)),
            prev_kv,
        })
    }

    fn do_delete_range(
        &mut self,
        req: &DeleteRangeRequest,
    ) -> Result<DeleteRangeResponse, MvccError> {
        let range = KeyRange::new(&req.key, &req.range_end);
        let (found, _) = self.collect_at(&range, self.revision(), 0, false);
        let kvs = load(&*self.store.shared().backend, found)?;
        for kv in &kvs {
            let tomb = KeyValue {
                key: kv.key.clone(),
                ..Default::default()
            };
            self.record(Change {
                kv: tomb,
                tombstone: true,
                prev: Some(kv.clone()),
            });
        }
        Ok(DeleteRangeResponse {
            header: Some(header(self.revision())),
            deleted: kvs.len() as i64,
            prev_kvs: if req.prev_kv { kvs } else { Vec::new() },
        })
    }
}

fn header(revision: i64) -> ResponseHeader {
    ResponseHeader {
        revision,
        ..Default::default()
    }
}

fn event(ch: Change, rev: i64) -> Event {
    if ch.tombstone {
        Event {
            r#type: EventType::Delete as i32,
            kv: Some(KeyValue {
                key: ch.kv.key,
                mod_revision: rev,
                ..Default::default()
            }),
            prev_kv: ch.prev,
        }
    } else {
        Event {
            r#type: EventType::Put as i32,
            kv: Some(ch.kv),
            prev_kv: ch.prev,
        }
    }
}

impl Drop for WriteTxn<'_> {
    fn drop(&mut self) {
        for (_, waiter) in self.compactions.drain(..) {
            waiter.abandon();
        }
    }
}

impl ReadView for WriteTxn<'_> {
    fn rev(&self) -> i64 {
        self.revision()
    }

    fn first_rev(&self) -> i64 {
        self.store.shared().compact_rev.load(Ordering::Acquire)
    }

    fn range_keys(
        &self,
        key: &[u8],
        range_end: &[u8],
        opts: RawRangeOpts,
    ) -> Result<RawRange, MvccError> {
        let cur = self.revision();
        let at = resolve_rev(
            opts.rev,
            cur,
            self.store.shared().compact_rev.load(Ordering::Acquire),
        )?;
        let (found, count) = self.collect_at(
            &KeyRange::new(key, range_end),
            at,
            opts.limit.max(0) as usize,
            opts.count_only,
        );
        Ok(RawRange {
            kvs: load(&*self.store.shared().backend, found)?,
            count,
            rev: cur,
        })
    }
}

impl TxnTarget for WriteTxn<'_> {
    fn put(&mut self, req: &PutRequest) -> Result<PutResponse, MvccError> {
        self.do_put(req)
    }

    fn delete_range(&mut self, req: &DeleteRangeRequest) -> Result<DeleteRangeResponse, MvccError> {
        self.do_delete_range(req)
    }
}
