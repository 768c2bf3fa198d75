//! State the raft loop and the apply loop publish for request handlers: term, leader,
//! committed and applied index, and the stop signal. Written by one thread each, read by
//! everyone without locks.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;
use tokio::sync::watch;

#[derive(Debug)]
pub struct NodeState {
    pub member_id: u64,
    term: AtomicU64,
    leader: AtomicU64,
    committed: AtomicU64,
    applied: AtomicU64,
    is_learner: AtomicBool,
    /// Applied index, for readers waiting to see their read index applied.
    applied_tx: watch::Sender<u64>,
    /// Current leader (0 = none), for proposals waiting for a leader.
    leader_tx: watch::Sender<u64>,
    /// Set once the member stops, with the reason if it stopped on a fatal error.
    stopped_tx: watch::Sender<bool>,
    /// Set once this member has published itself to the cluster (ready to serve).
    published_tx: watch::Sender<bool>,
    fatal: Mutex<Option<String>>,
    /// When the current leader was first seen (etcd's leadElectedTime).
    leader_elected_at: Mutex<Option<std::time::Instant>>,
}

impl NodeState {
    pub fn new(member_id: u64, applied: u64, committed: u64, term: u64) -> Self {
        NodeState {
            member_id,
            term: AtomicU64::new(term),
            leader: AtomicU64::new(0),
            committed: AtomicU64::new(committed),
            applied: AtomicU64::new(applied),
            is_learner: AtomicBool::new(false),
            applied_tx: watch::channel(applied).0,
            leader_tx: watch::channel(0).0,
            stopped_tx: watch::channel(false).0,
            published_tx: watch::channel(false).0,
            fatal: Mutex::new(None),
            leader_elected_at: Mutex::new(None),
        }
    }

    pub fn term(&self) -> u64 {
        self.term.load(Ordering::Acquire)
    }

    pub fn set_term(&self, term: u64) {
        self.term.store(term, Ordering::Release);
    }

    /// 0 when there is no leader.
    pub fn leader(&self) -> u64 {
        self.leader.load(Ordering::Acquire)
    }

    pub fn set_leader(&self, leader: u64) {
        let was = self.leader.swap(leader, Ordering::AcqRel);
        if leader != 0 && leader != was {
            *self.leader_elected_at.lock() = Some(std::time::Instant::now());
        }
        self.leader_tx.send_replace(leader);
    }

    /// When the current leader was elected (first seen here); None before any leader.
    pub fn leader_elected_at(&self) -> Option<std::time::Instant> {
        *self.leader_elected_at.lock()
    }

    pub fn committed(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    pub fn set_committed(&self, index: u64) {
        self.committed.store(index, Ordering::Release);
    }

    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    pub fn set_applied(&self, index: u64) {
        self.applied.store(index, Ordering::Release);
        self.applied_tx.send_replace(index);
    }

    pub fn is_learner(&self) -> bool {
        self.is_learner.load(Ordering::Acquire)
    }

    pub fn set_learner(&self, learner: bool) {
        self.is_learner.store(learner, Ordering::Release);
    }

    /// Resolves once the member stops (holds no lock guard, so it can sit in a select).
    pub async fn wait_stopped(&self) {
        let mut rx = self.stopped_tx.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Resolves once some member is leader; false if the state was dropped.
    pub async fn wait_leader(&self) -> bool {
        let mut rx = self.leader_tx.subscribe();
        rx.wait_for(|l| *l != 0).await.is_ok()
    }

    /// Resolves once the leader is no longer `was`; false if the state was dropped.
    pub async fn wait_leader_change(&self, was: u64) -> bool {
        let mut rx = self.leader_tx.subscribe();
        rx.wait_for(|l| *l != was).await.is_ok()
    }

    /// Resolves once the applied index reaches `index`; false if the state was dropped.
    pub async fn wait_applied(&self, index: u64) -> bool {
        let mut rx = self.applied_tx.subscribe();
        rx.wait_for(|a| *a >= index).await.is_ok()
    }

    /// Resolves once the member has published itself; false if the state was dropped.
    pub async fn wait_published(&self) -> bool {
        let mut rx = self.published_tx.subscribe();
        rx.wait_for(|p| *p).await.is_ok()
    }

    pub fn set_published(&self) {
        self.published_tx.send_replace(true);
    }

    pub fn is_stopped(&self) -> bool {
        *self.stopped_tx.borrow()
    }

    pub fn stop(&self) {
        self.stopped_tx.send_replace(true);
    }

    /// Stops the member because it cannot safely go on; the first reason is kept.
    pub fn fail(&self, reason: String) {
        tracing::error!(error = %reason, "member stopping on fatal error");
        self.fatal.lock().get_or_insert(reason);
        self.stop();
    }

    pub fn fatal_error(&self) -> Option<String> {
        self.fatal.lock().clone()
    }

    /// Runs `f` (a thread's body); if it panics, the member stops with a fatal error that
    /// names `thread`. Returns whether it panicked.
    pub fn run_or_fail(&self, thread: &str, f: impl FnOnce()) -> bool {
        let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) else {
            return false;
        };
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        self.fail(format!("the {thread} thread panicked: {what}"));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_thread_stops_the_member_with_the_reason() {
        let state = NodeState::new(1, 0, 0, 0);
        assert!(!state.run_or_fail("apply", || {}));
        assert!(!state.is_stopped());
        assert!(state.run_or_fail("raft", || panic!("overflow at {}", 7)));
        assert!(state.is_stopped());
        assert_eq!(
            state.fatal_error().as_deref(),
            Some("the raft thread panicked: overflow at 7")
        );
    }
}
