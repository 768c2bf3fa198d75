//! The store's records in the meta bucket (etcd's key names): the consistent index and
//! the scheduled and finished compaction revisions.

use crate::revision::Revision;
use crate::{Backend, Bucket, MvccError, WriteBatch};

pub(crate) const CONSISTENT_INDEX_KEY: &[u8] = b"consistent_index";
pub(crate) const SCHEDULED_COMPACT_KEY: &[u8] = b"scheduledCompactRev";
pub(crate) const FINISHED_COMPACT_KEY: &[u8] = b"finishedCompactRev";

pub(crate) fn read_consistent_index(b: &dyn Backend) -> Result<u64, MvccError> {
    match b.get(Bucket::Meta, CONSISTENT_INDEX_KEY)? {
        None => Ok(0),
        Some(v) => {
            let arr: [u8; 8] = v.as_slice().try_into().map_err(|_| {
                MvccError::Corrupt(format!("consistent index of {} bytes", v.len()))
            })?;
            Ok(u64::from_be_bytes(arr))
        }
    }
}

pub(crate) fn put_consistent_index(batch: &mut WriteBatch, index: u64) {
    batch.put(Bucket::Meta, CONSISTENT_INDEX_KEY, index.to_be_bytes());
}

/// Reads a compaction revision record (`SCHEDULED_COMPACT_KEY` or `FINISHED_COMPACT_KEY`).
pub(crate) fn read_compact_rev(b: &dyn Backend, key: &[u8]) -> Result<Option<i64>, MvccError> {
    match b.get(Bucket::Meta, key)? {
        None => Ok(None),
        Some(v) => Ok(Some(Revision::from_key(&v)?.0.main)),
    }
}

pub(crate) fn put_compact_rev(batch: &mut WriteBatch, key: &[u8], rev: i64) {
    batch.put(Bucket::Meta, key, Revision::new(rev, 0).to_key(false));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemBackend;

    #[test]
    fn roundtrip() {
        let b = MemBackend::new();
        assert_eq!(read_consistent_index(&b).unwrap(), 0);
        assert_eq!(read_compact_rev(&b, SCHEDULED_COMPACT_KEY).unwrap(), None);
        let mut batch = WriteBatch::default();
        put_consistent_index(&mut batch, 42);
        put_compact_rev(&mut batch, SCHEDULED_COMPACT_KEY, 7);
        b.write(batch).unwrap();
        assert_eq!(read_consistent_index(&b).unwrap(), 42);
        assert_eq!(
            read_compact_rev(&b, SCHEDULED_COMPACT_KEY).unwrap(),
            Some(7)
        );
        assert_eq!(read_compact_rev(&b, FINISHED_COMPACT_KEY).unwrap(), None);
        let mut batch = WriteBatch::default();
        batch.put(Bucket::Meta, CONSISTENT_INDEX_KEY, vec![1, 2]);
        b.write(batch).unwrap();
        assert!(matches!(
            read_consistent_index(&b),
            Err(MvccError::Corrupt(_))
        ));
    }
}
