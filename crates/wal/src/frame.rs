//! Record framing: 8-byte aligned, CRC-checked frames on disk.
//!
//! Layout of one frame (little-endian):
//!
//! ```text
//! 0..4    payload length (u32)
//! 4       record type (never 0)
//! 5..8    reserved, zero
//! 8..12   CRC32 over bytes 0..8 and the payload
//! 12..    payload, then zero padding up to a multiple of 8
//! ```
//!
//! Because a type is never 0, an all-zero header marks space that was never written
//! (preallocated or zeroed by a repair).

use std::fmt;

use crate::error::WalError;

/// Frames start at offsets that are multiples of this.
pub(crate) const ALIGN: usize = 8;
/// Bytes before the payload.
pub(crate) const HEADER_LEN: usize = 12;
/// Largest payload the 32-bit length field can describe.
pub(crate) const MAX_PAYLOAD: usize = u32::MAX as usize;

/// The kinds of record; the discriminant is what is stored on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum RecordType {
    SegmentHeader = 1,
    Metadata = 2,
    Entry = 3,
    HardState = 4,
    Snapshot = 5,
}

impl RecordType {
    fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            1 => RecordType::SegmentHeader,
            2 => RecordType::Metadata,
            3 => RecordType::Entry,
            4 => RecordType::HardState,
            5 => RecordType::Snapshot,
            _ => return None,
        })
    }
}

/// A frame that passed every check.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub(crate) record_type: RecordType,
    pub(crate) payload: &'a [u8],
    /// Bytes the frame occupies, padding included.
    pub(crate) len: usize,
}

/// Why no valid frame starts at an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// The header is all zero: nothing was written here.
    Unwritten,
    /// Fewer bytes than a header remain.
    Truncated {
        available: usize,
    },
    BadType(u8),
    BadReserved,
    /// The frame would extend past the end of the data.
    BadLength {
        len: u32,
        available: usize,
    },
    BadCrc {
        stored: u32,
        computed: u32,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Unwritten => write!(f, "unwritten (zero) record header"),
            FrameError::Truncated { available } => {
                write!(f, "truncated record header ({available} bytes left)")
            }
            FrameError::BadType(t) => write!(f, "unknown record type {t}"),
            FrameError::BadReserved => write!(f, "non-zero reserved header bytes"),
            FrameError::BadLength { len, available } => write!(
                f,
                "record length {len} exceeds the {available} bytes left in the segment"
            ),
            FrameError::BadCrc { stored, computed } => write!(
                f,
                "CRC mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
        }
    }
}

/// Bytes a frame with `payload_len` bytes of payload occupies.
pub(crate) fn frame_len(payload_len: usize) -> usize {
    (HEADER_LEN + payload_len).next_multiple_of(ALIGN)
}

/// Fails when a payload of `size` bytes cannot be framed.
pub(crate) fn check_payload_size(size: usize) -> Result<(), WalError> {
    if size > MAX_PAYLOAD {
        return Err(WalError::RecordTooLarge {
            size,
            max: MAX_PAYLOAD,
        });
    }
    Ok(())
}

