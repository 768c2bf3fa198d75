//! The raft log as raft-rs reads it: hard state, configuration, the last snapshot's
//! metadata and the entries after it. It lives in memory, owned by the raft loop; the WAL
//! is its durable copy and rebuilds it on restart.
//!
//! Invariant: `entries[i].index == snapshot.index + 1 + i` (no gaps), and every entry here
//! was written to the WAL before raft-rs was told it is persisted.

use std::collections::VecDeque;

use raft::eraftpb::{ConfState, Entry, HardState, Snapshot, SnapshotMetadata};
use raft::{GetEntriesContext, RaftState, StorageError};

#[derive(Default)]
pub struct RaftLog {
    hard_state: HardState,
    conf_state: ConfState,
    snapshot: SnapshotMetadata,
    entries: VecDeque<Entry>,
}

impl RaftLog {
    /// A log that starts after a snapshot at (index, term) with the given configuration.
    pub fn new(snapshot_index: u64, snapshot_term: u64, conf_state: ConfState) -> Self {
        let mut snapshot = SnapshotMetadata {
            index: snapshot_index,
            term: snapshot_term,
            ..Default::default()
        };
        snapshot.set_conf_state(conf_state.clone());
        let hard_state = HardState {
            term: snapshot_term,
            commit: snapshot_index,
            ..Default::default()
        };
        RaftLog {
            hard_state,
            conf_state,
            snapshot,
            entries: VecDeque::new(),
        }
    }

    pub fn first_index(&self) -> u64 {
        self.snapshot.index + 1
    }

    pub fn last_index(&self) -> u64 {
        self.snapshot.index + self.entries.len() as u64
    }

    pub fn hard_state(&self) -> &HardState {
        &self.hard_state
    }

    pub fn set_hard_state(&mut self, hs: HardState) {
        self.hard_state = hs;
    }

    pub fn set_commit(&mut self, commit: u64) {
        self.hard_state.commit = commit;
    }

    /// Appends entries, replacing any existing suffix they overlap. Entries must start at
    /// or before `last_index() + 1` and after the snapshot.
    pub fn append(&mut self, ents: &[Entry]) -> Result<(), String> {
        let Some(first) = ents.first() else {
            return Ok(());
        };
        if first.index < self.first_index() {
            return Err(format!(
                "append at index {} overwrites the compacted log (first index {})",
                first.index,
                self.first_index()
            ));
        }
        if first.index > self.last_index() + 1 {
            return Err(format!(
                "append at index {} leaves a gap after last index {}",
                first.index,
                self.last_index()
            ));
        }
        self.entries
            .truncate((first.index - self.first_index()) as usize);
        self.entries.extend(ents.iter().cloned());
        Ok(())
    }

    /// Drops entries before `index` (they are covered by durable state); keeps at least
    /// the entry at `index` so its term stays known.
    pub fn compact(&mut self, index: u64) {
        if index <= self.first_index() || index > self.last_index() {
            return;
        }
        let drop = (index - self.first_index()) as usize;
        let last_dropped = &self.entries[drop - 1];
        self.snapshot.index = last_dropped.index;
        self.snapshot.term = last_dropped.term;
        self.entries.drain(..drop);
    }

    /// The term of the entry at `index`, if it is known.
    pub fn term_of(&self, index: u64) -> Option<u64> {
        if index == self.snapshot.index {
            return Some(self.snapshot.term);
        }
        if index < self.first_index() || index > self.last_index() {
            return None;
        }
        Some(self.entries[(index - self.first_index()) as usize].term)
    }
}

impl raft::Storage for RaftLog {
    fn initial_state(&self) -> raft::Result<RaftState> {
        Ok(RaftState {
            hard_state: self.hard_state.clone(),
            conf_state: self.conf_state.clone(),
        })
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        if low < self.first_index() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if high > self.last_index() + 1 {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        let lo = (low - self.first_index()) as usize;
        let hi = (high - self.first_index()) as usize;
        let mut ents: Vec<Entry> = self.entries.range(lo..hi).cloned().collect();
        raft::util::limit_size(&mut ents, max_size.into());
        Ok(ents)
    }

    fn term(&self, idx: u64) -> raft::Result<u64> {
        if idx == self.snapshot.index {
            return Ok(self.snapshot.term);
        }
        if idx < self.first_index() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        self.term_of(idx)
            .ok_or(raft::Error::Store(StorageError::Unavailable))
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(RaftLog::first_index(self))
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(RaftLog::last_index(self))
    }

    fn snapshot(&self, _request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        // Sending the backend to a lagging follower arrives with the cluster work; until
        // then raft retries later.
        Err(raft::Error::Store(
            StorageError::SnapshotTemporarilyUnavailable,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::Storage;

    fn ent(index: u64, term: u64) -> Entry {
        Entry {
            index,
            term,
            ..Default::default()
        }
    }

    #[test]
    fn append_overwrite_compact_and_terms() {
        let mut log = RaftLog::new(5, 2, ConfState::default());
        assert_eq!((log.first_index(), log.last_index()), (6, 5));
        log.append(&[ent(6, 2), ent(7, 2), ent(8, 3)]).unwrap();
        log.append(&[ent(7, 4)]).unwrap();
        assert_eq!(log.last_index(), 7);
        assert_eq!(Storage::term(&log, 7).unwrap(), 4);
        assert_eq!(Storage::term(&log, 5).unwrap(), 2);
        assert!(log.append(&[ent(9, 4)]).is_err(), "gap refused");
        assert!(
            log.append(&[ent(5, 4)]).is_err(),
            "compacted overwrite refused"
        );
        log.compact(7);
        assert_eq!(log.first_index(), 7);
        assert_eq!(Storage::term(&log, 6).unwrap(), 2);
        assert!(matches!(
            Storage::term(&log, 5),
            Err(raft::Error::Store(StorageError::Compacted))
        ));
        let ents = log
            .entries(7, 8, None, GetEntriesContext::empty(false))
            .unwrap();
        assert_eq!(ents.len(), 1);
    }
}
