//! The raft log as raft-rs reads it: hard state, configuration, the last snapshot's
//! metadata and the entries after it. Owned by the raft loop; the WAL is its durable copy
//! and rebuilds it on restart. Only the newest entries stay in memory: older ones that
//! are already applied are read back from the WAL when raft asks for them (a member
//! catching up), so memory does not grow with `--snapshot-count`.
//!
//! Invariants: the entries are `first_index()..=last_index()` with no gaps, `cold`
//! first and then `hot`; every entry here was synced to the WAL (at its location) before
//! raft-rs was told it is persisted; cold entries were applied, so no append rewrites
//! them.

use std::collections::VecDeque;

use bytes::Bytes;
use etcd_wal::{Location, WalReader};
use protobuf::Message as _;
use raft::eraftpb::{ConfState, Entry, HardState, Snapshot, SnapshotMetadata};
use raft::{GetEntriesContext, RaftState, StorageError};

use crate::error::{Result, ServerError};

/// Entries kept in memory behind the last one even when applied: what a follower that
/// is a little behind is sent without touching the disk.
pub const HOT_ENTRIES: u64 = 2048;

/// An entry that lives only in the WAL.
#[derive(Clone, Copy)]
struct ColdEntry {
    term: u64,
    location: Location,
}

pub struct RaftLog {
    hard_state: HardState,
    conf_state: ConfState,
    /// The compaction point: entries up to its index are gone (its term is kept).
    snapshot: SnapshotMetadata,
    /// The newest snapshot whose state is durable (a WAL marker with the backend synced
    /// at or beyond it): what a member behind the compaction point is sent.
    last_snapshot: SnapshotMetadata,
    /// Entries from `first_index()`, in the WAL only.
    cold: VecDeque<ColdEntry>,
    /// The entries after `cold`, in memory with their WAL location.
    hot: VecDeque<(Entry, Location)>,
    wal: WalReader,
}

impl RaftLog {
    /// A log that starts after a snapshot at (index, term) with the given configuration,
    /// reading entries it no longer holds from `wal`.
    pub fn new(
        snapshot_index: u64,
        snapshot_term: u64,
        conf_state: ConfState,
        wal: WalReader,
    ) -> Self {
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
            cold: VecDeque::new(),
            hot: VecDeque::new(),
            wal,
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
        self.cold.clear();
        self.hot.clear();
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
        self.snapshot.index + (self.cold.len() + self.hot.len()) as u64
    }

    fn first_hot_index(&self) -> u64 {
        self.first_index() + self.cold.len() as u64
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

    /// Appends entries synced to the WAL at `locations`, replacing any existing suffix
    /// they overlap. Entries must start at or before `last_index() + 1` and after the
    /// snapshot. Their payloads are copied, so the log never pins a larger buffer they
    /// were received in.
    pub fn append(&mut self, ents: &[Entry], locations: &[Location]) -> Result<(), String> {
        let Some(first) = ents.first() else {
            return Ok(());
        };
        if ents.len() != locations.len() {
            return Err(format!(
                "{} entries with {} WAL locations",
                ents.len(),
                locations.len()
            ));
        }
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
        if first.index < self.first_hot_index() {
            // Never for applied entries; kept correct all the same.
            self.cold
                .truncate((first.index - self.first_index()) as usize);
            self.hot.clear();
        } else {
            self.hot
                .truncate((first.index - self.first_hot_index()) as usize);
        }
        for (e, loc) in ents.iter().zip(locations) {
            let mut own = e.clone();
            own.data = Bytes::copy_from_slice(&e.data);
            own.context = Bytes::copy_from_slice(&e.context);
            self.hot.push_back((own, *loc));
        }
        Ok(())
    }

    /// Leaves in memory only entries after `applied` and the last [`HOT_ENTRIES`].
    pub fn spill(&mut self, applied: u64) {
        let keep_from = self.last_index().saturating_sub(HOT_ENTRIES).min(applied) + 1;
        while self.first_hot_index() < keep_from {
            let Some((e, location)) = self.hot.pop_front() else {
                break;
            };
            self.cold.push_back(ColdEntry {
                term: e.term,
                location,
            });
        }
    }

    /// Drops entries before `index` (they are covered by durable state); keeps at least
    /// the entry at `index` so its term stays known.
    pub fn compact(&mut self, index: u64) {
        if index <= self.first_index() || index > self.last_index() {
            return;
        }
        let Some(last_term) = self.term_of(index - 1) else {
            return;
        };
        let mut drop = (index - self.first_index()) as usize;
        let from_cold = drop.min(self.cold.len());
        self.cold.drain(..from_cold);
        drop -= from_cold;
        self.hot.drain(..drop);
        self.snapshot.index = index - 1;
        self.snapshot.term = last_term;
    }

    /// The term of the entry at `index`, if it is known.
    pub fn term_of(&self, index: u64) -> Option<u64> {
        if index == self.snapshot.index {
            return Some(self.snapshot.term);
        }
        if index < self.first_index() || index > self.last_index() {
            return None;
        }
        let i = (index - self.first_index()) as usize;
        match self.cold.get(i) {
            Some(c) => Some(c.term),
            None => Some(self.hot[i - self.cold.len()].0.term),
        }
    }

    /// The entry at `index` (which is in the log): from memory, or read from the WAL.
    fn entry(&self, index: u64) -> Result<Entry> {
        let i = (index - self.first_index()) as usize;
        match self.cold.get(i) {
            Some(c) => from_wal_entry(&self.wal.read(c.location, index)?),
            None => Ok(self.hot[i - self.cold.len()].0.clone()),
        }
    }
}

impl raft::Storage for RaftLog {
    fn initial_state(&self) -> raft::Result<RaftState> {
        Ok(RaftState {
            hard_state: self.hard_state.clone(),
            conf_state: self.conf_state.clone(),
        })
    }

