//! Lease ids ordered by a deadline: the expiry queue and the checkpoint schedule.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::LeaseId;

/// A min-queue of `(deadline, id)`. Each lease keeps its own entry's deadline in a
/// `slot`; the invariant is `slot == Some(at)` iff `(at, id)` is queued, so an id is
/// queued at most once and moving or cancelling it is O(log n).
#[derive(Debug, Default)]
pub(crate) struct DeadlineQueue {
    entries: BTreeSet<(Instant, LeaseId)>,
}

impl DeadlineQueue {
    /// Queues `id` at `at`, replacing its previous entry.
    pub(crate) fn set(&mut self, slot: &mut Option<Instant>, id: LeaseId, at: Instant) {
        self.cancel(slot, id);
        self.entries.insert((at, id));
        *slot = Some(at);
    }

    /// Removes `id`'s entry, if queued.
    pub(crate) fn cancel(&mut self, slot: &mut Option<Instant>, id: LeaseId) {
        if let Some(old) = slot.take() {
            self.entries.remove(&(old, id));
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`. The caller must
    /// clear the popped lease's slot.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<LeaseId> {
        let &(at, _) = self.entries.first()?;
        if at > now {
            return None;
        }
        self.entries.pop_first().map(|(_, id)| id)
    }

    /// Empties the queue; the caller must clear every slot.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_due_entries_in_deadline_order() {
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        let mut q = DeadlineQueue::default();
        let (mut s1, mut s2, mut s3) = (None, None, None);
        q.set(&mut s1, 1, at(5));
        q.set(&mut s2, 2, at(3));
        q.set(&mut s3, 3, at(9));
        q.set(&mut s1, 1, at(1)); // moved, not duplicated
        assert_eq!(q.len(), 3);
        q.cancel(&mut s3, 3);
        assert_eq!(s3, None);
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop_due(at(0)), None);
        assert_eq!(q.pop_due(at(4)), Some(1));
        assert_eq!(q.pop_due(at(4)), Some(2));
        assert_eq!(q.pop_due(at(100)), None);
        q.set(&mut s3, 3, at(2));
        q.clear();
        assert_eq!(q.len(), 0);
    }
}
