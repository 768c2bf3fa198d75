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
    /// The compaction point: entries up to its index are gone (its term is kept).
    snapshot: SnapshotMetadata,
    /// The newest snapshot whose state is durable (a WAL marker with the backend synced
    /// at or beyond it): what a member behind the compaction point is sent.
    last_snapshot: SnapshotMetadata,
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
            last_snapshot: snapshot.clone(),
            snapshot,
            entries: VecDeque::new(),
        }
    }

    /// Records a newer durable snapshot (sent to members behind the compaction point).
    pub fn set_last_snapshot(&mut self, index: u64, term: u64, conf_state: ConfState) {
        let mut meta = SnapshotMetadata {
            index,
            term,
            ..Default::default()
        };
        meta.set_conf_state(conf_state);
        self.last_snapshot = meta;
    }

    /// Replaces the log with a snapshot received from the leader.
    pub fn apply_snapshot(&mut self, meta: &SnapshotMetadata) {
        self.entries.clear();
        self.snapshot = meta.clone();
        self.last_snapshot = meta.clone();
        self.conf_state = meta.get_conf_state().clone();
        self.hard_state.term = self.hard_state.term.max(meta.term);
        self.hard_state.commit = self.hard_state.commit.max(meta.index);
    }

    pub fn set_conf_state(&mut self, cs: ConfState) {
        self.conf_state = cs;
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

    /// Metadata only: the raft loop attaches the backend when it sends the message.
    fn snapshot(&self, request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        if self.last_snapshot.index < request_index
            || self.last_snapshot.index < self.snapshot.index
        {
            // A newer snapshot is on its way (the next --snapshot-count boundary).
            return Err(raft::Error::Store(
                StorageError::SnapshotTemporarilyUnavailable,
            ));
        }
        let mut snap = Snapshot::default();
        snap.set_metadata(self.last_snapshot.clone());
        Ok(snap)
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
        log.set_last_snapshot(6, 2, ConfState::default());
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
        assert_eq!(
            Storage::snapshot(&log, 0, 2).unwrap().get_metadata().index,
            6
        );
    }

    #[test]
    fn applying_a_received_snapshot_resets_the_log() {
        let mut log = RaftLog::new(0, 0, ConfState::default());
        log.append(&[ent(1, 1), ent(2, 1)]).unwrap();
        let mut meta = SnapshotMetadata {
            index: 10,
            term: 3,
            ..Default::default()
        };
        meta.set_conf_state(ConfState::from((vec![1, 2, 3], vec![])));
        log.apply_snapshot(&meta);
        assert_eq!((log.first_index(), log.last_index()), (11, 10));
        assert_eq!(log.hard_state().commit, 10);
        assert_eq!(
            Storage::initial_state(&log).unwrap().conf_state.voters,
            vec![1, 2, 3]
        );
        log.append(&[ent(11, 3)]).unwrap();
        assert_eq!(Storage::term(&log, 10).unwrap(), 3);
    }
}
