//! A write-behind [`Backend`]: writes collect in memory and reach the underlying backend
//! as ONE batch once the oldest of them has waited [`FLUSH_INTERVAL`] (checked when the
//! apply loop ends a batch of entries, [`Backend::batch_done`]), or sooner when a scan, a
//! sync or the size bounds ask for it. sled seals and writes an IO buffer, on its own IO
//! threads, for every batch: one batch per entry, and later one per apply batch, put
//! sled on the path of every put.
//!
//! Invariants:
//! - readers see every write as soon as [`Backend::write`] returns: `get` looks in the
//!   pending writes first; `scan` flushes first, so it only ever reads the inner backend;
//! - writes stay pending while no batch ends (an idle member): only the WAL and this
//!   buffer hold them until the next batch, scan, sync or close;
//! - the inner backend receives the pending writes in one atomic batch, in write order
//!   (later writes of a key win), so after a crash it holds a prefix of the writes: at
//!   most the last flushes are missing, and with them the consistent index that says so,
//!   and the WAL replays them;
//! - flushes are serialised with each other and with lookups of pending writes.

use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hashbrown::{DefaultHashBuilder, HashTable};
use parking_lot::Mutex;

use crate::backend::KvPairs;
use crate::{Backend, BatchOp, Bucket, MvccError, WriteBatch};

/// Pending writes are flushed at once, without waiting for [`FLUSH_INTERVAL`], beyond this
/// many keys (a long replay after a restart applies many entries in one batch).
const MAX_PENDING_KEYS: usize = 10_000;
/// ... or beyond this many bytes of keys and values.
const MAX_PENDING_BYTES: usize = 32 << 20;
/// How long writes collect before the end of an apply batch hands them on. Measured on
/// 3 members and 2 cores against one batch per apply batch: single-client puts 1.4x,
/// 256-client puts 1.1x (1.3x once sled's epoch garbage was collected per batch); 3 to
/// 25 ms measured alike, 50 ms raised p99 latency (a large batch stalls the apply loop).
const FLUSH_INTERVAL: Duration = Duration::from_millis(10);

/// The latest pending write of each key, in the order keys were first written.
#[derive(Default)]
struct Pending {
    /// One entry per key: its bucket, the key and its latest value (`None`: a delete).
    writes: Vec<(Bucket, Vec<u8>, Option<Vec<u8>>)>,
    /// Positions in `writes`, by (bucket, key). Keeps its capacity across flushes, and
    /// the key lives only in `writes`: one hash and no key copy per write.
    index: HashTable<usize>,
    hasher: DefaultHashBuilder,
    bytes: usize,
    /// When the oldest pending write was recorded; `None` when nothing is pending.
    since: Option<Instant>,
}

/// The hash of a (bucket, key) pair: the same when looking up and when the table grows.
fn key_hash(hasher: &DefaultHashBuilder, bucket: Bucket, key: &[u8]) -> u64 {
    hasher.hash_one((bucket.prefix(), key))
}

impl Pending {
    fn hash(&self, bucket: Bucket, key: &[u8]) -> u64 {
        key_hash(&self.hasher, bucket, key)
    }

    fn position(&self, hash: u64, bucket: Bucket, key: &[u8]) -> Option<usize> {
        let writes = &self.writes;
        self.index
            .find(hash, |&i| writes[i].0 == bucket && writes[i].1 == key)
            .copied()
    }

    fn record(&mut self, bucket: Bucket, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.bytes += key.len() + value.as_ref().map_or(0, Vec::len);
        self.since.get_or_insert_with(Instant::now);
        let hash = self.hash(bucket, &key);
        match self.position(hash, bucket, &key) {
            Some(i) => self.writes[i].2 = value,
            None => {
                let (writes, hasher) = (&self.writes, &self.hasher);
                self.index.insert_unique(hash, writes.len(), |&i| {
                    key_hash(hasher, writes[i].0, &writes[i].1)
                });
                self.writes.push((bucket, key, value));
            }
        }
    }

    /// The pending write of `key`: Some(None) for a pending delete.
    fn get(&self, bucket: Bucket, key: &[u8]) -> Option<&Option<Vec<u8>>> {
        let i = self.position(self.hash(bucket, key), bucket, key)?;
        Some(&self.writes[i].2)
    }

    fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    fn is_full(&self) -> bool {
        self.writes.len() >= MAX_PENDING_KEYS || self.bytes >= MAX_PENDING_BYTES
    }

    /// Whether the oldest pending write has waited [`FLUSH_INTERVAL`].
    fn is_due(&self) -> bool {
        self.since.is_some_and(|t| t.elapsed() >= FLUSH_INTERVAL)
    }

