//! One lease in memory, and the time arithmetic on its expiry.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The in-memory state of a lease.
#[derive(Debug)]
pub(crate) struct Lease {
    /// Granted TTL in seconds (already raised to the minimum).
    pub(crate) ttl: i64,
    /// Last checkpointed remaining TTL in seconds; 0 = none. Changed only through raft.
    pub(crate) remaining_ttl: i64,
    /// Attached keys; each key is attached to at most one lease (see `State::owners`).
    pub(crate) keys: BTreeSet<Arc<[u8]>>,
    /// When the lease expires; None = never (always None off the primary).
    pub(crate) expiry: Option<Instant>,
    /// This lease's entry in the expiry queue: the expiry, or a retry time after it was
    /// reported expired.
    pub(crate) expiry_slot: Option<Instant>,
    /// This lease's entry in the checkpoint schedule.
    pub(crate) checkpoint_slot: Option<Instant>,
    /// A renewal on the primary wants the recorded remaining TTL cleared (a checkpoint of 0).
    pub(crate) reset_pending: bool,
}

impl Lease {
    pub(crate) fn new(ttl: i64, remaining_ttl: i64) -> Lease {
        Lease {
            ttl,
            remaining_ttl,
            keys: BTreeSet::new(),
            expiry: None,
            expiry_slot: None,
            checkpoint_slot: None,
            reset_pending: false,
        }
    }

    /// The TTL the countdown starts from on promotion (etcd's getRemainingTTL).
    pub(crate) fn countdown_ttl(&self) -> i64 {
        if self.remaining_ttl > 0 {
            self.remaining_ttl
        } else {
            self.ttl
        }
    }

    pub(crate) fn is_expired(&self, now: Instant) -> bool {
        self.expiry.is_some_and(|e| e <= now)
    }

    /// Seconds left, rounded up; -1 once expired; `countdown_ttl` when not counting down.
    pub(crate) fn remaining_secs(&self, now: Instant) -> i64 {
        match self.expiry {
            None => self.countdown_ttl(),
            Some(e) if e <= now => -1,
            Some(e) => ceil_secs(e - now),
        }
    }
}

/// Whole seconds in `d`, rounded up.
pub(crate) fn ceil_secs(d: Duration) -> i64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// A duration of `secs` seconds; negative counts as zero.
pub(crate) fn secs(secs: i64) -> Duration {
    Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

/// `at + d`, saturating instead of overflowing (far enough to mean "not in our lifetime").
pub(crate) fn after(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(Duration::from_secs(u64::from(u32::MAX))))
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_rounds_up_and_is_minus_one_when_expired() {
        let now = Instant::now();
        let mut l = Lease::new(10, 0);
        assert_eq!(l.remaining_secs(now), 10);
        l.remaining_ttl = 4;
        assert_eq!(l.countdown_ttl(), 4);
        assert_eq!(l.remaining_secs(now), 4);
        l.expiry = Some(now + Duration::from_millis(2100));
        assert_eq!(l.remaining_secs(now), 3);
        assert!(!l.is_expired(now));
        l.expiry = Some(now + Duration::from_secs(2));
        assert_eq!(l.remaining_secs(now), 2);
        assert_eq!(l.remaining_secs(now + Duration::from_secs(2)), -1);
        assert!(l.is_expired(now + Duration::from_secs(2)));
        assert_eq!(secs(-3), Duration::ZERO);
        assert!(after(now, secs(crate::MAX_LEASE_TTL)) > now);
        assert!(after(now, Duration::MAX) > now);
    }
}
