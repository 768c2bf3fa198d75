//! Waiters for proposals: the proposer registers under the request ID before proposing;
//! the apply loop triggers the waiter with the result once the entry is applied.
//! An entry applied with no waiter (another member's proposal, or one that timed out)
//! is simply not reported.

use std::collections::HashMap;

use etcd_api::etcdserverpb::{
    CompactionResponse, DeleteRangeResponse, LeaseGrantResponse, PutResponse, TxnResponse,
};
use etcd_mvcc::CompactionWaiter;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::error::ServerError;

/// What applying one proposal produced.
#[derive(Debug)]
pub enum Applied {
    Put(PutResponse),
    DeleteRange(DeleteRangeResponse),
    Txn(TxnResponse),
    Compaction(CompactionResponse, Option<CompactionWaiter>),
    LeaseGrant(LeaseGrantResponse),
    /// A lease revoke: the store revision it left (its keys' deletion, if it had keys).
    LeaseRevoke(i64),
    /// An alarm request: the alarms it listed, raised or cleared.
    Alarms(Vec<etcd_api::etcdserverpb::AlarmMember>),
    /// A membership change: the members afterwards.
    Members(Vec<crate::membership::Member>),
    /// Requests whose only answer is the header (member attributes, alarms, ...).
    Empty,
}

pub type ApplyResult = Result<Applied, ServerError>;

const SHARDS: usize = 16;

/// Request ID -> the channel its result goes to. Sharded: every proposal passes here.
#[derive(Debug)]
pub struct Waiters {
    shards: Vec<Mutex<HashMap<u64, oneshot::Sender<ApplyResult>>>>,
}

impl Default for Waiters {
    fn default() -> Self {
        Waiters {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

impl Waiters {
    fn shard(&self, id: u64) -> &Mutex<HashMap<u64, oneshot::Sender<ApplyResult>>> {
        &self.shards[(id as usize) % SHARDS]
    }

    pub fn register(&self, id: u64) -> oneshot::Receiver<ApplyResult> {
        let (tx, rx) = oneshot::channel();
        self.shard(id).lock().insert(id, tx);
        rx
    }

    /// Delivers `result` to the waiter of `id`, if any.
    pub fn trigger(&self, id: u64, result: ApplyResult) {
        if let Some(tx) = self.shard(id).lock().remove(&id) {
            let _ = tx.send(result);
        }
    }

    #[cfg(test)]
    pub fn is_registered(&self, id: u64) -> bool {
        self.shard(id).lock().contains_key(&id)
    }

    /// Forgets a waiter that gave up (timeout, cancellation).
    pub fn cancel(&self, id: u64) {
        self.shard(id).lock().remove(&id);
    }

    /// Fails every waiter (shutdown).
    pub fn fail_all(&self, err: impl Fn() -> ServerError) {
        for shard in &self.shards {
            for (_, tx) in shard.lock().drain() {
                let _ = tx.send(Err(err()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn trigger_reaches_the_registered_waiter_only() {
        let w = Waiters::default();
        let rx = w.register(5);
        w.trigger(6, Ok(Applied::Empty));
        w.trigger(5, Ok(Applied::Empty));
        assert!(matches!(rx.await.unwrap(), Ok(Applied::Empty)));
        assert!(!w.is_registered(5));
    }

    #[tokio::test]
    async fn fail_all_stops_everyone() {
        let w = Waiters::default();
        let rx = w.register(1);
        w.fail_all(|| ServerError::Stopped);
        assert!(matches!(rx.await.unwrap(), Err(ServerError::Stopped)));
    }
}
