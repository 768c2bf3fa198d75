//! Segmented, CRC-framed, preallocated write-ahead log of raft entries, hard state and
//! snapshot markers.
//!
//! A WAL directory holds segment files named `{seq:016x}-{first_index:016x}.wal` and a
//! lock file. Each segment starts with a segment header, the metadata and the latest
//! hard state, so it can be read without the segments before it. Records are 8-byte
//! aligned CRC32 frames (see `frame`); unwritten space is zero. Entries carry opaque
//! bytes: this crate knows nothing about raft-rs types.
//!
//! Durability: [`Wal::append`] only buffers, [`Wal::sync`] issues one write and one
//! fdatasync; [`Wal::save`] does both. A crash can only tear the tail of the last
//! segment, which [`Wal::open`] repairs; any other damage is reported as
//! [`WalError::Corrupt`].

mod continuity;
mod error;
mod frame;
mod fsutil;
mod lock;
mod reader;
mod record;
mod release;
mod replay;
mod segment;
mod segment_name;
mod tail;
mod types;
mod wal;

pub use error::WalError;
pub use reader::{Location, WalReader};
pub use types::{Entry, HardState, SnapshotMarker, WalContents, WalOptions};
pub use wal::Wal;
