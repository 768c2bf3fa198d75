//! Reading a WAL directory back: every segment in order, every rule checked, and a torn
//! tail of the last segment located (repairing it is the opener's job).

use std::fs;
use std::path::Path;

use crate::continuity::Continuity;
use crate::error::{WalError, io_err};
use crate::frame::{self, ALIGN, FrameError};
use crate::reader::Location;
use crate::record::{self, Record};
use crate::segment::SegmentInfo;
use crate::segment_name::SegmentName;
use crate::types::WalContents;

/// Invalid bytes at the end of the last segment with no valid record after them: the
/// remains of a write interrupted by a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TornTail {
    /// Where the first invalid record starts; appends resume here.
    pub(crate) offset: u64,
    /// Bytes from `offset` up to the last non-zero byte.
    pub(crate) discarded: u64,
}

/// The outcome of reading all segments.
#[derive(Debug)]
pub(crate) struct Replayed {
    pub(crate) contents: WalContents,
    pub(crate) continuity: Continuity,
    /// Every segment but the last, oldest first.
    pub(crate) closed: Vec<SegmentInfo>,
    /// The last segment, which writing continues in.
    pub(crate) tail: SegmentInfo,
    /// Where the valid records of the last segment end.
    pub(crate) tail_end: u64,
    pub(crate) torn: Option<TornTail>,
}

/// Reads `segments` (sorted by sequence, at least one) from `dir`.
pub(crate) fn replay(dir: &Path, segments: &[SegmentName]) -> Result<Replayed, WalError> {
    let mut state = State::default();
    let mut infos = Vec::with_capacity(segments.len());
    let mut tail_end = 0;
    let mut torn = None;
    for pair in segments.windows(2) {
        if pair[0].seq.checked_add(1) != Some(pair[1].seq) {
            return Err(corrupt(
                &dir.join(pair[1].file_name()),
                0,
                format!(
                    "segment sequence {:016x} does not follow {:016x} (a segment is missing)",
                    pair[1].seq, pair[0].seq
                ),
            ));
        }
    }
    for (i, &name) in segments.iter().enumerate() {
        let mut info = SegmentInfo::new(dir, name);
        let data = fs::read(&info.path).map_err(io_err("read segment", &info.path))?;
        let is_last = i + 1 == segments.len();
        let (end, tail) = state.read_segment(&data, &mut info, is_last)?;
        tail_end = end as u64;
        torn = tail;
        infos.push(info);
    }
    let (Some(tail), Some(continuity)) = (infos.pop(), state.continuity) else {
        return Err(WalError::NotFound {
            dir: dir.to_path_buf(),
        });
    };
    Ok(Replayed {
        contents: WalContents {
            metadata: state.metadata.unwrap_or_default(),
            hard_state: state.contents.hard_state,
            snapshots: state.contents.snapshots,
            entries: state.contents.entries,
            locations: state.contents.locations,
        },
        continuity,
        closed: infos,
        tail,
        tail_end,
        torn,
    })
}

fn corrupt(segment: &Path, offset: usize, reason: String) -> WalError {
    WalError::Corrupt {
        segment: segment.to_path_buf(),
        offset: offset as u64,
        reason,
    }
}

#[derive(Default)]
struct State {
    metadata: Option<Vec<u8>>,
    contents: WalContents,
    continuity: Option<Continuity>,
}

impl State {
    /// Reads one segment; returns where its valid records end and, for the last segment,
    /// a torn tail if one was found.
    fn read_segment(
        &mut self,
        data: &[u8],
        info: &mut SegmentInfo,
        is_last: bool,
    ) -> Result<(usize, Option<TornTail>), WalError> {
        let path = info.path.clone();
        let mut off = self.read_header(data, info)?;
        loop {
            let err = match frame::decode(data, off) {
                Ok(f) => {
                    let rec = record::decode(&f).map_err(|r| corrupt(&path, off, r))?;
                    self.apply(rec, info, off as u64)
                        .map_err(|r| corrupt(&path, off, r))?;
                    off += f.len;
                    continue;
                }
                Err(err) => err,
            };
            return end_of_records(data, off, err, is_last, &path).map(|torn| (off, torn));
        }
    }

