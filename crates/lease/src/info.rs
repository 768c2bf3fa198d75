//! What the lessor tells about one lease (grant and time-to-live answers).

use crate::LeaseId;

/// A lease as seen at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseInfo {
    pub id: LeaseId,
    /// The TTL (seconds) the lease counts down from when a member becomes primary: the
    /// last checkpointed remaining TTL if one is recorded, else `granted_ttl` (etcd's
    /// getRemainingTTL). Equal to `granted_ttl` right after a grant.
    pub ttl: i64,
    /// The TTL the lease was granted, after raising it to the minimum TTL (the
    /// `TTL` of a grant or keep-alive answer, `GrantedTTL` of a time-to-live answer).
    pub granted_ttl: i64,
    /// Seconds left: on the primary the time to the expiry rounded up, -1 once it has
    /// passed; on a follower (which does not count down) `ttl`.
    pub remaining: i64,
    /// Attached keys, ascending; empty unless asked for.
    pub keys: Vec<Vec<u8>>,
}
