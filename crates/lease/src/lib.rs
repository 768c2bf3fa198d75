//! etcd's lessor: leases granted, checkpointed and revoked through raft (the same on
//! every member), the keys attached to each lease, and — on the primary (the leader)
//! only — the expiry queue, renewals and the checkpoints to propose.
//!
//! Everything is synchronous and cheap: the apply loop (a plain thread) and async request
//! handlers call the same [`Lessor`], which keeps its state behind one short-held lock.
//! Time comes from an injectable monotonic [`Clock`].

mod apply;
mod clock;
mod error;
mod info;
mod lease;
mod lessor;
mod primary;
mod queue;
mod record;
mod recover;
mod spread;
mod state;

use std::time::Duration;

pub use clock::{Clock, ManualClock, MonotonicClock};
pub use error::LeaseError;
pub use info::LeaseInfo;
pub use lessor::Lessor;
pub use record::LeasePb;

/// A lease's id (etcd's LeaseID); [`NO_LEASE`] is never a lease.
pub type LeaseId = i64;

/// The id meaning "no lease" on a key.
pub const NO_LEASE: LeaseId = 0;

/// The largest TTL a lease may be granted, in seconds (etcd's MaxLeaseTTL).
pub const MAX_LEASE_TTL: i64 = 9_000_000_000;

/// How often the primary checkpoints remaining TTLs when given a zero interval (etcd's
/// default lease checkpoint interval).
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// How long a lease returned by [`Lessor::expired`] waits before it is returned again
/// (etcd's expiredLeaseRetryInterval): long enough for its revoke to apply.
pub const EXPIRED_RETRY_INTERVAL: Duration = Duration::from_secs(3);

/// Revokes per second etcd allows; promotion spreads expiries that would exceed it.
pub const LEASE_REVOKE_RATE: usize = 1000;

/// etcd's histogram of granted TTLs in seconds (after raising to the minimum TTL),
/// observed by every member's [`Lessor::grant`], as etcd's lessor does.
pub const LEASE_TTL_METRIC: &str = "etcd_debugging_lease_ttl_total";

/// etcd's buckets for [`LEASE_TTL_METRIC`]: 1 s doubling 14 times
/// (`prometheus.ExponentialBuckets(1, 2, 14)`).
pub fn lease_ttl_buckets() -> Vec<f64> {
    (0..14).map(|i| f64::powi(2.0, i)).collect()
}
