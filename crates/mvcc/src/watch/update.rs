//! What a watch stream delivers: one item per response etcd would send.

use etcd_api::mvccpb::Event;

use super::error::WatchError;

/// One response for a watch stream's consumer, in the order it must be sent.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchUpdate {
    /// The watcher it concerns; -1 for a refused create and for a stream-wide progress
    /// notification (etcd's `InvalidWatchID`).
    pub watch_id: i64,
    /// The revision for the response header (0 for a compaction cancel, as in etcd).
    pub revision: i64,
    pub kind: UpdateKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum UpdateKind {
    /// The watcher exists; events come after this.
    Created,
    /// The create request was refused (etcd: `created` and `canceled` both set).
    Refused(WatchError),
    /// Every event of the revisions up to `revision` not yet delivered, in revision
    /// order; never empty. Events of one revision are never split across updates.
    Events {
        events: Vec<Event>,
        /// The watcher asked for large responses to be split (etcd's `fragment`).
        fragment: bool,
    },
    /// Nothing happened to the watcher's keys up to `revision` beyond what was delivered.
    Progress,
    /// The watcher's next revision was compacted away; the watcher is gone.
    Compacted { compact_revision: i64 },
    /// Answer to a cancel request; nothing follows for this watcher.
    Canceled,
}

impl WatchUpdate {
    /// Number of events it carries.
    pub fn event_count(&self) -> usize {
        match &self.kind {
            UpdateKind::Events { events, .. } => events.len(),
            _ => 0,
        }
    }
}