    /// Stops reading once `max_size` is exceeded (raft-rs' `limit_size`: at least one
    /// entry), so a follower far behind costs one message's worth of WAL reads.
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
        let max = max_size.into().unwrap_or(u64::MAX);
        let mut ents = Vec::with_capacity((high - low).min(1024) as usize);
        let mut size = 0u64;
        for index in low..high {
            let e = self
                .entry(index)
                .map_err(|e| raft::Error::Store(StorageError::Other(Box::new(e))))?;
            size += u64::from(e.compute_size());
            if !ents.is_empty() && size > max {
                break;
            }
            ents.push(e);
        }
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

/// The WAL record of a raft entry: the whole entry, encoded.
pub fn to_wal_entry(e: &Entry) -> Result<etcd_wal::Entry> {
    let data = e.write_to_bytes().map_err(|err| {
        ServerError::Corrupt(format!("cannot encode raft entry {}: {err}", e.index))
    })?;
    Ok(etcd_wal::Entry {
        index: e.index,
        term: e.term,
        data,
    })
}

pub fn from_wal_entry(e: &etcd_wal::Entry) -> Result<Entry> {
    let entry = Entry::parse_from_bytes(&e.data).map_err(|err| {
        ServerError::Corrupt(format!("undecodable raft entry {} in WAL: {err}", e.index))
    })?;
    if entry.index != e.index || entry.term != e.term {
        return Err(ServerError::Corrupt(format!(
            "WAL record {}/{} holds raft entry {}/{}",
            e.index, e.term, entry.index, entry.term
        )));
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use etcd_wal::{Wal, WalOptions};
    use raft::Storage;

    /// A log over a real WAL in a temporary directory.
    struct Fixture {
        _dir: tempfile::TempDir,
        wal: Wal,
        log: RaftLog,
    }

    impl Fixture {
        fn new(snapshot_index: u64, snapshot_term: u64) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let mut wal = Wal::create(dir.path(), b"", WalOptions { segment_size: 4096 }).unwrap();
            wal.save_snapshot(&etcd_wal::SnapshotMarker {
                index: snapshot_index,
                term: snapshot_term,
                conf_state: vec![],
            })
            .unwrap();
            let log = RaftLog::new(
                snapshot_index,
                snapshot_term,
                ConfState::default(),
                wal.reader(),
            );
            Fixture {
                _dir: dir,
                wal,
                log,
            }
        }

        /// Writes the entries to the WAL, then appends them to the log, as the raft loop does.
        fn append(&mut self, ents: &[Entry]) -> Result<(), String> {
            let records: Vec<_> = ents.iter().map(|e| to_wal_entry(e).unwrap()).collect();
            let locations = self.wal.append(None, &records).map_err(|e| e.to_string())?;
            self.wal.sync().unwrap();
            self.log.append(ents, &locations)
        }
    }

    fn ent(index: u64, term: u64) -> Entry {
        Entry {
            index,
            term,
            data: Bytes::from(format!("payload of {index}")),
            ..Default::default()
        }
    }

    fn all(log: &RaftLog) -> Vec<Entry> {
        log.entries(
            log.first_index(),
            log.last_index() + 1,
            None,
            GetEntriesContext::empty(false),
        )
        .unwrap()
    }

    #[test]
    fn append_overwrite_compact_and_terms() {
        let mut f = Fixture::new(5, 2);
        assert_eq!((f.log.first_index(), f.log.last_index()), (6, 5));
        f.append(&[ent(6, 2), ent(7, 2), ent(8, 3)]).unwrap();
        f.append(&[ent(7, 4)]).unwrap();
        let log = &mut f.log;
        assert_eq!(log.last_index(), 7);
        assert_eq!(Storage::term(log, 7).unwrap(), 4);
        assert_eq!(Storage::term(log, 5).unwrap(), 2);
        assert!(log.append(&[ent(9, 4)], &[]).is_err(), "locations required");
        log.set_last_snapshot(6, 2, ConfState::default());
        log.compact(7);
        assert_eq!(log.first_index(), 7);
        assert_eq!(Storage::term(log, 6).unwrap(), 2);
        assert!(matches!(
            Storage::term(log, 5),
            Err(raft::Error::Store(StorageError::Compacted))
        ));
        assert_eq!(all(log), vec![ent(7, 4)]);
        assert_eq!(
            Storage::snapshot(log, 0, 2).unwrap().get_metadata().index,
            6
        );
        assert!(f.append(&[ent(9, 4)]).is_err(), "gap refused");
    }

    #[test]
    fn spilled_entries_are_read_back_from_the_wal() {
        let mut f = Fixture::new(0, 0);
        let n = HOT_ENTRIES + 500;
        let written: Vec<Entry> = (1..=n).map(|i| ent(i, 1 + i / 1000)).collect();
        for chunk in written.chunks(97) {
            f.append(chunk).unwrap();
        }
        // Only what is applied spills, and the newest HOT_ENTRIES stay.
        f.log.spill(100);
        assert_eq!(f.log.cold.len(), 100);
        f.log.spill(n);
        assert_eq!(f.log.cold.len() as u64, n - HOT_ENTRIES);
        assert_eq!(f.log.hot.len() as u64, HOT_ENTRIES);
        assert_eq!(all(&f.log), written);
        for i in [1, 499, 500, n] {
            assert_eq!(Storage::term(&f.log, i).unwrap(), 1 + i / 1000);
        }
        // A size limit stops the reads early, but always returns one entry.
        let one = f
            .log
            .entries(1, n + 1, 1, GetEntriesContext::empty(false))
            .unwrap();
        assert_eq!(one, written[..1]);
        let size: u64 = written[..10]
            .iter()
            .map(|e| u64::from(e.compute_size()))
            .sum();
        let some = f
            .log
            .entries(1, n + 1, size, GetEntriesContext::empty(false))
            .unwrap();
        assert_eq!(some, written[..10]);
        // Compacting into the cold part keeps the rest readable.
        f.log.compact(300);
        assert_eq!(f.log.first_index(), 300);
        assert_eq!(Storage::term(&f.log, 299).unwrap(), 1);
        assert_eq!(all(&f.log), written[299..]);
        // A new leader's entries replace the hot suffix.
        f.append(&[ent(n, 9)]).unwrap();
        assert_eq!(Storage::term(&f.log, n).unwrap(), 9);
        assert_eq!(f.log.last_index(), n);
    }

    #[test]
    fn appended_payloads_do_not_share_the_receive_buffer() {
        let mut f = Fixture::new(0, 0);
        let buffer = Bytes::from(vec![7u8; 4096]);
        let mut e = ent(1, 1);
        e.data = buffer.slice(10..20);
        f.append(&[e]).unwrap();
        assert!(buffer.is_unique(), "the log holds its own copy");
        assert_eq!(all(&f.log)[0].data, vec![7u8; 10]);
    }

    #[test]
    fn applying_a_received_snapshot_resets_the_log() {
        let mut f = Fixture::new(0, 0);
        f.append(&[ent(1, 1), ent(2, 1)]).unwrap();
        let log = &mut f.log;
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
            Storage::initial_state(log).unwrap().conf_state.voters,
            vec![1, 2, 3]
        );
        log.append(&[ent(11, 3)], &[]).unwrap_err();
        f.wal
            .save_snapshot(&etcd_wal::SnapshotMarker {
                index: 10,
                term: 3,
                conf_state: vec![],
            })
            .unwrap();
        f.append(&[ent(11, 3)]).unwrap();
        assert_eq!(Storage::term(&f.log, 10).unwrap(), 3);
    }
}