    /// One batch with the latest write of every key, in first-write order.
    fn take_batch(&mut self) -> WriteBatch {
        let mut batch = WriteBatch::default();
        for (bucket, key, value) in self.writes.drain(..) {
            match value {
                Some(v) => batch.put(bucket, key, v),
                None => batch.delete(bucket, key),
            }
        }
        self.index.clear();
        self.bytes = 0;
        self.since = None;
        batch
    }
}

/// Wraps a backend so that many small atomic writes become one.
pub struct BufferedBackend {
    inner: Arc<dyn Backend>,
    pending: Mutex<Pending>,
}

impl std::fmt::Debug for BufferedBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferedBackend").finish_non_exhaustive()
    }
}

impl BufferedBackend {
    pub fn new(inner: Arc<dyn Backend>) -> Self {
        BufferedBackend {
            inner,
            pending: Mutex::new(Pending::default()),
        }
    }

    /// Writes the pending writes to the inner backend while holding the lock, so that no
    /// lookup misses a write that is on its way there.
    fn flush_locked(&self, pending: &mut Pending) -> Result<(), MvccError> {
        if pending.is_empty() {
            return Ok(());
        }
        self.inner.write(pending.take_batch())
    }
}

impl Backend for BufferedBackend {
    fn get(&self, bucket: Bucket, key: &[u8]) -> Result<Option<Vec<u8>>, MvccError> {
        // A flush holds the lock until the inner backend has its writes, so a key missed
        // here is already there (or was never written).
        if let Some(v) = self.pending.lock().get(bucket, key) {
            return Ok(v.clone());
        }
        self.inner.get(bucket, key)
    }

    fn scan(
        &self,
        bucket: Bucket,
        start: &[u8],
        end: Option<&[u8]>,
        limit: Option<usize>,
    ) -> Result<KvPairs, MvccError> {
        self.flush()?;
        self.inner.scan(bucket, start, end, limit)
    }

    fn scan_keys(
        &self,
        bucket: Bucket,
        start: &[u8],
        end: Option<&[u8]>,
        limit: Option<usize>,
    ) -> Result<Vec<Vec<u8>>, MvccError> {
        self.flush()?;
        self.inner.scan_keys(bucket, start, end, limit)
    }

    fn write(&self, batch: WriteBatch) -> Result<(), MvccError> {
        let mut pending = self.pending.lock();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put { bucket, key, value } => pending.record(bucket, key, Some(value)),
                BatchOp::Delete { bucket, key } => pending.record(bucket, key, None),
            }
        }
        if pending.is_full() {
            self.flush_locked(&mut pending)?;
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), MvccError> {
        let mut pending = self.pending.lock();
        self.flush_locked(&mut pending)
    }

    fn batch_done(&self) -> Result<(), MvccError> {
        let mut pending = self.pending.lock();
        if pending.is_due() {
            self.flush_locked(&mut pending)?;
        }
        Ok(())
    }

    fn sync(&self) -> Result<(), MvccError> {
        self.flush()?;
        self.inner.sync()
    }

    fn size_bytes(&self) -> u64 {
        self.inner.size_bytes()
    }

    fn size_in_use_bytes(&self) -> u64 {
        self.inner.size_in_use_bytes()
    }
}

