//! The changes applied through raft: the same on every member, written to the backend
//! in the caller's batch.

use etcd_mvcc::WriteBatch;

use crate::lease::Lease;
use crate::record;
use crate::{LeaseError, LeaseId, LeaseInfo, Lessor, MAX_LEASE_TTL, NO_LEASE};

impl Lessor {
    /// Grants lease `id` for `ttl` seconds (raised to the minimum TTL). Errors:
    /// NotFound for [`NO_LEASE`] (as etcd), TtlTooLarge above [`MAX_LEASE_TTL`],
    /// LeaseExists for a known id. On the primary the countdown starts now. A grant is
    /// observed in [`crate::LEASE_TTL_METRIC`].
    pub fn grant(
        &self,
        id: LeaseId,
        ttl: i64,
        batch: &mut WriteBatch,
    ) -> Result<LeaseInfo, LeaseError> {
        if id == NO_LEASE {
            return Err(LeaseError::NotFound);
        }
        if ttl > MAX_LEASE_TTL {
            return Err(LeaseError::TtlTooLarge);
        }
        let ttl = ttl.max(self.min_ttl);
        let now = self.now();
        let mut st = self.state.lock();
        if st.leases.contains_key(&id) {
            return Err(LeaseError::LeaseExists);
        }
        st.leases.insert(id, Lease::new(ttl, 0));
        if st.primary {
            st.start_countdown(id, now, std::time::Duration::ZERO, self.checkpoint_interval);
        }
        record::put(batch, id, ttl, 0);
        metrics::histogram!(crate::LEASE_TTL_METRIC).record(ttl as f64);
        st.info(id, now, false).ok_or(LeaseError::NotFound)
    }

    /// Removes lease `id` (NotFound if unknown) and returns its keys, ascending, for the
    /// caller to delete in the same revision.
    pub fn revoke(&self, id: LeaseId, batch: &mut WriteBatch) -> Result<Vec<Vec<u8>>, LeaseError> {
        let lease = self.state.lock().remove(id).ok_or(LeaseError::NotFound)?;
        record::delete(batch, id);
        Ok(lease.keys.iter().map(|k| k.to_vec()).collect())
    }

    /// Records `remaining_ttl` (a LeaseCheckpointRequest; 0 clears it) so a new primary
    /// resumes the countdown from there. An unknown lease is ignored, as etcd does (it
    /// may have been revoked after the checkpoint was proposed). The expiry on the
    /// primary is unchanged.
    pub fn checkpoint(
        &self,
        id: LeaseId,
        remaining_ttl: i64,
        batch: &mut WriteBatch,
    ) -> Result<(), LeaseError> {
        let now = self.now();
        let mut st = self.state.lock();
        let Some(lease) = st.leases.get_mut(&id) else {
            return Ok(());
        };
        lease.remaining_ttl = remaining_ttl.max(0);
        record::put(batch, id, lease.ttl, lease.remaining_ttl);
        if st.primary {
            st.schedule_checkpoint(id, now, self.checkpoint_interval);
        }
        Ok(())
    }

    /// Attaches `key` to lease `id` (a put with that lease). A key is attached to one
    /// lease at a time: it moves off any previous lease. Unknown leases are ignored.
    pub fn attach(&self, id: LeaseId, key: &[u8]) {
        if id != NO_LEASE {
            self.state.lock().attach(id, key);
        }
    }

    /// Detaches `key` from lease `id` (a delete, or an overwrite without that lease);
    /// no effect unless the key is attached to `id`.
    pub fn detach(&self, id: LeaseId, key: &[u8]) {
        if id != NO_LEASE {
            self.state.lock().detach(id, key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etcd_mvcc::{BatchOp, Bucket};
    use std::time::Duration;

    fn lessor() -> Lessor {
        Lessor::new(5, Duration::from_secs(300))
    }

    #[test]
    fn grant_raises_to_min_ttl_and_rejects_bad_requests() {
        let l = lessor();
        let mut b = WriteBatch::default();
        let info = l.grant(1, 2, &mut b).unwrap();
        assert_eq!(
            info,
            LeaseInfo {
                id: 1,
                ttl: 5,
                granted_ttl: 5,
                remaining: 5,
                keys: vec![]
            }
        );
        assert_eq!(l.grant(2, 60, &mut b).unwrap().granted_ttl, 60);
        assert_eq!(b.len(), 2);
        assert!(matches!(
            l.grant(1, 60, &mut b),
            Err(LeaseError::LeaseExists)
        ));
        assert!(matches!(
            l.grant(3, MAX_LEASE_TTL + 1, &mut b),
            Err(LeaseError::TtlTooLarge)
        ));
        assert_eq!(
            l.grant(3, MAX_LEASE_TTL, &mut b).unwrap().ttl,
            MAX_LEASE_TTL
        );
        assert!(matches!(
            l.grant(NO_LEASE, 60, &mut b),
            Err(LeaseError::NotFound)
        ));
        assert_eq!(b.len(), 3, "failed grants write nothing");
        assert_eq!(l.leases(), vec![1, 2, 3]);
        assert_eq!(l.len(), 3);
        assert!(l.exists(2) && !l.exists(4));
    }

    #[test]
    fn revoke_returns_attached_keys_in_order() {
        let l = lessor();
        let mut b = WriteBatch::default();
        l.grant(1, 10, &mut b).unwrap();
        l.grant(2, 10, &mut b).unwrap();
        l.attach(1, b"zeta");
        l.attach(1, b"alpha");
        l.attach(2, b"mid");
        l.attach(1, b"mid"); // overwrite with another lease
        l.attach(9, b"ignored");
        l.attach(NO_LEASE, b"none");
        l.detach(1, b"zeta");
        assert_eq!(l.lease_of(b"mid"), Some(1));
        assert_eq!(l.lease_of(b"ignored"), None);
        assert_eq!(
            l.time_to_live(1, true).unwrap().keys,
            vec![b"alpha".to_vec(), b"mid".to_vec()]
        );
        assert!(l.time_to_live(2, true).unwrap().keys.is_empty());
        assert!(l.time_to_live(1, false).unwrap().keys.is_empty());

        let mut b = WriteBatch::default();
        assert_eq!(
            l.revoke(1, &mut b).unwrap(),
            vec![b"alpha".to_vec(), b"mid".to_vec()]
        );
        assert_eq!(
            b.ops(),
            &[BatchOp::Delete {
                bucket: Bucket::Lease,
                key: 1u64.to_be_bytes().to_vec()
            }]
        );
        assert_eq!(l.lease_of(b"mid"), None);
        assert!(matches!(l.revoke(1, &mut b), Err(LeaseError::NotFound)));
        assert!(l.time_to_live(1, false).is_none());
        assert_eq!(l.leases(), vec![2]);
    }

    #[test]
    fn checkpoint_records_remaining_ttl() {
        let l = lessor();
        let mut b = WriteBatch::default();
        l.grant(1, 600, &mut b).unwrap();
        let mut b = WriteBatch::default();
        l.checkpoint(1, 420, &mut b).unwrap();
        l.checkpoint(77, 10, &mut b).unwrap(); // unknown: ignored
        assert_eq!(b.len(), 1);
        let info = l.time_to_live(1, false).unwrap();
        assert_eq!(
            (info.ttl, info.granted_ttl, info.remaining),
            (420, 600, 420)
        );
        l.checkpoint(1, 0, &mut b).unwrap();
        let info = l.time_to_live(1, false).unwrap();
        assert_eq!((info.ttl, info.remaining), (600, 600));
    }
}