/// Appends one frame to `buf`; `write_payload` appends the payload. `buf.len()` must be a
/// multiple of [`ALIGN`] so frames stay aligned. On error `buf` is left unchanged.
pub(crate) fn encode(
    buf: &mut Vec<u8>,
    record_type: RecordType,
    write_payload: impl FnOnce(&mut Vec<u8>),
) -> Result<(), WalError> {
    let start = buf.len();
    buf.extend_from_slice(&[0; HEADER_LEN]);
    write_payload(buf);
    let payload_len = buf.len() - start - HEADER_LEN;
    let Ok(len32) = u32::try_from(payload_len) else {
        buf.truncate(start);
        return Err(WalError::RecordTooLarge {
            size: payload_len,
            max: MAX_PAYLOAD,
        });
    };
    buf[start..start + 4].copy_from_slice(&len32.to_le_bytes());
    buf[start + 4] = record_type as u8;
    let crc = checksum(&buf[start..start + 8], &buf[start + HEADER_LEN..]);
    buf[start + 8..start + HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    buf.resize(start + frame_len(payload_len), 0);
    Ok(())
}

/// Decodes the frame starting at `offset` of `data` (the whole segment).
pub(crate) fn decode(data: &[u8], offset: usize) -> Result<Frame<'_>, FrameError> {
    let rest = data.get(offset..).unwrap_or_default();
    let Some(header) = rest.get(..HEADER_LEN) else {
        if rest.iter().all(|&b| b == 0) {
            return Err(FrameError::Unwritten);
        }
        return Err(FrameError::Truncated {
            available: rest.len(),
        });
    };
    if header.iter().all(|&b| b == 0) {
        return Err(FrameError::Unwritten);
    }
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let record_type = RecordType::from_byte(header[4]).ok_or(FrameError::BadType(header[4]))?;
    if header[5..8] != [0, 0, 0] {
        return Err(FrameError::BadReserved);
    }
    let total = frame_len(len as usize);
    if total > rest.len() {
        return Err(FrameError::BadLength {
            len,
            available: rest.len(),
        });
    }
    let payload = &rest[HEADER_LEN..HEADER_LEN + len as usize];
    let stored = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    let computed = checksum(&header[..8], payload);
    if stored != computed {
        return Err(FrameError::BadCrc { stored, computed });
    }
    Ok(Frame {
        record_type,
        payload,
        len: total,
    })
}

/// The first aligned offset in `from..until` where a valid frame starts.
pub(crate) fn find_valid(data: &[u8], from: usize, until: usize) -> Option<usize> {
    (from..until.min(data.len()))
        .step_by(ALIGN)
        .find(|&offset| decode(data, offset).is_ok())
}

fn checksum(header: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(header);
    hasher.update(payload);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut buf = Vec::new();
        encode(&mut buf, RecordType::Entry, |b| {
            b.extend_from_slice(payload)
        })
        .unwrap();
        buf
    }

    #[test]
    fn round_trips_and_pads_to_alignment() {
        for n in 0..20 {
            let payload: Vec<u8> = (0..n).map(|i| i as u8 + 1).collect();
            let buf = framed(&payload);
            assert_eq!(buf.len() % ALIGN, 0);
            assert_eq!(buf.len(), frame_len(n as usize));
            let frame = decode(&buf, 0).unwrap();
            assert_eq!(frame.record_type, RecordType::Entry);
            assert_eq!(frame.payload, &payload[..]);
            assert_eq!(frame.len, buf.len());
        }
    }

    #[test]
    fn zero_header_is_unwritten() {
        assert_eq!(decode(&[0; 64], 0).unwrap_err(), FrameError::Unwritten);
        assert_eq!(decode(&[0; 4], 0).unwrap_err(), FrameError::Unwritten);
        assert_eq!(decode(&[], 0).unwrap_err(), FrameError::Unwritten);
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let buf = framed(b"hello wal");
        let payload_end = HEADER_LEN + 9;
        for byte in 0..payload_end {
            for bit in 0..8 {
                let mut bad = buf.clone();
                bad[byte] ^= 1 << bit;
                assert!(decode(&bad, 0).is_err(), "flip at byte {byte} bit {bit}");
            }
        }
    }

    #[test]
    fn short_data_is_rejected() {
        let buf = framed(b"0123456789");
        assert!(matches!(
            decode(&buf[..buf.len() - 8], 0),
            Err(FrameError::BadLength { .. })
        ));
        assert!(matches!(
            decode(&buf[..5], 0),
            Err(FrameError::Truncated { available: 5 })
        ));
    }

    #[test]
    fn find_valid_locates_aligned_frames() {
        let mut data = vec![0xAB; 16];
        data.extend(framed(b"x"));
        assert_eq!(find_valid(&data, 0, data.len()), Some(16));
        assert_eq!(find_valid(&data, 24, data.len()), None);
        assert_eq!(find_valid(&data, 0, 16), None);
    }
}
