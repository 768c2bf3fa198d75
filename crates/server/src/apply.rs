//! The apply loop: applies committed entries in order, each in one backend write together
//! with its raft index (the consistent index), so a restart replays exactly the entries
//! after it. Wakes the proposer's waiter with the result and triggers snapshots.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

use etcd_api::etcdserverpb::{CompactionResponse, InternalRaftRequest, ResponseHeader};
use etcd_mvcc::watch::WatchableStore;
use etcd_mvcc::{KvStore, WriteTxn};
use prost::Message as _;
use raft::eraftpb::{Entry, EntryType};

use crate::error::{Result, ServerError};
use crate::membership::Membership;
use crate::metrics as m;
use crate::node_state::NodeState;
use crate::raft_loop::RaftMsg;
use crate::wait::{Applied, ApplyResult, Waiters};

pub struct ApplyLoop {
    pub rx: Receiver<Vec<Entry>>,
    pub store: Arc<KvStore>,
    pub watchable: Arc<WatchableStore>,
    pub membership: Arc<Membership>,
    pub waiters: Arc<Waiters>,
    pub state: Arc<NodeState>,
    pub raft_tx: Sender<RaftMsg>,
    pub snapshot_count: u64,
    /// Index of the last snapshot marker (the backend was durable at it).
    pub snapshot_index: u64,
}

impl ApplyLoop {
    pub fn run(mut self) {
        while let Ok(entries) = self.rx.recv() {
            if let Err(e) = self.apply_batch(entries) {
                self.state.fail(e.to_string());
                break;
            }
            if self.state.is_stopped() {
                break;
            }
        }
        // Make what was applied durable so a clean restart replays little.
        if let Err(e) = self.store.backend().sync() {
            tracing::warn!(error = %e, "backend sync at shutdown failed");
        }
    }

    fn apply_batch(&mut self, entries: Vec<Entry>) -> Result<()> {
        let Some(last) = entries.last() else {
            return Ok(());
        };
        let (last_index, last_term) = (last.index, last.term);
        for e in &entries {
            if e.index <= self.store.consistent_index() {
                continue; // already in the backend (replayed after a restart)
            }
            self.apply_entry(e)?;
        }
        self.state.set_applied(last_index);
        metrics::gauge!(m::PROPOSALS_APPLIED).set(last_index as f64);
        if last_index - self.snapshot_index >= self.snapshot_count {
            self.snapshot(last_index, last_term)?;
        }
        Ok(())
    }

    fn apply_entry(&self, e: &Entry) -> Result<()> {
        match e.get_entry_type() {
            EntryType::EntryNormal if !e.data.is_empty() => {
                let req = match InternalRaftRequest::decode(e.data.as_ref()) {
                    Ok(r) => r,
                    Err(err) => {
                        return Err(ServerError::Corrupt(format!(
                            "undecodable request at raft index {}: {err}",
                            e.index
                        )));
                    }
                };
                let id = req.header.as_ref().map(|h| h.id).unwrap_or(req.id);
                let mut txn = self.store.write(e.index);
                let result = self.apply_request(&mut txn, req);
                let revision = txn.revision();
                let events = txn.commit()?;
                if !events.is_empty() {
                    self.watchable.notify(revision, &events);
                }
                self.waiters.trigger(id, result);
            }
            // Empty entries (a new leader's first) and configuration changes only move the
            // consistent index for now; membership changes arrive with the cluster work.
            _ => {
                self.store.write(e.index).commit()?;
            }
        }
        Ok(())
    }

    /// Applies one request inside `txn`. A request error leaves `txn` unchanged.
    fn apply_request(&self, txn: &mut WriteTxn<'_>, req: InternalRaftRequest) -> ApplyResult {
        if let Some(put) = req.put {
            if put.lease != 0 {
                return Err(ServerError::LeaseNotFound);
            }
            metrics::counter!(m::MVCC_PUT_TOTAL).increment(1);
            return Ok(Applied::Put(txn.put(&put)?));
        }
        if let Some(del) = req.delete_range {
            metrics::counter!(m::MVCC_DELETE_TOTAL).increment(1);
            return Ok(Applied::DeleteRange(txn.delete_range(&del)?));
        }
        if let Some(t) = req.txn {
            if txn_uses_lease(&t) {
                return Err(ServerError::LeaseNotFound);
            }
            metrics::counter!(m::MVCC_TXN_TOTAL).increment(1);
            return Ok(Applied::Txn(txn.txn(&t)?));
        }
        if let Some(c) = req.compaction {
            let waiter = txn.compact(c.revision)?;
            let header = ResponseHeader {
                revision: txn.revision(),
                ..Default::default()
            };
            return Ok(Applied::Compaction(
                CompactionResponse {
                    header: Some(header),
                },
                Some(waiter),
            ));
        }
        if let Some(attr) = req.cluster_member_attr_set {
            let a = attr.member_attributes.unwrap_or_default();
            if self.membership.set_attributes(
                attr.member_id,
                a.name,
                a.client_urls,
                txn.batch_mut(),
            ) {
                return Ok(Applied::Empty);
            }
            return Err(ServerError::MemberNotFound);
        }
        tracing::warn!("applied a request kind this member does not handle yet");
        Ok(Applied::Empty)
    }

    fn snapshot(&mut self, index: u64, term: u64) -> Result<()> {
        let start = Instant::now();
        self.store.backend().sync()?;
        metrics::histogram!(m::BACKEND_SNAPSHOT_SECONDS).record(start.elapsed().as_secs_f64());
        self.snapshot_index = index;
        let conf_state = self.membership.conf_state();
        self.raft_tx
            .send(RaftMsg::Snapshot {
                index,
                term,
                conf_state,
            })
            .map_err(|_| ServerError::Stopped)
    }
}

/// Whether any put in the txn (either branch, nested) names a lease. Until leases exist,
/// every lease is unknown.
fn txn_uses_lease(t: &etcd_api::etcdserverpb::TxnRequest) -> bool {
    use etcd_api::etcdserverpb::request_op::Request;
    t.success
        .iter()
        .chain(t.failure.iter())
        .any(|op| match &op.request {
            Some(Request::RequestPut(p)) => p.lease != 0,
            Some(Request::RequestTxn(inner)) => txn_uses_lease(inner),
            _ => false,
        })
}
