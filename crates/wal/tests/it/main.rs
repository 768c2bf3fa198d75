//! Integration tests of the WAL through its public API and its files on disk.

mod common;
mod corruption;
mod crash;
mod lock;
mod overwrite;
mod read_back;
mod release;
mod round_trip;
mod torn_tail;
