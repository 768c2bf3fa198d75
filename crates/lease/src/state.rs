//! Everything the lessor guards with its one lock, and the bookkeeping that keeps its
//! parts consistent.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::lease::{Lease, after, secs};
use crate::queue::DeadlineQueue;
use crate::{LeaseId, LeaseInfo};

/// The lessor's state.
///
/// Invariants: a key is in `owners` under id iff it is in `leases[id].keys`; the queues
/// hold only leases that exist and only while `primary` (see [`DeadlineQueue`] for the
/// slots); off the primary every `expiry` is None.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) leases: BTreeMap<LeaseId, Lease>,
    pub(crate) owners: HashMap<Arc<[u8]>, LeaseId>,
    pub(crate) primary: bool,
    pub(crate) expiries: DeadlineQueue,
    pub(crate) checkpoints: DeadlineQueue,
}

impl State {
    /// Attaches `key` to lease `id` (moving it off any other lease); ignored for an
    /// unknown lease.
    pub(crate) fn attach(&mut self, id: LeaseId, key: &[u8]) {
        if !self.leases.contains_key(&id) {
            return;
        }
        match self.owners.get(key) {
            Some(&owner) if owner == id => return,
            Some(&owner) => {
                if let Some(old) = self.leases.get_mut(&owner) {
                    old.keys.remove(key);
                }
            }
            None => {}
        }
        let key: Arc<[u8]> = Arc::from(key);
        self.owners.insert(key.clone(), id);
        if let Some(lease) = self.leases.get_mut(&id) {
            lease.keys.insert(key);
        }
    }

    /// Detaches `key` from lease `id`; nothing happens unless it is attached to `id`.
    pub(crate) fn detach(&mut self, id: LeaseId, key: &[u8]) {
        if self.owners.get(key) != Some(&id) {
            return;
        }
        self.owners.remove(key);
        if let Some(lease) = self.leases.get_mut(&id) {
            lease.keys.remove(key);
        }
    }

    /// Removes lease `id` with its queue entries and key ownership; returns it.
    pub(crate) fn remove(&mut self, id: LeaseId) -> Option<Lease> {
        let mut lease = self.leases.remove(&id)?;
        self.expiries.cancel(&mut lease.expiry_slot, id);
        self.checkpoints.cancel(&mut lease.checkpoint_slot, id);
        for key in &lease.keys {
            self.owners.remove(key);
        }
        Some(lease)
    }

    /// Sets lease `id` to expire at `at` and queues it.
    pub(crate) fn set_expiry(&mut self, id: LeaseId, at: Instant) {
        if let Some(lease) = self.leases.get_mut(&id) {
            lease.expiry = Some(at);
            self.expiries.set(&mut lease.expiry_slot, id, at);
        }
    }

    /// On the primary: starts lease `id` counting down from `now + extend` and schedules
    /// its checkpoints.
    pub(crate) fn start_countdown(
        &mut self,
        id: LeaseId,
        now: Instant,
        extend: Duration,
        interval: Duration,
    ) {
        let Some(lease) = self.leases.get(&id) else {
            return;
        };
        let at = after(now, extend.saturating_add(secs(lease.countdown_ttl())));
        self.set_expiry(id, at);
        self.schedule_checkpoint(id, now, interval);
    }

    /// Schedules the next checkpoint of lease `id` one interval from `now`, if the lease
    /// lives longer than an interval and none is scheduled.
    pub(crate) fn schedule_checkpoint(&mut self, id: LeaseId, now: Instant, interval: Duration) {
        let Some(lease) = self.leases.get_mut(&id) else {
            return;
        };
        if lease.checkpoint_slot.is_none() && secs(lease.ttl) > interval {
            self.checkpoints
                .set(&mut lease.checkpoint_slot, id, after(now, interval));
        }
    }

    /// Forgets all expiries and schedules (not primary any more).
    pub(crate) fn stop_countdowns(&mut self) {
        self.primary = false;
        self.expiries.clear();
        self.checkpoints.clear();
        for lease in self.leases.values_mut() {
            lease.expiry = None;
            lease.expiry_slot = None;
            lease.checkpoint_slot = None;
            lease.reset_pending = false;
        }
    }

    pub(crate) fn info(&self, id: LeaseId, now: Instant, with_keys: bool) -> Option<LeaseInfo> {
        let lease = self.leases.get(&id)?;
        Some(LeaseInfo {
            id,
            ttl: lease.countdown_ttl(),
            granted_ttl: lease.ttl,
            remaining: lease.remaining_secs(now),
            keys: if with_keys {
                lease.keys.iter().map(|k| k.to_vec()).collect()
            } else {
                Vec::new()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(st: &State, id: LeaseId) -> Vec<Vec<u8>> {
        st.leases[&id].keys.iter().map(|k| k.to_vec()).collect()
    }

    #[test]
    fn a_key_belongs_to_one_lease_at_a_time() {
        let mut st = State::default();
        st.leases.insert(1, Lease::new(10, 0));
        st.leases.insert(2, Lease::new(10, 0));
        st.attach(1, b"a");
        st.attach(1, b"b");
        st.attach(1, b"a");
        st.attach(3, b"c"); // unknown lease: ignored
        assert_eq!(keys(&st, 1), vec![b"a".to_vec(), b"b".to_vec()]);
        st.attach(2, b"a"); // overwrite with another lease moves it
        assert_eq!(keys(&st, 1), vec![b"b".to_vec()]);
        assert_eq!(keys(&st, 2), vec![b"a".to_vec()]);
        st.detach(1, b"a"); // not attached to 1: no effect
        assert_eq!(keys(&st, 2), vec![b"a".to_vec()]);
        st.detach(2, b"a");
        assert!(keys(&st, 2).is_empty());
        assert_eq!(st.owners.len(), 1);
        let removed = st.remove(1).unwrap();
        assert_eq!(removed.keys.len(), 1);
        assert!(st.owners.is_empty());
        assert!(st.remove(1).is_none());
    }
}
