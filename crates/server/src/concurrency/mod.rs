//! etcd's concurrency recipes (its `client/v3/concurrency` mutex and election) run inside
//! the member for the Lock and Election services, on the member's own KV and watch paths:
//! writes go through raft, reads are linearizable, waits are watches on the local store.
//!
//! Both recipes queue candidates as keys `<name>/<lease in hex>` under one prefix; the
//! key with the lowest create revision holds the lock or the leadership, and a waiter
//! waits for every key created before its own to be deleted.

mod cancel;
mod election;
mod error;
mod mutex;
mod observe;
mod ops;
mod session;
mod wait;

#[cfg(test)]
mod test_member;

pub use election::{campaign, leader, proclaim, resign};
pub use error::ConcurrencyError;
pub use mutex::lock;
pub use observe::observe;
