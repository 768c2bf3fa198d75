//! Why a lock or election request failed, in etcd's words.

use tonic::Status;

use crate::error::ServerError;

/// A failed lock or election request. etcd's Lock and Election services run their
/// recipes through an in-process client that turns every error into a plain one, so all
/// of them, the KV errors underneath included, reach the client with gRPC code
/// `Unknown` and etcd's message (`etcdserver: requested lease not found`, ...).
#[derive(Debug, thiserror::Error)]
pub enum ConcurrencyError {
    #[error(transparent)]
    Server(#[from] ServerError),
    /// Proclaim by a key that no longer leads (etcd's ErrElectionNotLeader).
    #[error("election: not leader")]
    NotLeader,
    /// Leader of an election nobody campaigns in (etcd's ErrElectionNoLeader).
    #[error("election: no leader")]
    NoLeader,
    /// The waiter's own key vanished (its lease expired) while it waited (etcd's
    /// ErrSessionExpired).
    #[error("mutex: session is expired")]
    SessionExpired,
    /// Proclaim or Resign without a leader key (etcd's ErrMissingLeaderKey).
    #[error("\"leader\" field must be provided")]
    MissingLeaderKey,
    /// The watch on a predecessor's key ended before its deletion.
    #[error("lost watcher waiting for delete")]
    LostWatcher,
    /// The caller went away while the request waited (Go's context.Canceled); nobody
    /// receives it.
    #[error("context canceled")]
    Cancelled,
}

impl From<ConcurrencyError> for Status {
    fn from(err: ConcurrencyError) -> Self {
        match err {
            ConcurrencyError::Server(e) => Status::unknown(Status::from(e).message()),
            other => Status::unknown(other.to_string()),
        }
    }
}

pub type Result<T, E = ConcurrencyError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn recipe_errors_are_unknown_with_etcds_message() {
        let s = Status::from(ConcurrencyError::NotLeader);
        assert_eq!(
            (s.code(), s.message()),
            (Code::Unknown, "election: not leader")
        );
        let s = Status::from(ConcurrencyError::MissingLeaderKey);
        assert_eq!(s.message(), "\"leader\" field must be provided");
        let s = Status::from(ConcurrencyError::Server(ServerError::LeaseNotFound));
        assert_eq!(
            (s.code(), s.message()),
            (Code::Unknown, "etcdserver: requested lease not found")
        );
    }
}
