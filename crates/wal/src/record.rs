//! Payloads of the record types: encoding into frames and decoding from them.
//!
//! All integers are little-endian u64. Payloads:
//! segment header = magic(8) version(u32) reserved(u32) seq first_index;
//! metadata = raw bytes; entry = index term data; hard state = term vote commit;
//! snapshot marker = index term conf_state.

use crate::error::WalError;
use crate::frame::{self, Frame, RecordType};
use crate::types::{Entry, HardState, SnapshotMarker};

const MAGIC: [u8; 8] = *b"ETCD-WAL";
const VERSION: u32 = 1;
const SEGMENT_HEADER_LEN: usize = 32;
const HARD_STATE_LEN: usize = 24;
/// Fixed part of entry and snapshot payloads (index, term).
const INDEX_TERM_LEN: usize = 16;

/// First record of every segment; `seq` and `first_index` repeat the file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SegmentHeader {
    pub(crate) seq: u64,
    /// The index the next entry was expected at when the segment was started.
    pub(crate) first_index: u64,
}

/// A decoded record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Record {
    SegmentHeader(SegmentHeader),
    Metadata(Vec<u8>),
    Entry(Entry),
    HardState(HardState),
    Snapshot(SnapshotMarker),
}

pub(crate) fn encode_segment_header(buf: &mut Vec<u8>, h: &SegmentHeader) -> Result<(), WalError> {
    frame::encode(buf, RecordType::SegmentHeader, |b| {
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&h.seq.to_le_bytes());
        b.extend_from_slice(&h.first_index.to_le_bytes());
    })
}

pub(crate) fn encode_metadata(buf: &mut Vec<u8>, metadata: &[u8]) -> Result<(), WalError> {
    frame::check_payload_size(metadata.len())?;
    frame::encode(buf, RecordType::Metadata, |b| b.extend_from_slice(metadata))
}

/// Fails when `entry` is too large to frame; lets a batch be checked before any write.
pub(crate) fn check_entry(entry: &Entry) -> Result<(), WalError> {
    frame::check_payload_size(entry.data.len().saturating_add(INDEX_TERM_LEN))
}

pub(crate) fn encode_entry(buf: &mut Vec<u8>, entry: &Entry) -> Result<(), WalError> {
    check_entry(entry)?;
    frame::encode(buf, RecordType::Entry, |b| {
        b.extend_from_slice(&entry.index.to_le_bytes());
        b.extend_from_slice(&entry.term.to_le_bytes());
        b.extend_from_slice(&entry.data);
    })
}

pub(crate) fn encode_hard_state(buf: &mut Vec<u8>, hs: &HardState) -> Result<(), WalError> {
    frame::encode(buf, RecordType::HardState, |b| {
        b.extend_from_slice(&hs.term.to_le_bytes());
        b.extend_from_slice(&hs.vote.to_le_bytes());
        b.extend_from_slice(&hs.commit.to_le_bytes());
    })
}

pub(crate) fn check_snapshot(marker: &SnapshotMarker) -> Result<(), WalError> {
    frame::check_payload_size(marker.conf_state.len().saturating_add(INDEX_TERM_LEN))
}

pub(crate) fn encode_snapshot(buf: &mut Vec<u8>, marker: &SnapshotMarker) -> Result<(), WalError> {
    check_snapshot(marker)?;
    frame::encode(buf, RecordType::Snapshot, |b| {
        b.extend_from_slice(&marker.index.to_le_bytes());
        b.extend_from_slice(&marker.term.to_le_bytes());
        b.extend_from_slice(&marker.conf_state);
    })
}

