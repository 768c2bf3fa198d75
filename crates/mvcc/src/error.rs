//! The crate's one error type: request errors etcd answers to clients (with etcd's wording)
//! and fatal storage errors.

/// Errors of the mvcc store and of the request checks in [`crate::validate`].
///
/// `Backend` and `Corrupt` are fatal (the storage cannot be trusted any more); every other
/// variant is an answer to a bad or unlucky request and leaves the store unchanged.
#[derive(Debug, thiserror::Error)]
pub enum MvccError {
    #[error("etcdserver: key is not provided")]
    EmptyKey,
    #[error("etcdserver: key not found")]
    KeyNotFound,
    #[error("etcdserver: value is provided")]
    ValueProvided,
    #[error("etcdserver: lease is provided")]
    LeaseProvided,
    #[error("etcdserver: too many operations in txn request")]
    TooManyOps,
    #[error("etcdserver: duplicate key given in txn request")]
    DuplicateKey,
    #[error("etcdserver: invalid sort option")]
    InvalidSortOption,
    #[error("mvcc: required revision has been compacted")]
    Compacted,
    #[error("mvcc: required revision is a future revision")]
    FutureRev,
    /// [`crate::KvStore::read_txn`] was given a txn that puts or deletes.
    #[error("mvcc: txn with writes given to a read-only transaction")]
    NotReadOnly,
    /// The storage engine failed while doing `.0`.
    #[error("mvcc backend: {0}: {1}")]
    Backend(&'static str, #[source] std::io::Error),
    /// The backend holds data the store cannot make sense of.
    #[error("mvcc: corrupt backend: {0}")]
    Corrupt(String),
}

impl MvccError {
    /// A `Backend` error for a failed `op` with `err` as the cause.
    pub(crate) fn backend(op: &'static str, err: impl Into<std::io::Error>) -> Self {
        MvccError::Backend(op, err.into())
    }
}
