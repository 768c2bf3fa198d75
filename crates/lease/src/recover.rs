//! Rebuilding the lessor from the backend's Lease bucket and the keys of the store.

use etcd_api::etcdserverpb::RangeRequest;
use etcd_mvcc::{Backend, Bucket, KvStore};
use prost::bytes::Bytes;

use crate::lease::Lease;
use crate::state::State;
use crate::{LeaseError, Lessor, NO_LEASE, record};

/// Records or keys read per backend scan / store range while recovering (tiny in unit
/// tests so they cross page boundaries).
const PAGE: usize = if cfg!(test) { 2 } else { 10_000 };

impl Lessor {
    /// Replaces every lease with those stored in `backend`'s Lease bucket and attaches
    /// every live key of `store` that names a lease (keys naming an unknown lease are
    /// logged and skipped, as etcd does). Not primary afterwards. On error the lessor is
    /// unchanged.
    pub fn recover(&self, backend: &dyn Backend, store: &KvStore) -> Result<(), LeaseError> {
        let mut fresh = State::default();
        let mut start: Vec<u8> = Vec::new();
        loop {
            let page = backend.scan(Bucket::Lease, &start, None, Some(PAGE))?;
            for (key, value) in &page {
                let pb = record::decode(key, value)?;
                fresh
                    .leases
                    .insert(pb.id, Lease::new(pb.ttl, pb.remaining_ttl));
            }
            match page.last() {
                Some((last, _)) if page.len() == PAGE => start = successor(last),
                _ => break,
            }
        }

        let mut unknown = 0usize;
        let mut req = RangeRequest {
            key: Bytes::from_static(&[0]),
            range_end: Bytes::from_static(&[0]),
            limit: PAGE as i64,
            keys_only: true,
            ..Default::default()
        };
        loop {
            let resp = store.range(&req)?;
            for kv in &resp.kvs {
                if kv.lease == NO_LEASE {
                    continue;
                }
                if fresh.leases.contains_key(&kv.lease) {
                    fresh.attach(kv.lease, &kv.key);
                } else {
                    unknown += 1;
                }
            }
            match resp.kvs.last() {
                Some(last) if resp.more => {
                    req.key = Bytes::from(successor(&last.key));
                    // Later pages read the revision of the first one.
                    req.revision = resp.header.as_ref().map_or(0, |h| h.revision);
                }
                _ => break,
            }
        }
        if unknown > 0 {
            tracing::warn!(
                keys = unknown,
                "keys attached to unknown leases were left unattached"
            );
        }
        tracing::info!(
            leases = fresh.leases.len(),
            keys = fresh.owners.len(),
            "lessor recovered"
        );
        *self.state.lock() = fresh;
        Ok(())
    }
}

/// The smallest key after `key`.
fn successor(key: &[u8]) -> Vec<u8> {
    let mut next = Vec::with_capacity(key.len() + 1);
    next.extend_from_slice(key);
    next.push(0);
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use etcd_api::etcdserverpb::{DeleteRangeRequest, PutRequest};
    use etcd_mvcc::{MemBackend, WriteBatch};
    use std::sync::Arc;
    use std::time::Duration;

    fn put(key: &'static str, lease: i64) -> PutRequest {
        PutRequest {
            key: Bytes::from_static(key.as_bytes()),
            value: Bytes::from_static(b"v"),
            lease,
            ..Default::default()
        }
    }

    /// Applies `batch` plus the puts in one store revision at raft index `index`.
    fn apply(store: &KvStore, index: u64, batch: WriteBatch, puts: &[PutRequest]) {
        let mut txn = store.write(index);
        for p in puts {
            txn.put(p).unwrap();
        }
        txn.batch_mut().append(batch);
        txn.commit().unwrap();
    }

    #[test]
    fn rebuilds_leases_and_attached_keys() {
        let backend: Arc<dyn Backend> = Arc::new(MemBackend::new());
        let store = KvStore::open(backend.clone()).unwrap();
        let leader = Lessor::new(5, Duration::from_secs(60));
        let mut batch = WriteBatch::default();
        for (id, ttl) in [(1, 10), (2, 600), (3, 30), (-4, 50)] {
            leader.grant(id, ttl, &mut batch).unwrap();
        }
        leader.checkpoint(2, 300, &mut batch).unwrap();
        apply(
            &store,
            1,
            batch,
            &[
                put("a", 1),
                put("b", 2),
                put("c", 1),
                put("d", 0),
                put("e", 3),
                put("z", 99),
            ],
        );
        let mut batch = WriteBatch::default();
        leader.revoke(3, &mut batch).unwrap();
        let mut txn = store.write(2);
        txn.delete_range(&DeleteRangeRequest {
            key: Bytes::from_static(b"c"),
            ..Default::default()
        })
        .unwrap();
        txn.delete_range(&DeleteRangeRequest {
            key: Bytes::from_static(b"e"),
            ..Default::default()
        })
        .unwrap();
        txn.batch_mut().append(batch);
        txn.commit().unwrap();
        apply(
            &store,
            3,
            WriteBatch::default(),
            &[put("f", -4), put("g", 1)],
        );

        // A member with stale state, currently primary, recovers from the backend.
        let member = Lessor::new(5, Duration::from_secs(60));
        member.grant(7, 10, &mut WriteBatch::default()).unwrap();
        member.promote(Duration::ZERO);
        member.recover(&*backend, &store).unwrap();
        assert!(!member.is_primary());
        assert_eq!(member.leases(), vec![-4, 1, 2]);
        let one = member.time_to_live(1, true).unwrap();
        assert_eq!(one.keys, vec![b"a".to_vec(), b"g".to_vec()]);
        assert_eq!((one.granted_ttl, one.remaining), (10, 10));
        let two = member.time_to_live(2, true).unwrap();
        assert_eq!(two.keys, vec![b"b".to_vec()]);
        assert_eq!((two.ttl, two.granted_ttl, two.remaining), (300, 600, 300));
        assert_eq!(
            member.time_to_live(-4, true).unwrap().keys,
            vec![b"f".to_vec()]
        );
        assert_eq!(member.lease_of(b"z"), None);
        assert_eq!(member.lease_of(b"d"), None);
        assert_eq!(
            member.revoke(1, &mut WriteBatch::default()).unwrap(),
            vec![b"a".to_vec(), b"g".to_vec()]
        );
    }

    #[test]
    fn a_corrupt_record_fails_and_changes_nothing() {
        let backend: Arc<dyn Backend> = Arc::new(MemBackend::new());
        let store = KvStore::open(backend.clone()).unwrap();
        let mut batch = WriteBatch::default();
        batch.put(Bucket::Lease, 5u64.to_be_bytes(), vec![0xff, 0xff, 0xff]);
        backend.write(batch).unwrap();
        let member = Lessor::new(5, Duration::from_secs(60));
        member.grant(7, 10, &mut WriteBatch::default()).unwrap();
        let err = member.recover(&*backend, &store).unwrap_err();
        assert!(matches!(err, LeaseError::Corrupt { ref key, .. } if key == &5u64.to_be_bytes()));
        assert_eq!(member.leases(), vec![7]);
    }
}
