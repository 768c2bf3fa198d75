//! The apply loop: applies committed entries in order, each in one backend write together
//! with its raft index (the consistent index), so a restart replays exactly the entries
//! after it. Wakes the proposer's waiter with the result, restores snapshots received
//! from the leader, keeps raft's configuration in step with membership changes, and
//! triggers snapshots.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};

use etcd_api::etcdserverpb::{
    CompactionResponse, DeleteRangeRequest, InternalRaftRequest, LeaseGrantResponse, ResponseHeader,
};
use etcd_api::mvccpb::{Event, event::EventType as MvccEventType};
use etcd_lease::Lessor;
use etcd_mvcc::watch::WatchableStore;
use etcd_mvcc::{KvStore, WriteTxn};
use prost::Message as _;
use raft::eraftpb::{ConfChange, Entry, EntryType, SnapshotMetadata};

use crate::conf_change;
use crate::error::{Result, ServerError};
use crate::membership::{MemberChange, Membership, save_conf_state};
use crate::metrics as m;
use crate::node_state::NodeState;
use crate::raft_loop::{Peers, RaftMsg};
use crate::spin_recv::{SPIN, recv_spinning};
use crate::wait::{Applied, ApplyResult, Waiters};

/// What the raft loop hands over, in log order.
pub enum ApplyMsg {
    Entries(Vec<Entry>),
    /// A snapshot from the leader, its backend already received into the snapshot dir.
    Snapshot(SnapshotMetadata),
}

/// Where the peer transport puts the backend of a snapshot received for raft `index`.
pub use etcd_rafthttp::snapshot_db_path as received_snapshot_path;

pub struct ApplyLoop {
    pub rx: Receiver<ApplyMsg>,
    pub store: Arc<KvStore>,
    pub watchable: Arc<WatchableStore>,
    pub lessor: Arc<Lessor>,
    pub alarms: Arc<crate::alarms::Alarms>,
    pub membership: Arc<Membership>,
    pub waiters: Arc<Waiters>,
    pub state: Arc<NodeState>,
    pub raft_tx: Sender<RaftMsg>,
    pub peers: Arc<dyn Peers>,
    pub snap_dir: PathBuf,
    pub snapshot_count: u64,
    /// Index of the last snapshot marker (the backend was durable at it).
    pub snapshot_index: u64,
    pub(crate) meters: crate::metrics::Meters,
}

