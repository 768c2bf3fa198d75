//! What only the primary (the leader) does: count leases down, renew them, report the
//! expired ones and the checkpoints due.

use std::time::Duration;

use crate::lease::{after, ceil_secs, secs};
use crate::spread::spread;
use crate::{EXPIRED_RETRY_INTERVAL, LEASE_REVOKE_RATE, LeaseError, LeaseId, Lessor};

impl Lessor {
    /// Becomes primary: every lease expires at now + `extend` + its remaining TTL (the
    /// checkpointed one if recorded, else its TTL), with piled-up expiries spread out as
    /// etcd does. Checkpoints are scheduled for leases longer than the interval.
    pub fn promote(&self, extend: Duration) {
        let now = self.now();
        let interval = self.checkpoint_interval;
        let mut st = self.state.lock();
        st.stop_countdowns();
        st.primary = true;
        let mut expiries: Vec<_> = st
            .leases
            .iter()
            .map(|(&id, l)| {
                (
                    after(now, extend.saturating_add(secs(l.countdown_ttl()))),
                    id,
                )
            })
            .collect();
        if expiries.len() >= LEASE_REVOKE_RATE {
            spread(&mut expiries, now);
        }
        for (at, id) in expiries {
            st.set_expiry(id, at);
            st.schedule_checkpoint(id, now, interval);
        }
    }

    /// Stops being primary: nothing expires, renews or checkpoints until promoted again.
    pub fn demote(&self) {
        self.state.lock().stop_countdowns();
    }

    pub fn is_primary(&self) -> bool {
        self.state.lock().primary
    }

    /// Renews lease `id` (a keep-alive): its expiry becomes now + its TTL, which is
    /// returned. NotPrimary on a follower (the caller forwards to the leader); NotFound
    /// for an unknown lease and for one already expired (etcd waits for that lease's
    /// revoke and then answers NotFound; this answers at once). If a remaining TTL is
    /// recorded, a checkpoint of 0 becomes due at once to clear it.
    pub fn renew(&self, id: LeaseId) -> Result<i64, LeaseError> {
        let now = self.now();
        let mut st = self.state.lock();
        if !st.primary {
            return Err(LeaseError::NotPrimary);
        }
        let lease = st.leases.get(&id).ok_or(LeaseError::NotFound)?;
        if lease.is_expired(now) {
            return Err(LeaseError::NotFound);
        }
        let ttl = lease.ttl;
        let clear_remaining = lease.remaining_ttl > 0;
        st.set_expiry(id, after(now, secs(ttl)));
        if clear_remaining {
            let st = &mut *st;
            if let Some(lease) = st.leases.get_mut(&id) {
                lease.reset_pending = true;
                st.checkpoints.set(&mut lease.checkpoint_slot, id, now);
            }
        }
        Ok(ttl)
    }

