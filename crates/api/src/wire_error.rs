//! Every error etcd's server puts on the wire, with its exact gRPC code and message.
//! Clients (clientv3, etcdctl, etcd-client) recognise errors by message string, so these
//! texts must never change.

use tonic::{Code, Status};

/// An error as etcd reports it to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireError {
    EmptyKey,
    KeyNotFound,
    ValueProvided,
    LeaseProvided,
    TtlZero,
    TooManyOps,
    DuplicateKey,
    InvalidSortOption,
    Compacted,
    FutureRev,
    NoSpace,
    LeaseNotFound,
    LeaseExist,
    LeaseTtlTooLarge,
    WatchCanceled,
    MemberExist,
    PeerUrlExist,
    MemberNotEnoughStarted,
    MemberBadUrls,
    MemberNotFound,
    MemberNotLearner,
    LearnerNotReady,
    TooManyLearners,
    RequestTooLarge,
    TooManyRequests,
    RootUserNotExist,
    RootRoleNotExist,
    UserAlreadyExist,
    UserEmpty,
    UserNotFound,
    RoleAlreadyExist,
    RoleNotFound,
    RoleEmpty,
    AuthFailed,
    PermissionNotGiven,
    PermissionDenied,
    RoleNotGranted,
    PermissionNotGranted,
    AuthNotEnabled,
    InvalidAuthToken,
    InvalidAuthMgmt,
    AuthOldRevision,
    NoLeader,
    NotLeader,
    LeaderChanged,
    NotCapable,
    Stopped,
    Timeout,
    TimeoutDueToLeaderFail,
    TimeoutDueToConnectionLost,
    TimeoutWaitAppliedIndex,
    Unhealthy,
    Corrupt,
    NotSupportedForLearner,
    BadLeaderTransferee,
    TimeoutLeaderTransfer,
    ClusterVersionUnavailable,
    WrongDowngradeVersionFormat,
    InvalidDowngradeTargetVersion,
    DowngradeInProcess,
    NoInflightDowngrade,
    Canceled,
    DeadlineExceeded,
}