impl Drop for BufferedBackend {
    /// A clean close loses nothing that was written (a crash may: the WAL has it).
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e, "backend: pending writes not flushed at close");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemBackend;

    fn batch(ops: &[(&[u8], Option<&[u8]>)]) -> WriteBatch {
        let mut b = WriteBatch::default();
        for (k, v) in ops {
            match v {
                Some(v) => b.put(Bucket::Key, k.to_vec(), v.to_vec()),
                None => b.delete(Bucket::Key, k.to_vec()),
            }
        }
        b
    }

    #[test]
    fn writes_are_visible_before_and_after_a_flush() {
        let inner = Arc::new(MemBackend::new());
        let b = BufferedBackend::new(inner.clone());
        b.write(batch(&[(b"a", Some(b"1")), (b"b", Some(b"2"))]))
            .unwrap();
        b.write(batch(&[(b"a", Some(b"3")), (b"b", None)])).unwrap();
        assert_eq!(b.get(Bucket::Key, b"a").unwrap(), Some(b"3".to_vec()));
        assert_eq!(b.get(Bucket::Key, b"b").unwrap(), None);
        // Nothing reached the inner backend yet.
        assert_eq!(inner.get(Bucket::Key, b"a").unwrap(), None);
        b.flush().unwrap();
        assert_eq!(inner.get(Bucket::Key, b"a").unwrap(), Some(b"3".to_vec()));
        assert_eq!(inner.get(Bucket::Key, b"b").unwrap(), None);
        assert_eq!(b.get(Bucket::Key, b"a").unwrap(), Some(b"3".to_vec()));
    }

    #[test]
    fn a_flush_writes_each_key_once_in_first_write_order_per_bucket() {
        let inner = Arc::new(MemBackend::new());
        let b = BufferedBackend::new(inner);
        let mut w = batch(&[(b"b", Some(b"1")), (b"a", Some(b"2"))]);
        w.put(Bucket::Meta, b"b".to_vec(), b"meta".to_vec());
        b.write(w).unwrap();
        b.write(batch(&[(b"b", None), (b"c", Some(b"3"))])).unwrap();
        assert_eq!(b.get(Bucket::Meta, b"b").unwrap(), Some(b"meta".to_vec()));
        assert_eq!(b.get(Bucket::Key, b"b").unwrap(), None);
        let taken = b.pending.lock().take_batch();
        assert_eq!(
            taken.ops(),
            &[
                BatchOp::Delete {
                    bucket: Bucket::Key,
                    key: b"b".to_vec()
                },
                BatchOp::Put {
                    bucket: Bucket::Key,
                    key: b"a".to_vec(),
                    value: b"2".to_vec()
                },
                BatchOp::Put {
                    bucket: Bucket::Meta,
                    key: b"b".to_vec(),
                    value: b"meta".to_vec()
                },
                BatchOp::Put {
                    bucket: Bucket::Key,
                    key: b"c".to_vec(),
                    value: b"3".to_vec()
                },
            ]
        );
        assert!(b.pending.lock().is_empty());
        assert_eq!(b.get(Bucket::Key, b"a").unwrap(), None);
    }

    #[test]
    fn a_delete_of_a_flushed_key_hides_it() {
        let inner = Arc::new(MemBackend::new());
        let b = BufferedBackend::new(inner.clone());
        b.write(batch(&[(b"k", Some(b"v"))])).unwrap();
        b.flush().unwrap();
        b.write(batch(&[(b"k", None)])).unwrap();
        assert_eq!(b.get(Bucket::Key, b"k").unwrap(), None);
        assert_eq!(inner.get(Bucket::Key, b"k").unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn scans_see_pending_writes() {
        let inner = Arc::new(MemBackend::new());
        let b = BufferedBackend::new(inner);
        b.write(batch(&[(b"a", Some(b"1")), (b"c", Some(b"3"))]))
            .unwrap();
        b.write(batch(&[(b"b", Some(b"2")), (b"c", None)])).unwrap();
        let got = b.scan(Bucket::Key, b"", None, None).unwrap();
        assert_eq!(
            got,
            vec![
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"2".to_vec())
            ]
        );
        assert_eq!(b.scan_keys(Bucket::Key, b"b", None, None).unwrap().len(), 1);
    }

    #[test]
    fn the_end_of_a_batch_flushes_only_writes_that_waited_the_interval() {
        let inner = Arc::new(MemBackend::new());
        let b = BufferedBackend::new(inner.clone());
        b.write(batch(&[(b"k", Some(b"v"))])).unwrap();
        b.batch_done().unwrap();
        assert_eq!(inner.get(Bucket::Key, b"k").unwrap(), None);
        let since = b.pending.lock().since.expect("a write is pending");
        b.pending.lock().since = since.checked_sub(FLUSH_INTERVAL);
        b.batch_done().unwrap();
        assert_eq!(inner.get(Bucket::Key, b"k").unwrap(), Some(b"v".to_vec()));
        assert!(b.pending.lock().since.is_none());
        b.batch_done().unwrap();
    }

    #[test]
    fn dropping_flushes() {
        let inner = Arc::new(MemBackend::new());
        let b = BufferedBackend::new(inner.clone());
        b.write(batch(&[(b"k", Some(b"v"))])).unwrap();
        drop(b);
        assert_eq!(inner.get(Bucket::Key, b"k").unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn many_pending_keys_flush_on_their_own() {
        let inner = Arc::new(MemBackend::new());
        let b = BufferedBackend::new(inner.clone());
        for i in 0..MAX_PENDING_KEYS as u32 {
            b.write(batch(&[(&i.to_be_bytes(), Some(b"v"))])).unwrap();
        }
        assert!(b.pending.lock().is_empty());
        assert_eq!(
            inner.get(Bucket::Key, &0u32.to_be_bytes()).unwrap(),
            Some(b"v".to_vec())
        );
    }
}