impl ApplyLoop {
    pub fn run(mut self) {
        // Spin only after work: an idle member's apply thread sleeps.
        let mut spin = Duration::ZERO;
        while let Ok(msg) = recv_spinning(&self.rx, spin, None) {
            spin = SPIN;
            let result = match msg {
                ApplyMsg::Entries(entries) => self.apply_batch(entries),
                ApplyMsg::Snapshot(meta) => self.restore(&meta),
            };
            if let Err(e) = result {
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
        // A membership change is followed by a snapshot: a member added later catches up
        // from a snapshot, and raft only accepts one whose configuration includes it.
        let mut conf_changed = false;
        for e in &entries {
            let in_backend = e.index <= self.store.consistent_index();
            match e.get_entry_type() {
                EntryType::EntryConfChange => {
                    self.apply_conf_change(e, in_backend)?;
                    conf_changed |= !in_backend;
                }
                // Already in the backend (replayed after a restart or a snapshot).
                _ if in_backend => {}
                _ => self.apply_normal(e)?,
            }
        }
        // Readers already see the batch; the backend writes it on with others.
        self.store.backend().batch_done()?;
        self.state.set_applied(last_index);
        metrics::gauge!(m::PROPOSALS_APPLIED).set(last_index as f64);
        if conf_changed || last_index - self.snapshot_index >= self.snapshot_count {
            self.snapshot(last_index, last_term)?;
        }
        Ok(())
    }

    fn apply_normal(&self, e: &Entry) -> Result<()> {
        if e.data.is_empty() {
            // A new leader's empty entry: only the consistent index moves.
            self.store.write(e.index).commit()?;
            return Ok(());
        }
        let req = InternalRaftRequest::decode(e.data.as_ref()).map_err(|err| {
            ServerError::Corrupt(format!(
                "undecodable request at raft index {}: {err}",
                e.index
            ))
        })?;
        let id = req.header.as_ref().map(|h| h.id).unwrap_or(req.id);
        let mut txn = self.store.write(e.index);
        let result = self.apply_request(&mut txn, req);
        let revision = txn.revision();
        let events = txn.commit()?;
        if !events.is_empty() {
            self.track_leases(&events);
            self.watchable.notify(revision, &events);
        }
        self.waiters.trigger(id, result);
        Ok(())
    }

    /// A membership change: the backend (unless it already has it), raft's
    /// configuration (always: after a snapshot raft's starts from the snapshot's), the
    /// peer transport, and the proposer.
    fn apply_conf_change(&self, e: &Entry, in_backend: bool) -> Result<()> {
        let cc = conf_change::parse(&e.data)?;
        let (request_id, change) = conf_change::decode(&cc)?;
        let result = if in_backend {
            Ok(())
        } else {
            let mut txn = self.store.write(e.index);
            let r = self.membership.apply(&change, txn.batch_mut());
            if r.is_err() {
                // Refused (e.g. the member was removed meanwhile): the configuration stays.
                save_conf_state(txn.batch_mut(), &self.membership.conf_state());
            }
            txn.commit()?;
            r
        };
        if let Err(err) = &result {
            tracing::warn!(error = %err, "configuration change refused at apply");
            self.waiters.trigger(request_id, Err(clone_refusal(err)));
            return Ok(());
        }
        self.raft_apply_conf_change(cc)?;
        let local = self.membership.local_id();
        match &change {
            MemberChange::Add(mem) | MemberChange::AddLearner(mem) if mem.id != local => {
                self.peers.add_peer(mem.id, mem.peer_urls.clone());
            }
            MemberChange::UpdatePeerUrls { id, peer_urls } if *id != local => {
                self.peers.update_peer(*id, peer_urls.clone());
            }
            MemberChange::Remove(id) if *id != local => self.peers.remove_peer(*id),
            MemberChange::Remove(_) => {
                tracing::warn!("the member has been permanently removed from the cluster");
                self.state
                    .fail("the member has been permanently removed from the cluster".into());
            }
            _ => {}
        }
        self.state.set_learner(self.membership.local_is_learner());
        tracing::info!(change = ?change, "applied a membership change");
        self.waiters
            .trigger(request_id, Ok(Applied::Members(self.membership.members())));
        Ok(())
    }

    /// Hands a configuration change to raft and waits until raft has it, so no later
    /// change is proposed against a stale configuration.
    fn raft_apply_conf_change(&self, cc: ConfChange) -> Result<()> {
        let (done, wait) = std::sync::mpsc::channel();
        self.raft_tx
            .send(RaftMsg::ApplyConfChange { cc, done })
            .map_err(|_| ServerError::Stopped)?;
        loop {
            match wait.recv_timeout(Duration::from_millis(200)) {
                Ok(()) => return Ok(()),
                Err(_) if self.state.is_stopped() => return Err(ServerError::Stopped),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(ServerError::Stopped);
                }
                Err(_) => {}
            }
        }
    }

    /// Keeps the lessor's key <-> lease map in step with what the write changed. The
    /// previous lease comes from that map, not from the event: a put's event carries no
    /// prev_kv unless the request asked for it.
    fn track_leases(&self, events: &[Event]) {
        for ev in events {
            let Some(kv) = &ev.kv else { continue };
            let prev = self.lessor.lease_of(&kv.key).unwrap_or(0);
            if ev.r#type == MvccEventType::Delete as i32 {
                if prev != 0 {
                    self.lessor.detach(prev, &kv.key);
                }
                continue;
            }
            if prev != 0 && prev != kv.lease {
                self.lessor.detach(prev, &kv.key);
            }
            if kv.lease != 0 {
                self.lessor.attach(kv.lease, &kv.key);
            }
        }
    }

    /// Replaces the backend with the leader's, received by the peer transport.
    fn restore(&mut self, meta: &SnapshotMetadata) -> Result<()> {
        let path = received_snapshot_path(&self.snap_dir, meta.index);
        let start = Instant::now();
        let info = self.store.restore_from(&path)?;
        self.membership.reload(self.store.backend().as_ref())?;
        self.lessor
            .recover(self.store.backend().as_ref(), &self.store)?;
        self.alarms.reload(self.store.backend().as_ref())?;
        self.watchable.restored(self.store.current_revision());
        let local = self.membership.local_id();
        for mem in self.membership.members() {
            if mem.id != local {
                self.peers.add_peer(mem.id, mem.peer_urls.clone());
            }
        }
        self.state.set_learner(self.membership.local_is_learner());
        let _ = std::fs::remove_file(&path);
        self.snapshot_index = meta.index;
        self.state.set_applied(self.state.applied().max(meta.index));
        tracing::info!(
            index = meta.index,
            backend_index = info.consistent_index,
            took = ?start.elapsed(),
            "applied a snapshot from the leader"
        );
        Ok(())
    }