impl WireError {
    /// The gRPC code and message etcd sends for this error.
    pub const fn code_and_message(self) -> (Code, &'static str) {
        use Code::*;
        use WireError as E;
        match self {
            E::EmptyKey => (InvalidArgument, "etcdserver: key is not provided"),
            E::KeyNotFound => (InvalidArgument, "etcdserver: key not found"),
            E::ValueProvided => (InvalidArgument, "etcdserver: value is provided"),
            E::LeaseProvided => (InvalidArgument, "etcdserver: lease is provided"),
            E::TtlZero => (InvalidArgument, "etcdserver: ttl is 0"),
            E::TooManyOps => (
                InvalidArgument,
                "etcdserver: too many operations in txn request",
            ),
            E::DuplicateKey => (
                InvalidArgument,
                "etcdserver: duplicate key given in txn request",
            ),
            E::InvalidSortOption => (InvalidArgument, "etcdserver: invalid sort option"),
            E::Compacted => (
                OutOfRange,
                "etcdserver: mvcc: required revision has been compacted",
            ),
            E::FutureRev => (
                OutOfRange,
                "etcdserver: mvcc: required revision is a future revision",
            ),
            E::NoSpace => (
                ResourceExhausted,
                "etcdserver: mvcc: database space exceeded",
            ),
            E::LeaseNotFound => (NotFound, "etcdserver: requested lease not found"),
            E::LeaseExist => (FailedPrecondition, "etcdserver: lease already exists"),
            E::LeaseTtlTooLarge => (OutOfRange, "etcdserver: too large lease TTL"),
            E::WatchCanceled => (Cancelled, "etcdserver: watch canceled"),
            E::MemberExist => (FailedPrecondition, "etcdserver: member ID already exist"),
            E::PeerUrlExist => (FailedPrecondition, "etcdserver: Peer URLs already exists"),
            E::MemberNotEnoughStarted => (
                FailedPrecondition,
                "etcdserver: re-configuration failed due to not enough started members",
            ),
            E::MemberBadUrls => (InvalidArgument, "etcdserver: given member URLs are invalid"),
            E::MemberNotFound => (NotFound, "etcdserver: member not found"),
            E::MemberNotLearner => (
                FailedPrecondition,
                "etcdserver: can only promote a learner member",
            ),
            E::LearnerNotReady => (
                FailedPrecondition,
                "etcdserver: can only promote a learner member which is in sync with leader",
            ),
            E::TooManyLearners => (
                FailedPrecondition,
                "etcdserver: too many learner members in cluster",
            ),
            E::RequestTooLarge => (InvalidArgument, "etcdserver: request is too large"),
            E::TooManyRequests => (ResourceExhausted, "etcdserver: too many requests"),
            E::RootUserNotExist => (FailedPrecondition, "etcdserver: root user does not exist"),
            E::RootRoleNotExist => (
                FailedPrecondition,
                "etcdserver: root user does not have root role",
            ),
            E::UserAlreadyExist => (FailedPrecondition, "etcdserver: user name already exists"),
            E::UserEmpty => (InvalidArgument, "etcdserver: user name is empty"),
            E::UserNotFound => (FailedPrecondition, "etcdserver: user name not found"),
            E::RoleAlreadyExist => (FailedPrecondition, "etcdserver: role name already exists"),
            E::RoleNotFound => (FailedPrecondition, "etcdserver: role name not found"),
            E::RoleEmpty => (InvalidArgument, "etcdserver: role name is empty"),
            E::AuthFailed => (
                InvalidArgument,
                "etcdserver: authentication failed, invalid user ID or password",
            ),
            E::PermissionNotGiven => (InvalidArgument, "etcdserver: permission not given"),
            E::PermissionDenied => (PermissionDenied, "etcdserver: permission denied"),
            E::RoleNotGranted => (
                FailedPrecondition,
                "etcdserver: role is not granted to the user",
            ),
            E::PermissionNotGranted => (
                FailedPrecondition,
                "etcdserver: permission is not granted to the role",
            ),
            E::AuthNotEnabled => (
                FailedPrecondition,
                "etcdserver: authentication is not enabled",
            ),
            E::InvalidAuthToken => (Unauthenticated, "etcdserver: invalid auth token"),
            E::InvalidAuthMgmt => (InvalidArgument, "etcdserver: invalid auth management"),
            E::AuthOldRevision => (InvalidArgument, "etcdserver: revision of auth store is old"),
            E::NoLeader => (Unavailable, "etcdserver: no leader"),
            E::NotLeader => (FailedPrecondition, "etcdserver: not leader"),
            E::LeaderChanged => (Unavailable, "etcdserver: leader changed"),
            E::NotCapable => (Unavailable, "etcdserver: not capable"),
            E::Stopped => (Unavailable, "etcdserver: server stopped"),
            E::Timeout => (Unavailable, "etcdserver: request timed out"),
            E::TimeoutDueToLeaderFail => (
                Unavailable,
                "etcdserver: request timed out, possibly due to previous leader failure",
            ),
            E::TimeoutDueToConnectionLost => (
                Unavailable,
                "etcdserver: request timed out, possibly due to connection lost",
            ),
            E::TimeoutWaitAppliedIndex => (
                Unavailable,
                "etcdserver: request timed out, waiting for the applied index took too long",
            ),
            E::Unhealthy => (Unavailable, "etcdserver: unhealthy cluster"),
            E::Corrupt => (DataLoss, "etcdserver: corrupt cluster"),
            E::NotSupportedForLearner => (Unavailable, "etcdserver: rpc not supported for learner"),
            E::BadLeaderTransferee => (FailedPrecondition, "etcdserver: bad leader transferee"),
            E::TimeoutLeaderTransfer => (
                DeadlineExceeded,
                "etcdserver: request timed out, leader transfer took too long",
            ),
            E::ClusterVersionUnavailable => (
                Unavailable,
                "etcdserver: cluster version not found during downgrade",
            ),
            E::WrongDowngradeVersionFormat => (
                InvalidArgument,
                "etcdserver: wrong downgrade target version format",
            ),
            E::InvalidDowngradeTargetVersion => (
                InvalidArgument,
                "etcdserver: invalid downgrade target version",
            ),
            E::DowngradeInProcess => (
                FailedPrecondition,
                "etcdserver: cluster has a downgrade job in progress",
            ),
            E::NoInflightDowngrade => (FailedPrecondition, "etcdserver: no inflight downgrade job"),
            E::Canceled => (Cancelled, "etcdserver: request canceled"),
            E::DeadlineExceeded => (DeadlineExceeded, "etcdserver: context deadline exceeded"),
        }
    }

    pub const fn code(self) -> Code {
        self.code_and_message().0
    }

    pub const fn message(self) -> &'static str {
        self.code_and_message().1
    }

    pub fn to_status(self) -> Status {
        let (code, message) = self.code_and_message();
        Status::new(code, message)
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for WireError {}

impl From<WireError> for Status {
    fn from(e: WireError) -> Self {
        e.to_status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_etcds_prefix_and_codes() {
        assert_eq!(
            WireError::RequestTooLarge.message(),
            "etcdserver: request is too large"
        );
        assert_eq!(WireError::TooManyRequests.code(), Code::ResourceExhausted);
        assert_eq!(WireError::Compacted.code(), Code::OutOfRange);
        let s: Status = WireError::Timeout.into();
        assert_eq!(s.code(), Code::Unavailable);
        assert_eq!(s.message(), "etcdserver: request timed out");
    }
}
