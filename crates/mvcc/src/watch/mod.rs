//! The watchable store: watchers over key ranges, fed with every committed revision's
//! events, caught up from history when they start in the past (synced / unsynced /
//! victim groups, so a slow consumer never blocks writes or other watchers).

use std::sync::Arc;

use etcd_api::mvccpb::Event;

use crate::KvStore;

/// Watchers of one member's key space.
pub struct WatchableStore {
    store: Arc<KvStore>,
}

impl WatchableStore {
    pub fn new(store: Arc<KvStore>) -> Arc<WatchableStore> {
        Arc::new(WatchableStore { store })
    }

    pub fn store(&self) -> &Arc<KvStore> {
        &self.store
    }

    /// Called by the apply loop after each committed write, in revision order. Must not
    /// block.
    pub fn notify(&self, revision: i64, events: &[Event]) {
        let _ = (revision, events);
    }
}
