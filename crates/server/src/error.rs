//! The server's error type. Request errors (answered to the client) and fatal errors (the
//! member cannot go on: disk failure, corruption) are kept apart by [`ServerError::is_fatal`].

use etcd_mvcc::MvccError;
use etcd_wal::WalError;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Mvcc(#[from] MvccError),
    #[error(
        "too many requests: committed index {committed} is more than {gap} ahead of applied index {applied}"
    )]
    TooManyRequests {
        committed: u64,
        applied: u64,
        gap: u64,
    },
    #[error("request of {size} bytes is larger than the limit of {limit} bytes")]
    RequestTooLarge { size: usize, limit: usize },
    #[error("request timed out")]
    Timeout,
    #[error("request timed out, possibly due to previous leader failure")]
    TimeoutDueToLeaderFail,
    #[error("request timed out, waiting for the applied index took too long")]
    TimeoutWaitAppliedIndex,
    #[error("server stopped")]
    Stopped,
    /// Raft refused the proposal (no leader known); the proposer retries until its deadline.
    #[error("proposal dropped")]
    ProposalDropped,
    #[error("no leader")]
    NoLeader,
    #[error("not leader")]
    NotLeader,
    #[error("leader changed")]
    LeaderChanged,
    #[error("database space exceeded")]
    NoSpace,
    #[error("requested lease not found")]
    LeaseNotFound,
    #[error("lease already exists")]
    LeaseExists,
    #[error("too large lease TTL")]
    LeaseTtlTooLarge,
    #[error("rpc not supported for learner")]
    NotSupportedForLearner,
    #[error("member not found")]
    MemberNotFound,
    #[error("member ID already exists")]
    MemberExists,
    #[error("member was removed from the cluster")]
    MemberRemoved,
    #[error("peer URLs already exist")]
    PeerUrlExists,
    #[error("given member URLs are invalid")]
    MemberBadUrls,
    #[error("member is not a learner")]
    MemberNotLearner,
    #[error("learner is not in sync with the leader")]
    LearnerNotReady,
    #[error("too many learner members in cluster")]
    TooManyLearners,
    #[error("re-configuration failed due to not enough started members")]
    NotEnoughStartedMembers,
    /// The membership change could break the active quorum (strict reconfig check).
    #[error("unhealthy cluster")]
    Unhealthy,
    #[error("bad leader transferee")]
    BadLeaderTransferee,
    #[error("leader transfer took too long")]
    LeaderTransferTimeout,
    #[error("corrupt cluster")]
    CorruptCluster,

    // Fatal errors: the member stops.
    #[error("write-ahead log: {0}")]
    Wal(#[from] WalError),
    #[error("raft: {0}")]
    Raft(#[from] raft::Error),
    #[error("data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Corrupt(String),
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl ServerError {
    /// Whether a proposal ending with this error counts as failed in
    /// `etcd_server_proposals_failed_total`: as in etcd, only proposals that raft did not
    /// get through (timed out, member stopping, no leader), never requests whose apply
    /// answered with an error (lease not found, no space, ...).
    pub fn is_failed_proposal(&self) -> bool {
        matches!(
            self,
            ServerError::Timeout
                | ServerError::TimeoutDueToLeaderFail
                | ServerError::Stopped
                | ServerError::ProposalDropped
                | ServerError::NoLeader
                | ServerError::LeaderChanged
        )
    }

    /// Fatal errors mean the member cannot safely continue serving.
    pub fn is_fatal(&self) -> bool {
        match self {
            ServerError::Wal(_)
            | ServerError::Raft(_)
            | ServerError::DataDir { .. }
            | ServerError::Corrupt(_)
            | ServerError::Config(_) => true,
            ServerError::Mvcc(e) => matches!(e, MvccError::Backend(..) | MvccError::Corrupt(..)),
            _ => false,
        }
    }
}

impl From<etcd_lease::LeaseError> for ServerError {
    fn from(e: etcd_lease::LeaseError) -> Self {
        use etcd_lease::LeaseError as L;
        match e {
            L::NotFound => ServerError::LeaseNotFound,
            L::LeaseExists => ServerError::LeaseExists,
            L::TtlTooLarge => ServerError::LeaseTtlTooLarge,
            L::NotPrimary => ServerError::NotLeader,
            L::Backend(b) => ServerError::Mvcc(b),
            other => ServerError::Corrupt(other.to_string()),
        }
    }
}

pub type Result<T, E = ServerError> = std::result::Result<T, E>;
