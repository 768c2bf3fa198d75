//! The crate's one error type.

use etcd_mvcc::MvccError;

/// Errors of the lessor. `Backend` and `Corrupt` are fatal (the storage cannot be
/// trusted); the others answer a request and leave the lessor unchanged.
///
/// The messages are etcd's lease package errors; the server maps them to the
/// `etcdserver: ...` wire strings.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("lease not found")]
    NotFound,
    #[error("lease already exists")]
    LeaseExists,
    #[error("too large lease TTL")]
    TtlTooLarge,
    /// Only the primary renews; the caller forwards the request to the leader.
    #[error("not a primary lessor")]
    NotPrimary,
    #[error("lease backend: {0}")]
    Backend(#[from] MvccError),
    /// A record of the Lease bucket that cannot be decoded.
    #[error("lease: corrupt record at key {key:?}: {reason}")]
    Corrupt { key: Vec<u8>, reason: String },
}
