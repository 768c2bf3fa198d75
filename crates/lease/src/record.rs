//! The stored form of a lease in the backend's Lease bucket, as etcd's leasepb.Lease,
//! keyed by the id as 8 big-endian bytes (etcd's int64ToBytes).

use etcd_mvcc::{Bucket, WriteBatch};
use prost::Message;

use crate::{LeaseError, LeaseId};

/// etcd's `leasepb.Lease`: the value stored under a lease's key.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct LeasePb {
    #[prost(int64, tag = "1")]
    pub id: i64,
    #[prost(int64, tag = "2")]
    pub ttl: i64,
    /// The last checkpointed remaining TTL; 0 = none (count from `ttl`).
    #[prost(int64, tag = "3")]
    pub remaining_ttl: i64,
}

/// The bucket key of lease `id`; ascending key order is ascending unsigned id order.
pub(crate) fn key(id: LeaseId) -> [u8; 8] {
    (id as u64).to_be_bytes()
}

/// Adds the write of lease `id` to `batch`.
pub(crate) fn put(batch: &mut WriteBatch, id: LeaseId, ttl: i64, remaining_ttl: i64) {
    let pb = LeasePb {
        id,
        ttl,
        remaining_ttl,
    };
    batch.put(Bucket::Lease, key(id), pb.encode_to_vec());
}

/// Adds the removal of lease `id` to `batch`.
pub(crate) fn delete(batch: &mut WriteBatch, id: LeaseId) {
    batch.delete(Bucket::Lease, key(id));
}

/// Decodes one stored record; Corrupt unless the value decodes and names the id of its key.
pub(crate) fn decode(key: &[u8], value: &[u8]) -> Result<LeasePb, LeaseError> {
    let corrupt = |reason: String| LeaseError::Corrupt {
        key: key.to_vec(),
        reason,
    };
    let id_bytes: [u8; 8] = key
        .try_into()
        .map_err(|_| corrupt(format!("key is {} bytes, not 8", key.len())))?;
    let pb = LeasePb::decode(value).map_err(|e| corrupt(e.to_string()))?;
    let key_id = u64::from_be_bytes(id_bytes) as i64;
    if pb.id != key_id {
        return Err(corrupt(format!(
            "record names lease {} under the key of {key_id}",
            pb.id
        )));
    }
    Ok(pb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use etcd_mvcc::BatchOp;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let mut batch = WriteBatch::default();
        put(&mut batch, -5, 60, 17);
        delete(&mut batch, 7);
        let (k, v) = match &batch.ops()[0] {
            BatchOp::Put { bucket, key, value } => {
                assert_eq!(*bucket, Bucket::Lease);
                (key.clone(), value.clone())
            }
            other => panic!("unexpected op {other:?}"),
        };
        assert_eq!(k, (-5i64 as u64).to_be_bytes().to_vec());
        let pb = decode(&k, &v).unwrap();
        assert_eq!(
            pb,
            LeasePb {
                id: -5,
                ttl: 60,
                remaining_ttl: 17
            }
        );
        assert_eq!(
            batch.ops()[1],
            BatchOp::Delete {
                bucket: Bucket::Lease,
                key: 7u64.to_be_bytes().to_vec()
            }
        );
        assert!(matches!(
            decode(b"short", &v),
            Err(LeaseError::Corrupt { .. })
        ));
        assert!(matches!(
            decode(&key(9), &v),
            Err(LeaseError::Corrupt { .. })
        ));
        assert!(matches!(
            decode(&key(1), &[0xff, 0xff]),
            Err(LeaseError::Corrupt { .. })
        ));
    }

    #[test]
    fn wire_form_matches_leasepb() {
        // ID=1 (varint 300), TTL=2 (varint 10), RemainingTTL=3 (varint 4).
        let pb = LeasePb {
            id: 300,
            ttl: 10,
            remaining_ttl: 4,
        };
        assert_eq!(
            pb.encode_to_vec(),
            vec![0x08, 0xac, 0x02, 0x10, 0x0a, 0x18, 0x04]
        );
    }
}