/// Decodes a frame's payload; the error is a reason for `WalError::Corrupt`.
pub(crate) fn decode(frame: &Frame<'_>) -> Result<Record, String> {
    let p = frame.payload;
    match frame.record_type {
        RecordType::SegmentHeader => {
            if p.len() != SEGMENT_HEADER_LEN {
                return Err(format!("segment header of {} bytes", p.len()));
            }
            if p[..8] != MAGIC {
                return Err("bad segment magic (not a WAL segment)".to_owned());
            }
            let version = u32::from_le_bytes([p[8], p[9], p[10], p[11]]);
            if version != VERSION {
                return Err(format!(
                    "unsupported segment format version {version} (expected {VERSION})"
                ));
            }
            Ok(Record::SegmentHeader(SegmentHeader {
                seq: u64_at(p, 16),
                first_index: u64_at(p, 24),
            }))
        }
        RecordType::Metadata => Ok(Record::Metadata(p.to_vec())),
        RecordType::Entry => {
            if p.len() < INDEX_TERM_LEN {
                return Err(format!("entry record of {} bytes", p.len()));
            }
            Ok(Record::Entry(Entry {
                index: u64_at(p, 0),
                term: u64_at(p, 8),
                data: p[INDEX_TERM_LEN..].to_vec(),
            }))
        }
        RecordType::HardState => {
            if p.len() != HARD_STATE_LEN {
                return Err(format!("hard state record of {} bytes", p.len()));
            }
            Ok(Record::HardState(HardState {
                term: u64_at(p, 0),
                vote: u64_at(p, 8),
                commit: u64_at(p, 16),
            }))
        }
        RecordType::Snapshot => {
            if p.len() < INDEX_TERM_LEN {
                return Err(format!("snapshot record of {} bytes", p.len()));
            }
            Ok(Record::Snapshot(SnapshotMarker {
                index: u64_at(p, 0),
                term: u64_at(p, 8),
                conf_state: p[INDEX_TERM_LEN..].to_vec(),
            }))
        }
    }
}

/// The u64 at `at`; callers have checked that `p` holds 8 bytes there.
fn u64_at(p: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&p[at..at + 8]);
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(encode: impl FnOnce(&mut Vec<u8>) -> Result<(), WalError>) -> Record {
        let mut buf = Vec::new();
        encode(&mut buf).unwrap();
        let frame = frame::decode(&buf, 0).unwrap();
        assert_eq!(frame.len, buf.len());
        decode(&frame).unwrap()
    }

    #[test]
    fn every_record_type_round_trips() {
        let h = SegmentHeader {
            seq: 7,
            first_index: 42,
        };
        assert_eq!(
            round_trip(|b| encode_segment_header(b, &h)),
            Record::SegmentHeader(h)
        );
        assert_eq!(
            round_trip(|b| encode_metadata(b, b"meta")),
            Record::Metadata(b"meta".to_vec())
        );
        let e = Entry {
            index: 3,
            term: 2,
            data: b"payload".to_vec(),
        };
        assert_eq!(round_trip(|b| encode_entry(b, &e)), Record::Entry(e));
        let hs = HardState {
            term: 5,
            vote: 1,
            commit: 9,
        };
        assert_eq!(
            round_trip(|b| encode_hard_state(b, &hs)),
            Record::HardState(hs)
        );
        let s = SnapshotMarker {
            index: 100,
            term: 4,
            conf_state: vec![1, 2, 3],
        };
        assert_eq!(round_trip(|b| encode_snapshot(b, &s)), Record::Snapshot(s));
    }

    #[test]
    fn malformed_payloads_are_reasons_not_panics() {
        let mut buf = Vec::new();
        frame::encode(&mut buf, RecordType::Entry, |b| {
            b.extend_from_slice(&[1; 15])
        })
        .unwrap();
        assert!(decode(&frame::decode(&buf, 0).unwrap()).is_err());

        let mut buf = Vec::new();
        frame::encode(&mut buf, RecordType::SegmentHeader, |b| {
            b.extend_from_slice(&[0; SEGMENT_HEADER_LEN]);
        })
        .unwrap();
        let reason = decode(&frame::decode(&buf, 0).unwrap()).unwrap_err();
        assert!(reason.contains("magic"), "{reason}");
    }
}