    /// Applies one request inside `txn`. A request error leaves `txn` unchanged.
    fn apply_request(&self, txn: &mut WriteTxn<'_>, req: InternalRaftRequest) -> ApplyResult {
        // While the space quota is exhausted, only requests that free space apply.
        let no_space = self.alarms.no_space();
        if let Some(put) = req.put {
            if no_space {
                return Err(ServerError::NoSpace);
            }
            if put.lease != 0 && !self.lessor.exists(put.lease) {
                return Err(ServerError::LeaseNotFound);
            }
            self.meters.put_total.increment(1);
            return Ok(Applied::Put(txn.put(&put)?));
        }
        if let Some(del) = req.delete_range {
            self.meters.delete_total.increment(1);
            return Ok(Applied::DeleteRange(txn.delete_range(&del)?));
        }
        if let Some(t) = req.txn {
            if no_space && !etcd_mvcc::validate::is_txn_read_only(&t) {
                return Err(ServerError::NoSpace);
            }
            if txn_leases(&t).into_iter().any(|id| !self.lessor.exists(id)) {
                return Err(ServerError::LeaseNotFound);
            }
            self.meters.txn_total.increment(1);
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
        if let Some(a) = req.alarm {
            use etcd_api::etcdserverpb::alarm_request::AlarmAction;
            let alarms = match AlarmAction::try_from(a.action) {
                Ok(AlarmAction::Activate) if a.alarm != 0 => {
                    vec![self.alarms.activate(a.member_id, a.alarm, txn.batch_mut())]
                }
                Ok(AlarmAction::Deactivate) => {
                    self.alarms
                        .deactivate(a.member_id, a.alarm, txn.batch_mut())
                }
                _ => self.alarms.list(a.member_id, a.alarm),
            };
            return Ok(Applied::Alarms(alarms));
        }
        if let Some(g) = req.lease_grant {
            if no_space {
                return Err(ServerError::NoSpace);
            }
            let info = self.lessor.grant(g.id, g.ttl, txn.batch_mut())?;
            metrics::counter!(m::LEASE_GRANTED).increment(1);
            let header = ResponseHeader {
                revision: txn.revision(),
                ..Default::default()
            };
            return Ok(Applied::LeaseGrant(LeaseGrantResponse {
                header: Some(header),
                id: info.id,
                ttl: info.granted_ttl,
                error: String::new(),
            }));
        }
        if let Some(r) = req.lease_revoke {
            // The lease and every key attached to it go in this one revision.
            let keys = self.lessor.revoke(r.id, txn.batch_mut())?;
            for key in keys {
                txn.delete_range(&DeleteRangeRequest {
                    key: key.into(),
                    ..Default::default()
                })?;
            }
            metrics::counter!(m::LEASE_REVOKED).increment(1);
            return Ok(Applied::LeaseRevoke(txn.revision()));
        }
        if let Some(c) = req.lease_checkpoint {
            for cp in c.checkpoints {
                self.lessor
                    .checkpoint(cp.id, cp.remaining_ttl, txn.batch_mut())?;
            }
            return Ok(Applied::Empty);
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

/// The refusal reported to the proposer of a change refused at apply.
fn clone_refusal(err: &ServerError) -> ServerError {
    match err {
        ServerError::MemberExists => ServerError::MemberExists,
        ServerError::PeerUrlExists => ServerError::PeerUrlExists,
        ServerError::MemberNotLearner => ServerError::MemberNotLearner,
        ServerError::MemberRemoved => ServerError::MemberRemoved,
        _ => ServerError::MemberNotFound,
    }
}

/// The leases named by puts anywhere in the txn (either branch, nested).
fn txn_leases(t: &etcd_api::etcdserverpb::TxnRequest) -> Vec<i64> {
    use etcd_api::etcdserverpb::request_op::Request;
    let mut out = Vec::new();
    for op in t.success.iter().chain(t.failure.iter()) {
        match &op.request {
            Some(Request::RequestPut(p)) if p.lease != 0 => out.push(p.lease),
            Some(Request::RequestTxn(inner)) => out.extend(txn_leases(inner)),
            _ => {}
        }
    }
    out
}
