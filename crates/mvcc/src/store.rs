//! The revisioned key-value store: opening (rebuilding the key index from the backend),
//! reads at a consistent revision, the hash of the key space, and the entry point of
//! the single writer.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use parking_lot::Mutex;

use etcd_api::etcdserverpb::{RangeRequest, RangeResponse, TxnRequest, TxnResponse};
use parking_lot::RwLock;

use crate::compaction::{CompactionWaiter, Compactor};
use crate::meta;
use crate::range::apply_range;
use crate::readers::{ReaderGuard, Readers};
use crate::restore::restore_index;
use crate::tree_index::TreeIndex;
use crate::txn::{ReadOnly, apply_txn};
use crate::validate::is_txn_read_only;
use crate::view::{CurrentView, SnapshotView};
use crate::write_txn::WriteTxn;
use crate::writer_gate::WriterGate;
use crate::{Backend, MvccError};

/// What readers must see change atomically.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) index: TreeIndex,
    /// The revision of the last committed change (1 for an empty store).
    pub(crate) current_rev: i64,
    /// The compaction revision, -1 if never compacted (etcd's compactMainRev).
    pub(crate) compact_rev: i64,
}

/// Everything the store shares with its compaction thread.
pub(crate) struct Shared {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) state: RwLock<State>,
    pub(crate) readers: Readers,
    /// Lock-free copies of `State::current_rev` / `compact_rev`, updated under the lock.
    pub(crate) current_rev: AtomicI64,
    pub(crate) compact_rev: AtomicI64,
    pub(crate) consistent_index: AtomicU64,
    /// Bumped when the whole key space is replaced (restore from a snapshot); a running
    /// compaction of the old key space stops instead of deleting from the new one.
    pub(crate) epoch: AtomicU64,
    /// Held around each physical-compaction delete batch and around epoch bumps.
    pub(crate) delete_lock: Mutex<()>,
}

impl Shared {
    /// Makes `rev` the current revision and `compact` (if any) the compaction revision.
    pub(crate) fn publish(&self, state: &mut State, rev: i64, compact: Option<i64>, ci: u64) {
        state.current_rev = rev;
        self.current_rev.store(rev, Ordering::Release);
        if let Some(c) = compact {
            state.compact_rev = c;
            self.compact_rev.store(c, Ordering::Release);
        }
        self.consistent_index.store(ci, Ordering::Release);
    }
}

/// A revisioned key-value store with etcd's semantics. `Send + Sync`: many concurrent
/// readers, one writer at a time (the apply loop).
pub struct KvStore {
    shared: Arc<Shared>,
    writer: WriterGate,
    compactor: Compactor,
}

impl std::fmt::Debug for KvStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvStore")
            .field("current_revision", &self.current_revision())
            .field("compact_revision", &self.compact_revision())
            .field("consistent_index", &self.consistent_index())
            .finish_non_exhaustive()
    }
}

impl KvStore {
    /// Rebuilds the in-memory key index from the Key bucket; resumes an unfinished compaction.
    pub fn open(backend: Arc<dyn Backend>) -> Result<KvStore, MvccError> {
        let ci = meta::read_consistent_index(&*backend)?;
        let finished = meta::read_compact_rev(&*backend, meta::FINISHED_COMPACT_KEY)?;
        let scheduled = meta::read_compact_rev(&*backend, meta::SCHEDULED_COMPACT_KEY)?;

        let (index, last_rev) = restore_index(&*backend)?;
        let mut current_rev = last_rev.max(1);
        let compact_rev = finished.unwrap_or(-1);
        // All revisions up to a compaction may be gone from the key bucket.
        current_rev = current_rev.max(compact_rev).max(scheduled.unwrap_or(0));
        let resume = scheduled.filter(|&s| s > compact_rev);

        let shared = Arc::new(Shared {
            backend,
            state: RwLock::new(State {
                index,
                current_rev,
                compact_rev,
            }),
            readers: Readers::default(),
            current_rev: AtomicI64::new(current_rev),
            compact_rev: AtomicI64::new(compact_rev),
            consistent_index: AtomicU64::new(ci),
            epoch: AtomicU64::new(0),
            delete_lock: Mutex::new(()),
        });
        let compactor = Compactor::start(shared.clone())?;
        if let Some(rev) = resume {
            tracing::info!(revision = rev, "resuming scheduled compaction");
            {
                let mut state = shared.state.write();
                shared.publish(&mut state, current_rev, Some(rev), ci);
            }
            compactor.schedule(rev, CompactionWaiter::new());
        }
        tracing::info!(
            current_rev,
            compact_rev,
            consistent_index = ci,
            "kvstore restored"
        );
        Ok(KvStore {
            shared,
            writer: WriterGate::default(),
            compactor,
        })
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.shared.backend
    }

    /// 1 for an empty store; the first put makes it 2.
    pub fn current_revision(&self) -> i64 {
        self.shared.current_rev.load(Ordering::Acquire)
    }

    /// 0 if never compacted.
    pub fn compact_revision(&self) -> i64 {
        self.shared.compact_rev.load(Ordering::Acquire).max(0)
    }

    /// Raft index stored with the last committed write.
    pub fn consistent_index(&self) -> u64 {
        self.shared.consistent_index.load(Ordering::Acquire)
    }

    /// Number of keys that exist at the current revision (etcd's keys_total gauge).
    pub fn key_count(&self) -> usize {
        self.shared.state.read().index.alive()
    }

    /// Number of keys in the in-memory index: existing ones plus deleted ones whose
    /// history is not compacted yet.
    pub fn indexed_key_count(&self) -> usize {
        self.shared.state.read().index.len()
    }

    /// Serializable read of the committed state; header = Some(ResponseHeader{revision,..0}).
    pub fn range(&self, req: &RangeRequest) -> Result<RangeResponse, MvccError> {
        apply_range(
            &CurrentView {
                shared: &self.shared,
            },
            req,
        )
    }

    /// A txn that neither puts nor deletes (see [`crate::validate::is_txn_read_only`]),
    /// served from the committed state at one revision without going through the writer.
    /// Errors: NotReadOnly for a txn with writes; Compacted / FutureRev for its ranges.
    pub fn read_txn(&self, req: &TxnRequest) -> Result<TxnResponse, MvccError> {
        if !is_txn_read_only(req) {
            return Err(MvccError::NotReadOnly);
        }
        apply_txn(&mut ReadOnly(SnapshotView::open(&self.shared)), req)
    }

    /// Starts the changes of one applied raft entry (index `raft_index`). One at a time:
    /// a second call waits until the first [`WriteTxn`] is committed or dropped.
    pub fn write(&self, raft_index: u64) -> WriteTxn<'_> {
        WriteTxn::new(self, self.writer.enter(), raft_index)
    }

    /// Keeps physical compaction from deleting anything while the returned guard lives
    /// (compactions already scheduled finish later), e.g. to copy the backend
    /// consistently. Index compaction and the compaction revision are unaffected.
    pub fn hold_compaction(&self) -> CompactionHold<'_> {
        CompactionHold {
            _reader: self.shared.readers.register(i64::MIN),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn writer_gate(&self) -> &WriterGate {
        &self.writer
    }

    pub(crate) fn compactor(&self) -> &Compactor {
        &self.compactor
    }
}

/// While alive, no revision is physically removed from the backend.
#[derive(Debug)]
pub struct CompactionHold<'a> {
    _reader: ReaderGuard<'a>,
}
