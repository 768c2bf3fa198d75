//! Revisioned key-value store with etcd's mvcc semantics on a [`Backend`] trait (sled by
//! default): an in-memory key index rebuilt from the backend on open, range / put /
//! delete / txn exactly as etcd's applier answers them, compaction removed off the
//! writer's path, and a hash of the key space that members can compare.
//!
//! One writer (the apply loop) at a time goes through [`KvStore::write`]; any number of
//! readers call [`KvStore::range`], [`KvStore::read_txn`] and [`KvStore::hash_kv`]
//! concurrently and only ever see fully committed revisions.

mod backend;
mod bucket;
mod buffered_backend;
mod compaction;
mod compare;
mod crc32c;
mod error;
mod hash;
mod history;
mod key_chunks;
mod key_index;
mod key_range;
mod mem_backend;
mod meta;
mod range;
mod readers;
mod restore;
mod revision;
mod sled_backend;
mod snapshot;
mod store;
mod tree_index;
mod txn;
pub mod validate;
mod view;
pub mod watch;
mod write_batch;
mod write_txn;
mod writer_gate;

pub use backend::{Backend, KvPairs};
pub use bucket::Bucket;
pub use buffered_backend::BufferedBackend;
pub use compaction::CompactionWaiter;
pub use error::MvccError;
pub use mem_backend::MemBackend;
pub use sled_backend::SledBackend;
pub use snapshot::SnapshotInfo;
pub use store::{CompactionHold, KvStore};
pub use write_batch::{BatchOp, WriteBatch};
pub use write_txn::WriteTxn;
