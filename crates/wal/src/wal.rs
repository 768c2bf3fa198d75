//! The `Wal` handle: create, open (with tail repair), append, sync, cut and release.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::continuity::Continuity;
use crate::error::{WalError, io_err};
use crate::fsutil;
use crate::lock::DirLock;
use crate::reader::{Location, WalReader};
use crate::record;
use crate::release;
use crate::replay::{self, TornTail};
use crate::segment::{self, SegmentInfo};
use crate::segment_name::{self, SegmentName};
use crate::tail::TailWriter;
use crate::types::{Entry, HardState, SnapshotMarker, WalContents, WalOptions};

/// An fdatasync slower than this is logged (as etcd does).
const SLOW_SYNC: Duration = Duration::from_secs(1);

/// An open write-ahead log. Holds the directory lock for its whole lifetime.
///
/// Invariants: `closed` and `tail_info` list the segments on disk, oldest first, with
/// consecutive sequence numbers; `continuity` describes exactly what a reopen would read
/// (including buffered records once synced); after any failed write or sync the handle
/// is poisoned and refuses all further changes.
pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    _lock: DirLock,
    metadata: Vec<u8>,
    hard_state: Option<HardState>,
    continuity: Continuity,
    closed: Vec<SegmentInfo>,
    tail_info: SegmentInfo,
    tail: TailWriter,
    poisoned: bool,
}

impl fmt::Debug for Wal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.dir)
            .field("segments", &(self.closed.len() + 1))
            .field("tail", &self.tail.path())
            .field("last_index", &self.continuity.last_index())
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

impl Wal {
    /// Whether `dir` holds a WAL (at least one segment).
    pub fn exists(dir: &Path) -> bool {
        segment_name::list(dir).is_ok_and(|l| !l.segments.is_empty())
    }

    /// Creates a new WAL in `dir` (created if missing), recording `metadata` in every
    /// segment. Crash-safe: the first segment appears by an atomic rename once complete,
    /// so a crash leaves either no WAL or a valid empty one.
    pub fn create(dir: &Path, metadata: &[u8], opts: WalOptions) -> Result<Wal, WalError> {
        fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
        fsutil::sync_dir(fsutil::parent_dir(dir))?;
        let lock = DirLock::acquire(dir)?;
        let listing = segment_name::list(dir)?;
        if !listing.segments.is_empty() {
            return Err(WalError::AlreadyExists {
                dir: dir.to_path_buf(),
            });
        }
        remove_tmp_files(dir, &listing.tmp_files)?;
        let first = SegmentName {
            seq: 0,
            first_index: 1,
        };
        let new = segment::create(dir, first, metadata, None, opts.segment_size)?;
        tracing::info!(dir = %dir.display(), "created WAL");
        Ok(Wal {
            dir: dir.to_path_buf(),
            opts,
            _lock: lock,
            metadata: metadata.to_vec(),
            hard_state: None,
            continuity: Continuity::starting_at(first.first_index),
            closed: Vec::new(),
            tail: TailWriter::new(new.file, new.info.path.clone(), new.header_len),
            tail_info: new.info,
            poisoned: false,
        })
    }

