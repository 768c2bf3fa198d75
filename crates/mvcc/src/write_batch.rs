//! A batch of backend writes that is applied atomically.

use crate::Bucket;

/// One write of a [`WriteBatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchOp {
    Put {
        bucket: Bucket,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        bucket: Bucket,
        key: Vec<u8>,
    },
}

/// Writes to any buckets, applied by [`crate::Backend::write`] all or nothing, in order
/// (a later op on the same key wins).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<BatchOp>,
}

impl WriteBatch {
    pub fn put(&mut self, bucket: Bucket, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Put {
            bucket,
            key: key.into(),
            value: value.into(),
        });
    }

    pub fn delete(&mut self, bucket: Bucket, key: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Delete {
            bucket,
            key: key.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// The writes, in the order they were added.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    pub fn into_ops(self) -> Vec<BatchOp> {
        self.ops
    }

    /// Appends every write of `other` after this batch's writes.
    pub fn append(&mut self, other: WriteBatch) {
        self.ops.extend(other.ops);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order() {
        let mut b = WriteBatch::default();
        assert!(b.is_empty());
        b.put(Bucket::Meta, b"k".to_vec(), b"v".to_vec());
        b.delete(Bucket::Lease, &b"x"[..]);
        let mut c = WriteBatch::default();
        c.put(Bucket::Key, vec![1], vec![2]);
        b.append(c);
        assert_eq!(b.len(), 3);
        assert_eq!(
            b.ops()[1],
            BatchOp::Delete {
                bucket: Bucket::Lease,
                key: b"x".to_vec()
            }
        );
        assert!(matches!(
            b.ops()[2],
            BatchOp::Put {
                bucket: Bucket::Key,
                ..
            }
        ));
    }
}
