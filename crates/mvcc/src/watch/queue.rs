//! The bounded queue of one watch stream: every watcher of the stream delivers into it
//! and the stream's consumer drains it. Event deliveries are refused when it is full
//! (the watcher then falls back to catching up from history); control answers (created,
//! canceled, compacted, requested progress) always go in, so their order is kept.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::kick::Kick;
use super::metrics::PENDING_EVENTS_TOTAL;
use super::update::{UpdateKind, WatchUpdate};

/// How many control answers beyond the capacity may wait before the stream stops taking
/// requests (etcd's control channel holds 16).
const CONTROL_SLACK: usize = 16;

#[derive(Debug, Default)]
struct State {
    items: VecDeque<WatchUpdate>,
    recv_waker: Option<Waker>,
    room_waker: Option<Waker>,
    /// A delivery was refused since the queue was last below capacity: the sync thread
    /// is kicked once there is room again.
    refused: bool,
}

#[derive(Debug)]
pub(crate) struct Queue {
    state: Mutex<State>,
    arrived: Condvar,
    capacity: usize,
    kick: Arc<Kick>,
}

impl Queue {
    pub(crate) fn new(capacity: usize, kick: Arc<Kick>) -> Queue {
        Queue {
            state: Mutex::new(State::default()),
            arrived: Condvar::new(),
            capacity: capacity.max(1),
            kick,
        }
    }

    /// Whether an event delivery would be taken now. When not, the sync thread is
    /// kicked once there is room again.
    pub(crate) fn has_room(&self) -> bool {
        let mut st = self.state.lock();
        let room = st.items.len() < self.capacity;
        st.refused |= !room;
        room
    }

    /// Queues an event delivery or progress notification unless the queue is full.
    pub(crate) fn try_push(&self, update: WatchUpdate) -> bool {
        let mut st = self.state.lock();
        if st.items.len() >= self.capacity {
            st.refused = true;
            return false;
        }
        self.push_locked(&mut st, update);
        true
    }

    /// Queues a control answer, full or not.
    pub(crate) fn push_control(&self, update: WatchUpdate) {
        let mut st = self.state.lock();
        self.push_locked(&mut st, update);
    }

    fn push_locked(&self, st: &mut State, update: WatchUpdate) {
        let n = update.event_count();
        if n > 0 {
            metrics::gauge!(PENDING_EVENTS_TOTAL).increment(n as f64);
        }
        st.items.push_back(update);
        if let Some(w) = st.recv_waker.take() {
            w.wake();
        }
        self.arrived.notify_one();
    }

    /// Drops the queued events and progress notifications of `watch_id` (it was canceled).
    pub(crate) fn purge(&self, watch_id: i64) {
        let mut st = self.state.lock();
        let mut dropped = 0;
        st.items.retain(|u| {
            let stale = u.watch_id == watch_id
                && matches!(u.kind, UpdateKind::Events { .. } | UpdateKind::Progress);
            if stale {
                dropped += u.event_count();
            }
            !stale
        });
        if dropped > 0 {
            metrics::gauge!(PENDING_EVENTS_TOTAL).decrement(dropped as f64);
        }
    }

    pub(crate) fn try_pop(&self) -> Option<WatchUpdate> {
        let mut st = self.state.lock();
        self.pop_locked(&mut st)
    }

    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<WatchUpdate> {
        let mut st = self.state.lock();
        match self.pop_locked(&mut st) {
            Some(u) => Poll::Ready(u),
            None => {
                st.recv_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    pub(crate) fn pop_timeout(&self, timeout: Duration) -> Option<WatchUpdate> {
        let deadline = Instant::now() + timeout;
        let mut st = self.state.lock();
        loop {
            if let Some(u) = self.pop_locked(&mut st) {
                return Some(u);
            }
            if self.arrived.wait_until(&mut st, deadline).timed_out() {
                return self.pop_locked(&mut st);
            }
        }
    }

    /// Ready while fewer than capacity + a little slack answers wait to be consumed: a
    /// client that sends requests but does not read its answers is not served further.
    pub(crate) fn poll_room_for_requests(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.state.lock();
        if st.items.len() < self.capacity + CONTROL_SLACK {
            Poll::Ready(())
        } else {
            st.room_waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    fn pop_locked(&self, st: &mut State) -> Option<WatchUpdate> {
        let u = st.items.pop_front()?;
        let n = u.event_count();
        if n > 0 {
            metrics::gauge!(PENDING_EVENTS_TOTAL).decrement(n as f64);
        }
        if st.items.len() < self.capacity + CONTROL_SLACK
            && let Some(w) = st.room_waker.take()
        {
            w.wake();
        }
        if st.refused && st.items.len() < self.capacity {
            st.refused = false;
            self.kick.kick();
        }
        Some(u)
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        let n: usize = self
            .state
            .get_mut()
            .items
            .iter()
            .map(|u| u.event_count())
            .sum();
        if n > 0 {
            metrics::gauge!(PENDING_EVENTS_TOTAL).decrement(n as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(id: i64, kind: UpdateKind) -> WatchUpdate {
        WatchUpdate {
            watch_id: id,
            revision: 1,
            kind,
        }
    }

    fn events(id: i64) -> WatchUpdate {
        update(
            id,
            UpdateKind::Events {
                events: vec![Default::default()],
                fragment: false,
            },
        )
    }

    #[test]
    fn refuses_events_when_full_but_keeps_control_answers_in_order() {
        let kick = Arc::new(Kick::default());
        let q = Queue::new(2, kick.clone());
        assert!(q.try_push(events(1)));
        assert!(q.try_push(events(2)));
        assert!(!q.has_room());
        assert!(!q.try_push(events(1)));
        q.push_control(update(1, UpdateKind::Canceled));
        q.purge(1);
        assert_eq!(q.try_pop(), Some(events(2)));
        assert_eq!(q.try_pop(), Some(update(1, UpdateKind::Canceled)));
        assert_eq!(q.try_pop(), None);
        // The refused delivery kicked the sync thread once there was room.
        let t = Instant::now();
        kick.wait(Duration::from_secs(10));
        assert!(t.elapsed() < Duration::from_secs(5));
        assert_eq!(q.pop_timeout(Duration::from_millis(5)), None);
    }
}
