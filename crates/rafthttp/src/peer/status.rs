//! Whether a peer is reachable and since when (etcd's `peerStatus`).

use std::fmt::Display;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::id::Hex;
use crate::metrics::PeerMetrics;

/// Active from the first successful exchange (a stream connected either way, a pipeline
/// or snapshot request answered) until the next failure.
pub(crate) struct PeerStatus {
    local: u64,
    peer: u64,
    since: Mutex<Option<Instant>>,
    metrics: Arc<PeerMetrics>,
}

impl PeerStatus {
    pub(crate) fn new(local: u64, peer: u64, metrics: Arc<PeerMetrics>) -> PeerStatus {
        PeerStatus {
            local,
            peer,
            since: Mutex::new(None),
            metrics,
        }
    }

    pub(crate) fn activate(&self) {
        let mut since = self.since.lock();
        if since.is_none() {
            *since = Some(Instant::now());
            self.metrics.active_peers.increment(1.0);
            tracing::info!(
                "local-member-id" = %Hex(self.local),
                "peer-id" = %Hex(self.peer),
                "peer became active"
            );
        }
    }

    /// `source` says which part failed (`stream Message`, `pipeline`, ...).
    pub(crate) fn deactivate(&self, source: &str, err: &dyn Display) {
        let mut since = self.since.lock();
        if since.take().is_some() {
            self.metrics.active_peers.decrement(1.0);
            self.metrics.disconnected_peers.increment(1);
            tracing::warn!(
                "local-member-id" = %Hex(self.local),
                "peer-id" = %Hex(self.peer),
                source,
                error = %err,
                "peer became inactive (message send to peer failed)"
            );
        } else {
            tracing::debug!(
                "local-member-id" = %Hex(self.local),
                "peer-id" = %Hex(self.peer),
                source,
                error = %err,
                "peer deactivated again"
            );
        }
    }

    /// The peer is being removed: no longer counted as active, not a disconnection.
    pub(crate) fn forget(&self) {
        if self.since.lock().take().is_some() {
            self.metrics.active_peers.decrement(1.0);
        }
    }

    pub(crate) fn since(&self) -> Option<Instant> {
        *self.since.lock()
    }

    pub(crate) fn is_active(&self) -> bool {
        self.since.lock().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_since_survives_repeated_activation_and_resets_on_failure() {
        let s = PeerStatus::new(1, 2, Arc::new(PeerMetrics::new(1, 2)));
        assert_eq!(s.since(), None);
        s.activate();
        let first = s.since();
        assert!(first.is_some());
        s.activate();
        assert_eq!(s.since(), first);
        s.deactivate("pipeline", &"boom");
        assert!(!s.is_active());
        s.deactivate("pipeline", &"boom again");
        s.activate();
        assert!(s.since() >= first);
        s.forget();
        assert_eq!(s.since(), None);
    }
}
