//! The lessor handle: construction, configuration and the read-only queries.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::state::State;
use crate::{Clock, DEFAULT_CHECKPOINT_INTERVAL, LeaseId, LeaseInfo, MonotonicClock};

/// etcd's lessor. `Send + Sync`; every method takes the one internal lock briefly.
///
/// The methods applied through raft (`grant`, `revoke`, `checkpoint`, `attach`,
/// `detach`, `recover`) change the same state on every member. Expiry, renewal and
/// checkpoint scheduling exist only between [`Lessor::promote`] and
/// [`Lessor::demote`] (on the leader).
pub struct Lessor {
    pub(crate) state: Mutex<State>,
    pub(crate) clock: Arc<dyn Clock>,
    /// etcd's minLeaseTTL, seconds.
    pub(crate) min_ttl: i64,
    /// How long after a checkpoint (or the countdown's start) the next one is due.
    pub(crate) checkpoint_interval: Duration,
}

impl std::fmt::Debug for Lessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Lessor")
            .field("leases", &st.leases.len())
            .field("primary", &st.primary)
            .field("min_ttl", &self.min_ttl)
            .field("checkpoint_interval", &self.checkpoint_interval)
            .finish_non_exhaustive()
    }
}

impl Lessor {
    /// `min_ttl`: etcd's minimum lease TTL in seconds (the server computes it from the
    /// election timeout: ceil(1.5 × election timeout)). `checkpoint_interval`: how often
    /// the primary proposes checkpoints; zero means etcd's default (5 minutes).
    pub fn new(min_ttl: i64, checkpoint_interval: Duration) -> Lessor {
        Lessor::with_clock(min_ttl, checkpoint_interval, Arc::new(MonotonicClock))
    }

    /// Like [`Lessor::new`] with time taken from `clock` (e.g. a [`crate::ManualClock`]).
    pub fn with_clock(
        min_ttl: i64,
        checkpoint_interval: Duration,
        clock: Arc<dyn Clock>,
    ) -> Lessor {
        let checkpoint_interval = if checkpoint_interval.is_zero() {
            DEFAULT_CHECKPOINT_INTERVAL
        } else {
            checkpoint_interval
        };
        Lessor {
            state: Mutex::new(State::default()),
            clock,
            min_ttl,
            checkpoint_interval,
        }
    }

    pub fn min_ttl(&self) -> i64 {
        self.min_ttl
    }

    pub fn checkpoint_interval(&self) -> Duration {
        self.checkpoint_interval
    }

    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The lease's TTLs and, if `with_keys`, its keys (ascending); None if unknown.
    pub fn time_to_live(&self, id: LeaseId, with_keys: bool) -> Option<LeaseInfo> {
        let now = self.now();
        self.state.lock().info(id, now, with_keys)
    }

    /// Every lease id, ascending.
    pub fn leases(&self) -> Vec<LeaseId> {
        self.state.lock().leases.keys().copied().collect()
    }

    pub fn len(&self) -> usize {
        self.state.lock().leases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.lock().leases.is_empty()
    }

    pub fn exists(&self, id: LeaseId) -> bool {
        self.state.lock().leases.contains_key(&id)
    }

    /// The lease `key` is attached to, if any.
    pub fn lease_of(&self, key: &[u8]) -> Option<LeaseId> {
        self.state.lock().owners.get(key).copied()
    }
}

/// The server shares one lessor between its apply thread and its request handlers.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Lessor>();
};