    /// Checks the segment header and metadata records; returns the offset after them.
    fn read_header(&mut self, data: &[u8], info: &SegmentInfo) -> Result<usize, WalError> {
        let path = &info.path;
        let name = info.name;
        let first = frame::decode(data, 0)
            .map_err(|e| corrupt(path, 0, format!("invalid segment header record: {e}")))?;
        match record::decode(&first).map_err(|r| corrupt(path, 0, r))? {
            Record::SegmentHeader(h) if h.seq == name.seq && h.first_index == name.first_index => {}
            Record::SegmentHeader(h) => {
                return Err(corrupt(
                    path,
                    0,
                    format!(
                        "header says sequence {:016x} first index {:016x}, file name disagrees",
                        h.seq, h.first_index
                    ),
                ));
            }
            _ => {
                return Err(corrupt(
                    path,
                    0,
                    "first record is not a segment header".into(),
                ));
            }
        }
        let off = first.len;
        let second = frame::decode(data, off)
            .map_err(|e| corrupt(path, off, format!("invalid metadata record: {e}")))?;
        let Record::Metadata(metadata) =
            record::decode(&second).map_err(|r| corrupt(path, off, r))?
        else {
            return Err(corrupt(
                path,
                off,
                "second record is not the metadata".into(),
            ));
        };
        match &self.metadata {
            None => self.metadata = Some(metadata),
            Some(m) if *m == metadata => {}
            Some(_) => {
                return Err(corrupt(
                    path,
                    off,
                    "metadata differs from the earlier segments".into(),
                ));
            }
        }
        self.continuity = Some(match self.continuity {
            None => Continuity::starting_at(name.first_index),
            Some(c) if c.next_index() == name.first_index => c,
            Some(c) => {
                return Err(corrupt(
                    path,
                    0,
                    format!(
                        "segment starts at index {} but the log before it ends at {}",
                        name.first_index,
                        c.last_index()
                    ),
                ));
            }
        });
        Ok(off + second.len)
    }

    /// Applies one record read from the log body at `offset` of the segment.
    fn apply(&mut self, rec: Record, info: &mut SegmentInfo, offset: u64) -> Result<(), String> {
        let Some(continuity) = self.continuity.as_mut() else {
            return Err("record before the segment header".into());
        };
        let contents = &mut self.contents;
        match rec {
            Record::Entry(e) => {
                continuity
                    .push_entry(e.index)
                    .map_err(|err| err.to_string())?;
                if contents.entries.last().is_some_and(|l| l.index >= e.index) {
                    let keep = contents.entries.partition_point(|x| x.index < e.index);
                    contents.entries.truncate(keep);
                    contents.locations.truncate(keep);
                }
                info.note_entry(e.index);
                contents.entries.push(e);
                contents.locations.push(Location {
                    segment: info.name,
                    offset,
                });
            }
            Record::HardState(hs) => contents.hard_state = Some(hs),
            Record::Snapshot(marker) => {
                if continuity.push_marker(marker.index) {
                    contents.entries.clear();
                    contents.locations.clear();
                }
                info.note_marker(marker.index);
                contents.snapshots.push(marker);
            }
            Record::SegmentHeader(_) | Record::Metadata(_) => {
                return Err("segment header or metadata record in the middle of a segment".into());
            }
        }
        Ok(())
    }
}

/// Decides what the bytes from `off` (where no valid record starts, for reason `err`)
/// mean: a clean end (all zero), a torn tail (last segment, garbage but no valid record
/// after it) or corruption.
fn end_of_records(
    data: &[u8],
    off: usize,
    err: FrameError,
    is_last: bool,
    path: &Path,
) -> Result<Option<TornTail>, WalError> {
    let rest = data.get(off..).unwrap_or_default();
    let Some(last_nonzero) = rest.iter().rposition(|&b| b != 0) else {
        return Ok(None);
    };
    let garbage_end = off + last_nonzero + 1;
    if let Some(valid) = frame::find_valid(data, off + ALIGN, garbage_end) {
        return Err(corrupt(
            path,
            off,
            format!("{err}, yet a valid record follows at offset {valid}; refusing to skip it"),
        ));
    }
    if !is_last {
        return Err(corrupt(
            path,
            off,
            format!("{err} in a segment that is not the last"),
        ));
    }
    Ok(Some(TornTail {
        offset: off as u64,
        discarded: (garbage_end - off) as u64,
    }))
}