    /// Opens the WAL in `dir` and reads it all back. A torn tail of the last segment is
    /// repaired (zeroed, with a warning); anything else invalid is `Corrupt`. Leftover
    /// temporary files of an interrupted segment creation are removed.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<(Wal, WalContents), WalError> {
        if !dir.is_dir() {
            return Err(WalError::NotFound {
                dir: dir.to_path_buf(),
            });
        }
        let lock = DirLock::acquire(dir)?;
        let listing = segment_name::list(dir)?;
        remove_tmp_files(dir, &listing.tmp_files)?;
        if listing.segments.is_empty() {
            return Err(WalError::NotFound {
                dir: dir.to_path_buf(),
            });
        }
        let replayed = replay::replay(dir, &listing.segments)?;
        let tail = open_tail(&replayed.tail.path, replayed.tail_end, replayed.torn, opts)?;
        let contents = replayed.contents;
        tracing::info!(
            dir = %dir.display(),
            segments = listing.segments.len(),
            entries = contents.entries.len(),
            last_index = replayed.continuity.last_index(),
            "opened WAL"
        );
        let wal = Wal {
            dir: dir.to_path_buf(),
            opts,
            _lock: lock,
            metadata: contents.metadata.clone(),
            hard_state: contents.hard_state,
            continuity: replayed.continuity,
            closed: replayed.closed,
            tail_info: replayed.tail,
            tail,
            poisoned: false,
        };
        Ok((wal, contents))
    }

    /// Buffers `entries` and then `hard_state` (not yet durable; see [`Wal::sync`]);
    /// returns where each entry will lie, for [`WalReader::read`] once synced.
    /// Entries may rewrite a suffix of the log (`index <= last_index()`) but must not
    /// leave a gap or rewrite below the first entry kept or a snapshot marker; a batch
    /// that breaks this is refused whole, before anything is written. A hard state equal
    /// to the last one is not written again.
    pub fn append(
        &mut self,
        hard_state: Option<&HardState>,
        entries: &[Entry],
    ) -> Result<Vec<Location>, WalError> {
        self.ensure_usable()?;
        let mut check = self.continuity;
        for e in entries {
            record::check_entry(e)?;
            check.push_entry(e.index)?;
        }
        let result = self.append_checked(hard_state, entries);
        self.poison_on_err(result)
    }

    fn append_checked(
        &mut self,
        hard_state: Option<&HardState>,
        entries: &[Entry],
    ) -> Result<Vec<Location>, WalError> {
        let mut locations = Vec::with_capacity(entries.len());
        for e in entries {
            self.continuity.push_entry(e.index)?;
            locations.push(Location {
                segment: self.tail_info.name,
                offset: self.tail.end(),
            });
            record::encode_entry(self.tail.buf_mut(), e)?;
            self.tail_info.note_entry(e.index);
            self.maybe_cut()?;
        }
        if let Some(hs) = hard_state
            && self.hard_state != Some(*hs)
        {
            record::encode_hard_state(self.tail.buf_mut(), hs)?;
            self.hard_state = Some(*hs);
            self.maybe_cut()?;
        }
        Ok(locations)
    }

    /// Makes everything appended so far durable: one write and one fdatasync. A no-op
    /// when nothing is pending. After a failure the WAL refuses further changes.
    pub fn sync(&mut self) -> Result<(), WalError> {
        self.ensure_usable()?;
        if !self.tail.has_pending() {
            return Ok(());
        }
        let started = Instant::now();
        let result = self.tail.sync();
        self.poison_on_err(result)?;
        let took = started.elapsed();
        if took > SLOW_SYNC {
            tracing::warn!(
                segment = %self.tail.path().display(),
                took = ?took,
                expected = ?SLOW_SYNC,
                "slow fdatasync"
            );
        }
        Ok(())
    }

    /// `append` then `sync`: the one call per raft Ready.
    pub fn save(
        &mut self,
        hard_state: Option<&HardState>,
        entries: &[Entry],
    ) -> Result<(), WalError> {
        self.append(hard_state, entries)?;
        self.sync()
    }

    /// Records a snapshot marker durably (together with anything appended before it).
    pub fn save_snapshot(&mut self, marker: &SnapshotMarker) -> Result<(), WalError> {
        self.ensure_usable()?;
        record::check_snapshot(marker)?;
        let result = self.append_marker(marker);
        self.poison_on_err(result)?;
        self.sync()
    }

    fn append_marker(&mut self, marker: &SnapshotMarker) -> Result<(), WalError> {
        record::encode_snapshot(self.tail.buf_mut(), marker)?;
        self.continuity.push_marker(marker.index);
        self.tail_info.note_marker(marker.index);
        self.maybe_cut()
    }

    /// Deletes the oldest segments no longer needed once the state up to `index` is
    /// durable elsewhere: those whose entries are all below `index`, stopping at the
    /// segment holding the newest marker at or below `index` (kept so a reopen finds it)
    /// and at any segment with a marker above `index`. The segment being written is never
    /// deleted.
    pub fn release_to(&mut self, index: u64) -> Result<(), WalError> {
        self.ensure_usable()?;
        let count = release::releasable(&self.closed, &self.tail_info, index);
        if count == 0 {
            return Ok(());
        }
        let mut removed = 0;
        let mut result = Ok(());
        for info in &self.closed[..count] {
            if let Err(e) = fs::remove_file(&info.path) {
                result = Err(io_err("remove released segment", &info.path)(e));
                break;
            }
            removed += 1;
        }
        self.closed.drain(..removed);
        let min_kept = self
            .closed
            .iter()
            .chain(std::iter::once(&self.tail_info))
            .find_map(|s| s.min_entry);
        self.continuity.note_released(min_kept);
        result?;
        fsutil::sync_dir(&self.dir)?;
        tracing::info!(dir = %self.dir.display(), index, segments = removed, "released WAL segments");
        Ok(())
    }

    /// Index of the last entry (or of a snapshot marker beyond it); 0 when empty.
    pub fn last_index(&self) -> u64 {
        self.continuity.last_index()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A reader of this WAL's entries by [`Location`].
    pub fn reader(&self) -> WalReader {
        WalReader::new(&self.dir)
    }

    fn ensure_usable(&self) -> Result<(), WalError> {
        if self.poisoned {
            return Err(WalError::Poisoned);
        }
        Ok(())
    }

    fn poison_on_err<T>(&mut self, result: Result<T, WalError>) -> Result<T, WalError> {
        if result.is_err() {
            self.poisoned = true;
        }
        result
    }

    fn maybe_cut(&mut self) -> Result<(), WalError> {
        if self.tail.end() >= self.opts.segment_size {
            self.cut()?;
        }
        Ok(())
    }

    /// Finishes the current segment (durably, truncated to its written length) and starts
    /// the next one, whose header carries the latest hard state.
    fn cut(&mut self) -> Result<(), WalError> {
        self.tail.finish()?;
        let name = SegmentName {
            seq: self.tail_info.name.seq.saturating_add(1),
            first_index: self.continuity.next_index(),
        };
        let new = segment::create(
            &self.dir,
            name,
            &self.metadata,
            self.hard_state.as_ref(),
            self.opts.segment_size,
        )?;
        self.tail = TailWriter::new(new.file, new.info.path.clone(), new.header_len);
        let finished = std::mem::replace(&mut self.tail_info, new.info);
        self.closed.push(finished);
        Ok(())
    }
}