    /// Up to `limit` leases whose expiry has passed, earliest first. Each one returned is
    /// not returned again for [`EXPIRED_RETRY_INTERVAL`] (or at all once its revoke
    /// applies), so the caller proposes one revoke per expiry and retries lost ones.
    /// Costs O(returned · log n). Empty off the primary.
    pub fn expired(&self, limit: usize) -> Vec<LeaseId> {
        let now = self.now();
        let retry_at = after(now, EXPIRED_RETRY_INTERVAL);
        let mut st = self.state.lock();
        let st = &mut *st;
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(id) = st.expiries.pop_due(now) else {
                break;
            };
            let Some(lease) = st.leases.get_mut(&id) else {
                continue;
            };
            lease.expiry_slot = None;
            // The slot is re-queued after `now`, so this loop cannot pop it again.
            st.expiries.set(&mut lease.expiry_slot, id, retry_at);
            out.push(id);
        }
        out
    }

    /// Up to `limit` checkpoints due, as `(id, remaining_ttl_secs)` for a
    /// LeaseCheckpointRequest: leases whose remaining TTL (rounded up) is below their
    /// TTL and differs from the one recorded, one interval after the countdown started
    /// or the last check, plus `(id, 0)` for renewed leases whose recorded remaining TTL
    /// must be cleared. Each lease is checked again one interval later. Empty off the
    /// primary.
    pub fn checkpoints_due(&self, limit: usize) -> Vec<(LeaseId, i64)> {
        let now = self.now();
        let interval = self.checkpoint_interval;
        let next_at = after(now, interval);
        let mut st = self.state.lock();
        let st = &mut *st;
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(id) = st.checkpoints.pop_due(now) else {
                break;
            };
            let Some(lease) = st.leases.get_mut(&id) else {
                continue;
            };
            lease.checkpoint_slot = None;
            if lease.reset_pending {
                lease.reset_pending = false;
                out.push((id, 0));
            } else if let Some(expiry) = lease.expiry.filter(|&e| e > now) {
                let remaining = ceil_secs(expiry - now);
                if remaining < lease.ttl && remaining != lease.remaining_ttl {
                    out.push((id, remaining));
                }
            }
            if secs(lease.ttl) > interval {
                // Queued after `now` (the interval is never zero): not popped again here.
                st.checkpoints.set(&mut lease.checkpoint_slot, id, next_at);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use etcd_mvcc::WriteBatch;
    use std::sync::Arc;

    const SEC: Duration = Duration::from_secs(1);

    fn setup(interval_secs: u64) -> (Arc<ManualClock>, Lessor) {
        let clock = Arc::new(ManualClock::new());
        let l = Lessor::with_clock(5, Duration::from_secs(interval_secs), clock.clone());
        (clock, l)
    }

    fn grant(l: &Lessor, id: LeaseId, ttl: i64) {
        l.grant(id, ttl, &mut WriteBatch::default()).unwrap();
    }

    #[test]
    fn followers_never_expire_or_renew() {
        let (clock, l) = setup(300);
        grant(&l, 1, 10);
        clock.advance(SEC * 1000);
        assert!(!l.is_primary());
        assert!(l.expired(10).is_empty());
        assert!(matches!(l.renew(1), Err(LeaseError::NotPrimary)));
        assert_eq!(l.time_to_live(1, false).unwrap().remaining, 10);
    }

    #[test]
    fn promote_extends_and_expired_respects_limit_and_retry() {
        let (clock, l) = setup(300);
        grant(&l, 1, 10);
        grant(&l, 2, 20);
        grant(&l, 3, 10);
        l.promote(SEC * 2);
        assert!(l.is_primary());
        assert_eq!(l.time_to_live(1, false).unwrap().remaining, 12);
        clock.advance(SEC * 11);
        assert!(l.expired(10).is_empty());
        assert_eq!(l.time_to_live(1, false).unwrap().remaining, 1);
        clock.advance(SEC);
        assert_eq!(l.time_to_live(1, false).unwrap().remaining, -1);
        assert_eq!(l.expired(1), vec![1]);
        assert_eq!(l.expired(10), vec![3], "1 is not returned twice");
        assert!(l.expired(10).is_empty());
        assert!(matches!(l.renew(1), Err(LeaseError::NotFound)));
        clock.advance(EXPIRED_RETRY_INTERVAL);
        assert_eq!(l.expired(10), vec![1, 3], "retried after the interval");
        l.revoke(1, &mut WriteBatch::default()).unwrap();
        clock.advance(EXPIRED_RETRY_INTERVAL);
        assert_eq!(l.expired(10), vec![3], "a revoked lease is gone");
        assert!(l.expired(0).is_empty());
    }

    #[test]
    fn renew_pushes_expiry_back() {
        let (clock, l) = setup(300);
        grant(&l, 1, 10);
        l.promote(Duration::ZERO);
        clock.advance(SEC * 9);
        assert_eq!(l.renew(1).unwrap(), 10);
        assert!(matches!(l.renew(42), Err(LeaseError::NotFound)));
        clock.advance(SEC * 9);
        assert!(l.expired(10).is_empty());
        assert_eq!(l.time_to_live(1, false).unwrap().remaining, 1);
        clock.advance(SEC);
        assert_eq!(l.expired(10), vec![1]);
    }

    #[test]
    fn grant_on_primary_counts_down_and_demote_stops_it() {
        let (clock, l) = setup(300);
        l.promote(Duration::ZERO);
        grant(&l, 1, 3); // raised to 5
        clock.advance(Duration::from_millis(4500));
        assert_eq!(l.time_to_live(1, false).unwrap().remaining, 1);
        l.demote();
        assert!(!l.is_primary());
        clock.advance(SEC * 100);
        assert!(l.expired(10).is_empty());
        assert_eq!(l.time_to_live(1, false).unwrap().remaining, 5);
        l.promote(Duration::ZERO);
        clock.advance(SEC * 5);
        assert_eq!(l.expired(10), vec![1]);
    }

    #[test]
    fn checkpoints_resume_on_a_new_primary() {
        let (clock, leader) = setup(60);
        let (_, follower) = setup(60);
        for l in [&leader, &follower] {
            grant(l, 1, 600);
            grant(l, 2, 30); // shorter than the interval: never checkpointed
        }
        leader.promote(Duration::ZERO);
        clock.advance(SEC * 59);
        assert!(leader.checkpoints_due(10).is_empty());
        clock.advance(SEC);
        let due = leader.checkpoints_due(10);
        assert_eq!(due, vec![(1, 540)]);
        assert!(leader.checkpoints_due(10).is_empty(), "not due twice");
        for (id, rem) in due {
            for l in [&leader, &follower] {
                l.checkpoint(id, rem, &mut WriteBatch::default()).unwrap();
            }
        }
        assert_eq!(follower.time_to_live(1, false).unwrap().remaining, 540);
        // The leader fails; the follower takes over and resumes from 540 s.
        follower.promote(SEC * 2);
        assert_eq!(follower.time_to_live(1, false).unwrap().remaining, 542);
        clock.advance(SEC * 60);
        assert_eq!(leader.checkpoints_due(10), vec![(1, 480)]);
    }

    #[test]
    fn renew_clears_a_recorded_remaining_ttl() {
        let (clock, l) = setup(60);
        grant(&l, 1, 600);
        grant(&l, 2, 600);
        l.checkpoint(1, 100, &mut WriteBatch::default()).unwrap();
        l.promote(Duration::ZERO);
        assert_eq!(l.time_to_live(1, false).unwrap().remaining, 100);
        assert_eq!(l.renew(1).unwrap(), 600);
        assert_eq!(l.renew(2).unwrap(), 600);
        assert_eq!(l.time_to_live(1, false).unwrap().remaining, 600);
        assert_eq!(l.checkpoints_due(10), vec![(1, 0)]);
        l.checkpoint(1, 0, &mut WriteBatch::default()).unwrap();
        assert_eq!(l.time_to_live(1, false).unwrap().ttl, 600);
        clock.advance(SEC * 60);
        assert_eq!(l.checkpoints_due(10), vec![(1, 540), (2, 540)]);
        clock.advance(SEC * 60);
        assert_eq!(l.checkpoints_due(1).len(), 1, "limit");
        assert_eq!(l.checkpoints_due(1).len(), 1);
        assert!(l.checkpoints_due(1).is_empty());
    }
}
