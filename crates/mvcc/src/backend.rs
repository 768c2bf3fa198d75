//! The storage trait the store runs on.

use crate::{Bucket, MvccError, WriteBatch};

/// Key-value pairs of a scan, ascending by key.
pub type KvPairs = Vec<(Vec<u8>, Vec<u8>)>;

/// A sorted key-value store with named buckets and atomic multi-bucket batches.
///
/// Keys within a bucket are ordered bytewise. Implementations must be safe to call from
/// many threads at once: the store reads while one writer and the background compactor
/// write.
pub trait Backend: Send + Sync + 'static {
    fn get(&self, bucket: Bucket, key: &[u8]) -> Result<Option<Vec<u8>>, MvccError>;

    /// Ascending pairs with start <= key < end (end None = to the end of the bucket).
    fn scan(
        &self,
        bucket: Bucket,
        start: &[u8],
        end: Option<&[u8]>,
        limit: Option<usize>,
    ) -> Result<KvPairs, MvccError>;

    /// Like [`Backend::scan`] but only the keys; backends that can skip copying values
    /// should override it.
    fn scan_keys(
        &self,
        bucket: Bucket,
        start: &[u8],
        end: Option<&[u8]>,
        limit: Option<usize>,
    ) -> Result<Vec<Vec<u8>>, MvccError> {
        Ok(self
            .scan(bucket, start, end, limit)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    /// Atomic: after a crash either all of the batch is visible or none of it.
    fn write(&self, batch: WriteBatch) -> Result<(), MvccError>;

    /// Hands writes buffered in memory to the underlying storage (not durable yet: that
    /// is [`Backend::sync`]). A no-op for backends that write through.
    fn flush(&self) -> Result<(), MvccError> {
        Ok(())
    }

    /// The apply loop finished a batch of entries. A buffering backend may hand its
    /// writes on now or keep collecting them for a bounded time; by default this is
    /// [`Backend::flush`].
    fn batch_done(&self) -> Result<(), MvccError> {
        self.flush()
    }

    /// Makes every write so far durable (the WAL is released only after this returns).
    fn sync(&self) -> Result<(), MvccError>;

    /// Physically allocated bytes (StatusResponse.dbSize).
    fn size_bytes(&self) -> u64;

    /// Logically used bytes (dbSizeInUse); an estimate.
    fn size_in_use_bytes(&self) -> u64;
}