/// Opens the last segment for appending at `end`, first repairing a torn tail: the bytes
/// from its offset are cut off and the preallocation restored, so they read as zero.
fn open_tail(
    path: &Path,
    end: u64,
    torn: Option<TornTail>,
    opts: WalOptions,
) -> Result<TailWriter, WalError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_err("open segment", path))?;
    if let Some(torn) = torn {
        tracing::warn!(
            segment = %path.display(),
            offset = torn.offset,
            discarded_bytes = torn.discarded,
            "WAL tail is torn (a write was interrupted); discarding it"
        );
        file.set_len(torn.offset)
            .map_err(io_err("truncate torn tail", path))?;
    }
    fsutil::preallocate(&file, opts.segment_size, path)?;
    if torn.is_some() {
        fsutil::fdatasync(&file, path)?;
    }
    Ok(TailWriter::new(file, path.to_path_buf(), end))
}

/// Removes temporary segment files left by a creation that crashed before its rename.
fn remove_tmp_files(dir: &Path, tmp_files: &[PathBuf]) -> Result<(), WalError> {
    for path in tmp_files {
        tracing::warn!(file = %path.display(), "removing leftover temporary WAL segment");
        fs::remove_file(path).map_err(io_err("remove temporary segment", path))?;
    }
    if !tmp_files.is_empty() {
        fsutil::sync_dir(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64) -> Entry {
        Entry {
            index,
            term: 1,
            data: vec![1; 10],
        }
    }

    #[test]
    fn a_failed_write_poisons_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path(), b"", WalOptions::default()).unwrap();
        wal.save(None, &[entry(1)]).unwrap();
        // Swap the tail for a read-only handle so the next write fails like a bad disk.
        let path = wal.tail_info.path.clone();
        let read_only = std::fs::File::open(&path).unwrap();
        wal.tail = TailWriter::new(read_only, path, wal.tail.end());

        wal.append(None, &[entry(2)]).unwrap();
        assert!(matches!(wal.sync(), Err(WalError::Io { op: "write", .. })));
        assert!(matches!(
            wal.append(None, &[entry(3)]),
            Err(WalError::Poisoned)
        ));
        assert!(matches!(wal.sync(), Err(WalError::Poisoned)));
        assert!(matches!(
            wal.save_snapshot(&SnapshotMarker::default()),
            Err(WalError::Poisoned)
        ));
    }

    #[test]
    fn sync_without_pending_data_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path(), b"", WalOptions::default()).unwrap();
        let path = wal.tail_info.path.clone();
        // Any write to this read-only tail would fail and poison the WAL.
        wal.tail = TailWriter::new(std::fs::File::open(&path).unwrap(), path, wal.tail.end());
        wal.sync().unwrap();
        wal.save(None, &[]).unwrap();
        assert!(!wal.poisoned);
    }
}
