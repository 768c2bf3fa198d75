//! The watchable store: watchers over key ranges, fed with every committed revision's
//! events, caught up from history when they start in the past (synced / unsynced /
//! victim groups, so a slow consumer never blocks writes or other watchers).
//!
//! etcd's guarantees hold per watcher: events come in revision order, each once, with
//! no gap, all events of a revision together, and a watcher started at the revision
//! after the last one it saw continues without gap.
//!
//! Shape (etcd's mvcc/watchable_store.go): [`WatchableStore::notify`] hands each
//! revision's events to the *synced* watchers by pushing into their stream's bounded
//! queue; when a queue is full the watcher becomes *unsynced* (a "victim") instead of
//! waiting. A background thread catches unsynced watchers up from
//! [`KvStore::events`] and moves them back, or cancels them with the compaction
//! revision when their history is gone.

mod error;
mod groups;
mod index;
mod key_span;
mod kick;
mod metrics;
mod options;
mod queue;
mod stream;
mod sync;
mod update;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use etcd_api::mvccpb::Event;
use parking_lot::Mutex;

pub use error::WatchError;
pub use options::WatchOptions;
pub use stream::WatchStream;
pub use update::{UpdateKind, WatchUpdate};

use crate::KvStore;
use groups::Groups;
use kick::Kick;
use queue::Queue;

/// Tunables of a [`WatchableStore`]; the defaults are etcd's.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// Responses a stream holds for its consumer before its watchers fall behind
    /// (etcd's chanBufLen).
    pub stream_capacity: usize,
    /// How often watchers that asked for progress notifications get one when idle.
    pub progress_interval: Duration,
    /// How often the sync thread retries when it is not woken sooner.
    pub sync_interval: Duration,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            stream_capacity: 128,
            progress_interval: Duration::from_secs(10 * 60),
            sync_interval: Duration::from_millis(100),
        }
    }
}

/// What the store shares with its sync thread.
pub(crate) struct Inner {
    pub(crate) store: Arc<KvStore>,
    pub(crate) groups: Mutex<Groups>,
    pub(crate) kick: Arc<Kick>,
    pub(crate) stop: AtomicBool,
    progress_interval_ms: AtomicU64,
    pub(crate) sync_interval: Duration,
    stream_capacity: usize,
}

impl Inner {
    pub(crate) fn progress_interval(&self) -> Duration {
        Duration::from_millis(self.progress_interval_ms.load(Ordering::Relaxed).max(1))
    }
}

/// Watchers of one member's key space.
///
/// Invariant: every revision committed to the store is passed to [`Self::notify`], in
/// order, after it is committed. Watch responses report the last notified revision.
pub struct WatchableStore {
    inner: Arc<Inner>,
    syncer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for WatchableStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchableStore")
            .field("rev", &self.rev())
            .finish_non_exhaustive()
    }
}

impl WatchableStore {
    pub fn new(store: Arc<KvStore>) -> Arc<WatchableStore> {
        Self::with_config(store, WatchConfig::default())
    }

    pub fn with_config(store: Arc<KvStore>, cfg: WatchConfig) -> Arc<WatchableStore> {
        metrics::describe();
        let kick = Arc::new(Kick::default());
        let rev = store.current_revision();
        let ws = Arc::new(WatchableStore {
            inner: Arc::new(Inner {
                store,
                groups: Mutex::new(Groups::new(rev, kick.clone())),
                kick,
                stop: AtomicBool::new(false),
                progress_interval_ms: AtomicU64::new(cfg.progress_interval.as_millis() as u64),
                sync_interval: cfg.sync_interval,
                stream_capacity: cfg.stream_capacity,
            }),
            syncer: Mutex::new(None),
        });
        ws.ensure_syncer();
        ws
    }

    pub fn store(&self) -> &Arc<KvStore> {
        &self.inner.store
    }

    /// The last revision handed to [`Self::notify`] (the store's revision at creation).
    pub fn rev(&self) -> i64 {
        self.inner.groups.lock().rev()
    }

    /// Called by the apply loop after each committed write, in revision order, with the
    /// write's events in order. Never blocks on watchers or their consumers.
    pub fn notify(&self, revision: i64, events: &[Event]) {
        if self.inner.groups.lock().notify(revision, events, false) {
            return;
        }
        // A synced watcher wants a prev_kv the write did not read: read them outside the
        // watcher lock (as catching up does), then deliver.
        let events: Vec<Event> = events
            .iter()
            .map(|ev| sync::with_prev_kv(&self.inner.store, ev))
            .collect();
        self.inner.groups.lock().notify(revision, &events, true);
    }

    /// The whole key space was replaced (a snapshot from the leader) at `revision`: every
    /// watcher catches up from the new history, or is canceled as compacted when its next
    /// revision is gone.
    pub fn restored(&self, revision: i64) {
        self.inner.groups.lock().unsync_all(revision);
    }

    /// Opens a stream for one client; watchers are created on it.
    pub fn new_stream(self: &Arc<Self>) -> WatchStream {
        self.ensure_syncer();
        let queue = Arc::new(Queue::new(
            self.inner.stream_capacity,
            self.inner.kick.clone(),
        ));
        let key = self.inner.groups.lock().add_stream(queue.clone());
        WatchStream::new(self.clone(), key, queue)
    }

    pub fn progress_interval(&self) -> Duration {
        self.inner.progress_interval()
    }

    /// Changes the progress notification interval (10 minutes by default, as in etcd).
    pub fn set_progress_interval(&self, interval: Duration) {
        self.inner
            .progress_interval_ms
            .store(interval.as_millis().max(1) as u64, Ordering::Relaxed);
        self.inner.kick.kick();
    }

    /// Watchers of all streams.
    pub fn watcher_count(&self) -> usize {
        self.inner.groups.lock().watcher_count()
    }

    /// Watchers behind the last notified revision, waiting to be caught up.
    pub fn unsynced_count(&self) -> usize {
        self.inner.groups.lock().unsynced_count()
    }

    /// Starts the sync thread if it is not running (a failed spawn is retried on the
    /// next stream).
    fn ensure_syncer(&self) {
        let mut syncer = self.syncer.lock();
        if syncer.is_some() {
            return;
        }
        let inner = self.inner.clone();
        match std::thread::Builder::new()
            .name("mvcc-watch-sync".into())
            .spawn(move || sync::run(inner))
        {
            Ok(handle) => *syncer = Some(handle),
            Err(e) => tracing::error!(error = %e, "cannot start the watch sync thread"),
        }
    }
}

impl Drop for WatchableStore {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Release);
        self.inner.kick.kick();
        if let Some(t) = self.syncer.get_mut().take()
            && t.join().is_err()
        {
            tracing::error!("watch sync thread panicked");
        }
    }
}
