//! One watch stream (one gRPC Watch call): many watchers delivering into one bounded
//! queue, drained by one consumer.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::WatchableStore;
use super::error::WatchError;
use super::groups::StreamKey;
use super::options::WatchOptions;
use super::queue::Queue;
use super::update::WatchUpdate;

/// The watchers of one client stream. Every answer and event comes out of
/// [`WatchStream::recv`] in the order etcd would send it: a watcher's created answer
/// before its events, its events in revision order, each exactly once. Dropping the
/// stream removes its watchers.
pub struct WatchStream {
    store: Arc<WatchableStore>,
    key: StreamKey,
    queue: Arc<Queue>,
}

impl std::fmt::Debug for WatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl WatchStream {
    pub(crate) fn new(store: Arc<WatchableStore>, key: StreamKey, queue: Arc<Queue>) -> Self {
        WatchStream { store, key, queue }
    }

    /// Creates a watcher and queues the created answer (or, on error, the refusal with
    /// etcd's reason and watch ID -1). Returns the watch ID.
    pub fn watch(&self, opts: WatchOptions) -> Result<i64, WatchError> {
        self.store.inner.groups.lock().watch(self.key, opts)
    }

    /// Cancels a watcher: its undelivered events are dropped and a canceled answer is
    /// queued. False for an ID not in use (etcd then answers nothing).
    pub fn cancel(&self, watch_id: i64) -> bool {
        self.store.inner.groups.lock().cancel(self.key, watch_id)
    }

    /// Queues a progress notification (watch ID -1) at the store's revision once every
    /// watcher of the stream is caught up.
    pub fn request_progress(&self) {
        self.store.inner.groups.lock().request_progress(self.key);
    }

    /// The next update, waiting for one.
    pub async fn recv(&self) -> WatchUpdate {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    pub fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<WatchUpdate> {
        self.queue.poll_pop(cx)
    }

    pub fn try_recv(&self) -> Option<WatchUpdate> {
        self.queue.try_pop()
    }

    /// Blocks the thread up to `timeout` for the next update.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<WatchUpdate> {
        self.queue.pop_timeout(timeout)
    }

    /// Ready while the consumer keeps up with the answers; a request reader should
    /// wait for this before handling the next request (etcd's bounded control channel).
    pub fn poll_ready_for_request(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.queue.poll_room_for_requests(cx)
    }

    pub async fn ready_for_request(&self) {
        poll_fn(|cx| self.poll_ready_for_request(cx)).await
    }

    pub fn store(&self) -> &Arc<WatchableStore> {
        &self.store
    }
}

impl Drop for WatchStream {
    fn drop(&mut self) {
        self.store.inner.groups.lock().remove_stream(self.key);
    }
}
