//! An in-memory [`Backend`] on a `BTreeMap`, for tests and tools.

use std::collections::BTreeMap;
use std::ops::Bound;

use parking_lot::RwLock;

use crate::backend::KvPairs;
use crate::{Backend, BatchOp, Bucket, MvccError, WriteBatch};

/// A [`Backend`] that keeps everything in memory; `sync` is a no-op.
#[derive(Debug, Default)]
pub struct MemBackend {
    /// Keys are the bucket prefix byte followed by the bucket key.
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemBackend {
    pub fn new() -> Self {
        Self::default()
    }
}

fn full_key(bucket: Bucket, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(bucket.prefix());
    k.extend_from_slice(key);
    k
}

impl Backend for MemBackend {
    fn get(&self, bucket: Bucket, key: &[u8]) -> Result<Option<Vec<u8>>, MvccError> {
        Ok(self.map.read().get(&full_key(bucket, key)).cloned())
    }

    fn scan(
        &self,
        bucket: Bucket,
        start: &[u8],
        end: Option<&[u8]>,
        limit: Option<usize>,
    ) -> Result<KvPairs, MvccError> {
        let lo = full_key(bucket, start);
        let hi = match end {
            Some(e) => full_key(bucket, e),
            None => vec![bucket.prefix() + 1],
        };
        if hi <= lo {
            return Ok(Vec::new());
        }
        let map = self.map.read();
        let iter = map
            .range::<Vec<u8>, _>((Bound::Included(&lo), Bound::Excluded(&hi)))
            .map(|(k, v)| (k[1..].to_vec(), v.clone()));
        Ok(match limit {
            Some(n) => iter.take(n).collect(),
            None => iter.collect(),
        })
    }

    fn write(&self, batch: WriteBatch) -> Result<(), MvccError> {
        let mut map = self.map.write();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put { bucket, key, value } => {
                    map.insert(full_key(bucket, &key), value);
                }
                BatchOp::Delete { bucket, key } => {
                    map.remove(&full_key(bucket, &key));
                }
            }
        }
        Ok(())
    }

    fn sync(&self) -> Result<(), MvccError> {
        Ok(())
    }

    fn size_bytes(&self) -> u64 {
        self.size_in_use_bytes()
    }

    fn size_in_use_bytes(&self) -> u64 {
        self.map
            .read()
            .iter()
            .map(|(k, v)| (k.len() + v.len()) as u64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_separate_and_scan_is_bounded() {
        let b = MemBackend::new();
        let mut batch = WriteBatch::default();
        for k in ["a", "b", "c", "d"] {
            batch.put(Bucket::Key, k.as_bytes(), k.as_bytes());
        }
        batch.put(Bucket::Meta, &b"a"[..], &b"meta"[..]);
        b.write(batch).unwrap();
        assert_eq!(b.get(Bucket::Meta, b"a").unwrap(), Some(b"meta".to_vec()));
        assert_eq!(b.get(Bucket::Key, b"a").unwrap(), Some(b"a".to_vec()));
        assert_eq!(b.get(Bucket::Lease, b"a").unwrap(), None);
        let all = b.scan(Bucket::Key, b"", None, None).unwrap();
        assert_eq!(all.len(), 4);
        let some = b.scan(Bucket::Key, b"b", Some(b"d"), None).unwrap();
        assert_eq!(
            some,
            vec![
                (b"b".to_vec(), b"b".to_vec()),
                (b"c".to_vec(), b"c".to_vec())
            ]
        );
        assert_eq!(b.scan(Bucket::Key, b"b", None, Some(1)).unwrap().len(), 1);
        assert!(
            b.scan(Bucket::Key, b"d", Some(b"b"), None)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            b.scan_keys(Bucket::Meta, b"", None, None).unwrap(),
            vec![b"a".to_vec()]
        );
        let mut del = WriteBatch::default();
        del.delete(Bucket::Key, &b"a"[..]);
        b.write(del).unwrap();
        assert_eq!(b.get(Bucket::Key, b"a").unwrap(), None);
        assert!(b.size_bytes() > 0);
    }
}
