//! Reading past changes back as watch events (what etcd's unsynced watchers replay).

use etcd_api::mvccpb::event::EventType;
use etcd_api::mvccpb::{Event, KeyValue};
use prost::Message;

use crate::revision::Revision;
use crate::{Bucket, KvStore, MvccError};

/// Key-bucket entries read per backend scan.
const CHUNK: usize = 1000;

impl KvStore {
    /// Every change with main revision in `[start, end]` (`end <= 0` or beyond the
    /// current revision: up to the current revision), in revision order, as watch
    /// events without prev_kv: a PUT carries the stored kv, a DELETE a kv with just the
    /// key and its mod_revision (as the events of [`crate::WriteTxn::commit`]).
    ///
    /// Compacted if `start` is below the compaction revision. As in etcd, a start at the
    /// compaction revision itself is allowed although deletions made exactly at it are
    /// gone. A `start` after the current revision gives no events.
    pub fn events(&self, start: i64, end: i64) -> Result<Vec<Event>, MvccError> {
        let start = start.max(1);
        let shared = self.shared();
        let (end, _reader) = {
            let state = shared.state.read();
            if start < state.compact_rev {
                return Err(MvccError::Compacted);
            }
            let end = if end <= 0 {
                state.current_rev
            } else {
                end.min(state.current_rev)
            };
            // Compaction above `start - 1` would remove revisions read here; one at the
            // current compaction revision is already running and must not wait (it
            // only drops deletions made exactly at `start`, as documented).
            (
                end,
                shared.readers.register((start - 1).max(state.compact_rev)),
            )
        };
        let mut events = Vec::new();
        if start > end {
            return Ok(events);
        }
        let mut from = Revision::new(start, 0).to_key(false);
        let to = Revision::new(end + 1, 0).to_key(false);
        loop {
            let chunk = shared
                .backend
                .scan(Bucket::Key, &from, Some(&to), Some(CHUNK))?;
            for (k, v) in &chunk {
                let (rev, tombstone) = Revision::from_key(k)?;
                let mut kv = KeyValue::decode(v.as_slice()).map_err(|e| {
                    MvccError::Corrupt(format!(
                        "undecodable kv at revision {}_{}: {e}",
                        rev.main, rev.sub
                    ))
                })?;
                let kind = if tombstone {
                    kv = KeyValue {
                        key: kv.key,
                        mod_revision: rev.main,
                        ..Default::default()
                    };
                    EventType::Delete
                } else {
                    EventType::Put
                };
                events.push(Event {
                    r#type: kind as i32,
                    kv: Some(kv),
                    prev_kv: None,
                });
            }
            match chunk.last() {
                Some((last, _)) if chunk.len() == CHUNK => {
                    from = last.clone();
                    from.push(0);
                }
                _ => return Ok(events),
            }
        }
    }
}
