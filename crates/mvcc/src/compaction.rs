//! Compaction off the writer's path: a background thread compacts the key index, waits
//! for readers that may still need old revisions, deletes the dropped revisions from the
//! backend in chunks and records the finished compaction revision.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use bytes::Bytes;
use parking_lot::{Condvar, Mutex};

use crate::meta::{FINISHED_COMPACT_KEY, put_compact_rev};
use crate::revision::Revision;
use crate::store::Shared;
use crate::{Bucket, MvccError, WriteBatch};

/// Key indexes compacted per lock hold.
const INDEX_CHUNK_KEYS: usize = 1000;
/// Key-bucket entries examined per backend write (etcd's compaction batch limit).
const DELETE_CHUNK_KEYS: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    Pending,
    Done,
    /// The store shut down (or the compaction failed) first; it resumes on the next open.
    Abandoned,
}

#[derive(Debug)]
struct Signal {
    progress: Mutex<Progress>,
    changed: Condvar,
}

impl Signal {
    fn finish(&self, p: Progress) {
        let mut progress = self.progress.lock();
        if *progress == Progress::Pending {
            *progress = p;
        }
        self.changed.notify_all();
    }
}

/// Completes when a compaction's old revisions are physically gone from the backend.
#[derive(Clone, Debug)]
pub struct CompactionWaiter {
    signal: Arc<Signal>,
}

impl CompactionWaiter {
    pub(crate) fn new() -> Self {
        CompactionWaiter {
            signal: Arc::new(Signal {
                progress: Mutex::new(Progress::Pending),
                changed: Condvar::new(),
            }),
        }
    }

    /// Blocks until the compaction finished, or was abandoned because the store closed
    /// or its write was never committed (it then resumes when the store is reopened).
    pub fn wait(self) {
        let mut progress = self.signal.progress.lock();
        while *progress == Progress::Pending {
            self.signal.changed.wait(&mut progress);
        }
    }

    /// Whether the old revisions are physically removed.
    pub fn is_done(&self) -> bool {
        *self.signal.progress.lock() == Progress::Done
    }

    pub(crate) fn abandon(&self) {
        self.signal.finish(Progress::Abandoned);
    }

    fn done(&self) {
        self.signal.finish(Progress::Done);
    }
}

struct Job {
    rev: i64,
    waiter: CompactionWaiter,
}

impl Drop for Job {
    /// A job dropped unfinished (shutdown, or a panic in the compactor) must not leave
    /// its waiter blocked forever; after `done` this changes nothing.
    fn drop(&mut self) {
        self.waiter.abandon();
    }
}

/// The background compaction thread; jobs run one at a time in the order scheduled.
pub(crate) struct Compactor {
    jobs: Option<mpsc::Sender<Job>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Compactor {
    pub(crate) fn start(shared: Arc<Shared>) -> Result<Self, MvccError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("mvcc-compactor".into())
            .spawn(move || {
                for job in rx {
                    if thread_stop.load(Ordering::Acquire) {
                        job.waiter.abandon();
                        continue;
                    }
                    match compact(&shared, job.rev, &thread_stop) {
                        Ok(true) => {
                            tracing::info!(revision = job.rev, "finished scheduled compaction");
                            job.waiter.done();
                        }
                        Ok(false) => job.waiter.abandon(),
                        Err(e) => {
                            tracing::error!(revision = job.rev, error = %e, "compaction failed");
                            job.waiter.abandon();
                        }
                    }
                }
            })
            .map_err(|e| MvccError::backend("spawn compactor thread", e))?;
        Ok(Compactor {
            jobs: Some(tx),
            stop,
            thread: Some(thread),
        })
    }

    /// Queues physical compaction at `rev` (already published as the compaction revision).
    pub(crate) fn schedule(&self, rev: i64, waiter: CompactionWaiter) {
        match &self.jobs {
            Some(tx) => {
                if let Err(mpsc::SendError(job)) = tx.send(Job { rev, waiter }) {
                    job.waiter.abandon();
                }
            }
            None => waiter.abandon(),
        }
    }
}

impl Drop for Compactor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.jobs.take();
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("mvcc compactor thread panicked");
        }
    }
}

/// Compacts at `rev`. Returns Ok(false) if stopped before finishing.
fn compact(shared: &Shared, rev: i64, stop: &AtomicBool) -> Result<bool, MvccError> {
    // 1. The key index, a chunk of keys per lock hold. The writer only adds revisions
    //    above `rev`, so interleaving with it is harmless.
    let epoch = shared.epoch.load(Ordering::Acquire);
    let mut keep: HashSet<Revision> = HashSet::new();
    let mut cursor: Option<Bytes> = None;
    loop {
        let next = {
            let mut state = shared.state.write();
            if shared.epoch.load(Ordering::Acquire) != epoch {
                return Ok(false); // the key space was replaced by a snapshot
            }
            state
                .index
                .compact_chunk(cursor.as_deref(), rev, INDEX_CHUNK_KEYS, &mut keep)
        };
        match next {
            Some(k) => cursor = Some(k),
            None => break,
        }
        if stop.load(Ordering::Acquire) {
            return Ok(false);
        }
    }
    // 2. Readers that started before `rev` was published may still load old revisions.
    if !shared.readers.wait_none_below(rev, stop) {
        return Ok(false);
    }
    // 3. Every key-bucket entry with main revision <= rev that is not kept.
    let end = Revision::new(rev + 1, 0).to_key(false);
    let mut start: Vec<u8> = Vec::new();
    loop {
        let keys =
            shared
                .backend
                .scan_keys(Bucket::Key, &start, Some(&end), Some(DELETE_CHUNK_KEYS))?;
        let mut batch = WriteBatch::default();
        for k in &keys {
            let (r, _) = Revision::from_key(k)?;
            if !keep.contains(&r) {
                batch.delete(Bucket::Key, k.clone());
            }
        }
        let finished = keys.len() < DELETE_CHUNK_KEYS;
        if finished {
            put_compact_rev(&mut batch, FINISHED_COMPACT_KEY, rev);
        }
        if !batch.is_empty() {
            let _deleting = shared.delete_lock.lock();
            if shared.epoch.load(Ordering::Acquire) != epoch {
                return Ok(false);
            }
            shared.backend.write(batch)?;
        }
        if finished {
            // Not an apply batch: hand the last deletes on now, so the space they free
            // shows in the size estimates (the quota) by the time the waiter is told.
            shared.backend.flush()?;
            return Ok(true);
        }
        if let Some(last) = keys.last() {
            start = last.clone();
            start.push(0);
        }
        if stop.load(Ordering::Acquire) {
            return Ok(false);
        }
    }
}
