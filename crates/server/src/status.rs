//! The one table from internal errors to etcd's wire errors (exact gRPC code and message).

use etcd_api::WireError;
use etcd_mvcc::MvccError;
use tonic::Status;

use crate::error::ServerError;

/// The etcd wire error for `err`, or None for errors etcd reports as internal ones.
pub fn wire_error(err: &ServerError) -> Option<WireError> {
    use ServerError as S;
    use WireError as W;
    Some(match err {
        S::Mvcc(e) => match e {
            MvccError::EmptyKey => W::EmptyKey,
            MvccError::KeyNotFound => W::KeyNotFound,
            MvccError::ValueProvided => W::ValueProvided,
            MvccError::LeaseProvided => W::LeaseProvided,
            MvccError::TooManyOps => W::TooManyOps,
            MvccError::DuplicateKey => W::DuplicateKey,
            MvccError::InvalidSortOption => W::InvalidSortOption,
            MvccError::Compacted => W::Compacted,
            MvccError::FutureRev => W::FutureRev,
            _ => return None,
        },
        S::TooManyRequests { .. } => W::TooManyRequests,
        S::RequestTooLarge { .. } => W::RequestTooLarge,
        S::Timeout => W::Timeout,
        S::TimeoutDueToLeaderFail => W::TimeoutDueToLeaderFail,
        S::TimeoutWaitAppliedIndex => W::TimeoutWaitAppliedIndex,
        S::Stopped => W::Stopped,
        S::ProposalDropped => W::Timeout,
        S::NoLeader => W::NoLeader,
        S::NotLeader => W::NotLeader,
        S::LeaderChanged => W::LeaderChanged,
        S::NoSpace => W::NoSpace,
        S::LeaseNotFound => W::LeaseNotFound,
        S::LeaseExists => W::LeaseExist,
        S::LeaseTtlTooLarge => W::LeaseTtlTooLarge,
        S::NotSupportedForLearner => W::NotSupportedForLearner,
        S::MemberNotFound => W::MemberNotFound,
        S::MemberExists | S::MemberRemoved => W::MemberExist,
        S::PeerUrlExists => W::PeerUrlExist,
        S::MemberBadUrls => W::MemberBadUrls,
        S::MemberNotLearner => W::MemberNotLearner,
        S::LearnerNotReady => W::LearnerNotReady,
        S::TooManyLearners => W::TooManyLearners,
        S::NotEnoughStartedMembers => W::MemberNotEnoughStarted,
        S::Unhealthy => W::Unhealthy,
        S::BadLeaderTransferee => W::BadLeaderTransferee,
        S::LeaderTransferTimeout => W::TimeoutLeaderTransfer,
        S::CorruptCluster => W::Corrupt,
        S::Wal(_) | S::Raft(_) | S::DataDir { .. } | S::Corrupt(_) | S::Config(_) => {
            return None;
        }
    })
}

/// The status a client receives for `err`: etcd's exact error where etcd has one, an
/// `Unknown` status carrying the message otherwise (as etcd does for unexpected errors).
pub fn to_status(err: &ServerError) -> Status {
    match wire_error(err) {
        Some(w) => w.to_status(),
        None => Status::unknown(err.to_string()),
    }
}

impl From<ServerError> for Status {
    fn from(err: ServerError) -> Self {
        to_status(&err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn request_errors_carry_etcds_words() {
        let s = to_status(&ServerError::RequestTooLarge { size: 10, limit: 5 });
        assert_eq!(
            (s.code(), s.message()),
            (Code::InvalidArgument, "etcdserver: request is too large")
        );
        let s = to_status(&ServerError::TooManyRequests {
            committed: 9000,
            applied: 1,
            gap: 5000,
        });
        assert_eq!(
            (s.code(), s.message()),
            (Code::ResourceExhausted, "etcdserver: too many requests")
        );
        let s = to_status(&ServerError::Mvcc(MvccError::Compacted));
        assert_eq!(
            (s.code(), s.message()),
            (
                Code::OutOfRange,
                "etcdserver: mvcc: required revision has been compacted"
            )
        );
        let s = to_status(&ServerError::Timeout);
        assert_eq!(
            (s.code(), s.message()),
            (Code::Unavailable, "etcdserver: request timed out")
        );
        let s = to_status(&ServerError::Unhealthy);
        assert_eq!(
            (s.code(), s.message()),
            (Code::Unavailable, "etcdserver: unhealthy cluster")
        );
    }
}
