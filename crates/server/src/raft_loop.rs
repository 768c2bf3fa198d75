//! The raft loop: one thread owns the RawNode and the WAL. Each turn it takes every message
//! that arrived since the last turn (proposals, peer messages, read requests), then handles
//! one Ready: entries and hard state go to the WAL with ONE fdatasync (group commit) before
//! any message that depends on them; committed entries go to the apply loop.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use etcd_mvcc::KvStore;
use etcd_wal::Wal;
use protobuf::Message as _;
use raft::eraftpb::{ConfChange, ConfState, Entry, Message, MessageType};
use raft::{RawNode, ReadState, SnapshotStatus, StateRole};

use crate::apply::ApplyMsg;
use crate::error::{Result, ServerError};
use crate::ids::id_hex;
use crate::metrics as m;
use crate::node_state::NodeState;
use crate::proposal_batch::ProposalBatch;
use crate::raft_log::{RaftLog, to_wal_entry};
use crate::snapshot_send::send_snapshot;
use crate::spin_recv::{SPIN, recv_spinning};
use crate::wait::Waiters;

/// How long after the log last moved the loop still spins before sleeping: traffic
/// (even one client's, a put every millisecond or so) keeps it warm, an idle member
/// (heartbeats only) sleeps.
const WARM: Duration = Duration::from_millis(10);

/// Work for the raft loop.
pub enum RaftMsg {
    /// A client proposal; if raft drops it (no leader), its waiter gets `ProposalDropped`.
    Propose { id: u64, data: Vec<u8> },
    /// A membership change; dropped like a proposal (also while another is pending).
    ProposeConfChange { id: u64, cc: ConfChange },
    /// The apply loop applied a configuration change: raft's configuration follows it.
    /// `done` is signalled once raft has it, before the apply loop moves on.
    ApplyConfChange { cc: ConfChange, done: Sender<()> },
    /// Ask for a read index; the answer arrives as a [`ReadState`] carrying `ctx`.
    ReadIndex { ctx: Vec<u8> },
    /// A message from a peer.
    Step(Message),
    /// The apply loop made the backend durable up to `index`: record a snapshot marker,
    /// shorten the in-memory log and release WAL segments.
    Snapshot {
        index: u64,
        term: u64,
        conf_state: ConfState,
    },
    /// Hand leadership to another member.
    TransferLeader(u64),
    /// The peer transport could not reach a member.
    ReportUnreachable(u64),
    /// How sending a snapshot to a member ended.
    ReportSnapshot(u64, SnapshotStatus),
    /// The replication progress (matched index per member) if this member leads;
    /// empty otherwise.
    Progress(tokio::sync::oneshot::Sender<HashMap<u64, u64>>),
}

/// The other members as the raft loop reaches them (the peer transport). Never blocks.
pub trait Peers: Send + Sync {
    fn send(&self, msgs: Vec<Message>);
    /// A snapshot message followed by `size` bytes of backend data.
    fn send_snapshot(&self, msg: Message, data: Box<dyn std::io::Read + Send>, size: u64);
    fn add_peer(&self, id: u64, urls: Vec<String>);
    fn update_peer(&self, id: u64, urls: Vec<String>);
    fn remove_peer(&self, id: u64);
}

/// For a member with no peers.
pub struct NoPeers;

impl Peers for NoPeers {
    fn send(&self, msgs: Vec<Message>) {
        if !msgs.is_empty() {
            tracing::debug!(
                count = msgs.len(),
                "dropping raft messages: no peer transport"
            );
        }
    }

    fn send_snapshot(&self, msg: Message, _data: Box<dyn std::io::Read + Send>, _size: u64) {
        tracing::debug!(to = msg.to, "dropping a snapshot: no peer transport");
    }

    fn add_peer(&self, _id: u64, _urls: Vec<String>) {}

    fn update_peer(&self, _id: u64, _urls: Vec<String>) {}

    fn remove_peer(&self, _id: u64) {}
}

pub struct RaftLoop {
    pub node: RawNode<RaftLog>,
    pub wal: Wal,
    pub rx: Receiver<RaftMsg>,
    pub apply_tx: Sender<ApplyMsg>,
    pub read_tx: tokio::sync::mpsc::UnboundedSender<ReadState>,
    pub state: Arc<NodeState>,
    pub waiters: Arc<Waiters>,
    pub peers: Arc<dyn Peers>,
    /// For dumping the backend when a member needs a snapshot.
    pub store: Arc<KvStore>,
    /// Where snapshot dumps are staged while they are sent.
    pub snap_dir: PathBuf,
    /// For snapshot senders to report back.
    pub raft_tx: Sender<RaftMsg>,
    pub tick: Duration,
    pub catchup_entries: u64,
}

impl RaftLoop {
    /// Runs until the member stops or a fatal error occurs.
    pub fn run(mut self) {
        if let Err(e) = self.run_inner() {
            self.state.fail(e.to_string());
        }
        self.waiters.fail_all(|| ServerError::Stopped);
    }

    fn run_inner(&mut self) -> Result<()> {
        let mut next_tick = Instant::now() + self.tick;
        let mut applied_reported = self.state.applied();
        // Until when the log counts as moving: while it does, waits spin first.
        let mut warm_until = Instant::now();
        let mut proposals = ProposalBatch::default();
        loop {
            if self.state.is_stopped() {
                return Ok(());
            }
            let spin = if Instant::now() < warm_until {
                SPIN
            } else {
                Duration::ZERO
            };
            match recv_spinning(&self.rx, spin, Some(next_tick)) {
                Ok(msg) => self.take(msg, &mut proposals)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
            // Everything that queued up while we were busy goes into the same Ready.
            while let Ok(msg) = self.rx.try_recv() {
                self.take(msg, &mut proposals)?;
            }
            proposals.propose(&mut self.node, &self.waiters);
            let now = Instant::now();
            if now >= next_tick {
                self.node.tick();
                next_tick += self.tick;
                if next_tick < now {
                    next_tick = now + self.tick;
                }
            }
            let applied = self.state.applied();
            if applied > applied_reported {
                self.node.advance_apply_to(applied);
                self.node.mut_store().spill(applied);
                applied_reported = applied;
            }
            if self.node.has_ready() && self.on_ready()? {
                warm_until = Instant::now() + WARM;
            }
        }
    }

    /// Client proposals join the turn's batch; anything else is handled after the
    /// proposals that arrived before it.
    fn take(&mut self, msg: RaftMsg, proposals: &mut ProposalBatch) -> Result<()> {
        if !matches!(msg, RaftMsg::Propose { .. }) {
            proposals.propose(&mut self.node, &self.waiters);
        }
        self.handle(msg, proposals)
    }

    fn handle(&mut self, msg: RaftMsg, proposals: &mut ProposalBatch) -> Result<()> {
        match msg {
            RaftMsg::Propose { id, data } => proposals.push(id, data),
            RaftMsg::ProposeConfChange { id, cc } => {
                if let Err(e) = self.node.propose_conf_change(vec![], cc) {
                    tracing::debug!(request_id = id, error = %e, "configuration change dropped");
                    self.waiters.trigger(id, Err(ServerError::ProposalDropped));
                }
            }
            RaftMsg::ApplyConfChange { cc, done } => {
                match self.node.apply_conf_change(&cc) {
                    Ok(cs) => self.node.mut_store().set_conf_state(cs),
                    Err(e) => tracing::warn!(
                        node = %id_hex(cc.node_id),
                        error = %e,
                        "raft refused a configuration change"
                    ),
                }
                let _ = done.send(());
            }
            RaftMsg::ReadIndex { ctx } => self.node.read_index(ctx),
            RaftMsg::Step(msg) => {
                if let Err(e) = self.node.step(msg) {
                    tracing::debug!(error = %e, "ignored raft message");
                }
            }
            RaftMsg::Snapshot {
                index,
                term,
                conf_state,
            } => self.snapshot(index, term, conf_state)?,
            RaftMsg::TransferLeader(to) => self.node.transfer_leader(to),
            RaftMsg::ReportUnreachable(id) => self.node.report_unreachable(id),
            RaftMsg::ReportSnapshot(id, status) => self.node.report_snapshot(id, status),
            RaftMsg::Progress(reply) => {
                let matched = match self.node.status().progress {
                    Some(tracker) if self.node.raft.state == StateRole::Leader => {
                        tracker.iter().map(|(id, pr)| (*id, pr.matched)).collect()
                    }
                    _ => HashMap::new(),
                };
                let _ = reply.send(matched);
            }
        }
        Ok(())
    }

    /// Handles one Ready; true if the log moved (entries persisted or committed).
    fn on_ready(&mut self) -> Result<bool> {
        let mut rd = self.node.ready();
        let mut moved = !rd.committed_entries().is_empty();
        if let Some(ss) = rd.ss() {
            self.on_soft_state(ss.leader_id, ss.raft_state);
        }
        if !rd.messages().is_empty() {
            self.send(rd.take_messages());
        }
        if !rd.snapshot().is_empty() {
            // A snapshot from the leader: durable first, then the log, then the backend
            // (the apply loop restores it from the file the transport received).
            let meta = rd.snapshot().get_metadata().clone();
            let conf = encode_conf(meta.get_conf_state())?;
            self.wal.save_snapshot(&etcd_wal::SnapshotMarker {
                index: meta.index,
                term: meta.term,
                conf_state: conf,
            })?;
            self.node.mut_store().apply_snapshot(&meta);
            self.state
                .set_committed(self.node.store().hard_state().commit);
            tracing::info!(
                index = meta.index,
                term = meta.term,
                "received a snapshot from the leader"
            );
            self.apply_tx
                .send(ApplyMsg::Snapshot(meta))
                .map_err(|_| ServerError::Stopped)?;
        }
        self.to_apply(rd.take_committed_entries())?;

        let entries = rd.take_entries();
        moved |= !entries.is_empty();
        let hs = rd.hs().cloned();
        if !entries.is_empty() || hs.is_some() {
            let wal_entries = entries
                .iter()
                .map(to_wal_entry)
                .collect::<Result<Vec<_>>>()?;
            let wal_hs = hs.as_ref().map(|h| etcd_wal::HardState {
                term: h.term,
                vote: h.vote,
                commit: h.commit,
            });
            let locations = self.wal.append(wal_hs.as_ref(), &wal_entries)?;
            if rd.must_sync() {
                let start = Instant::now();
                self.wal.sync()?;
                metrics::histogram!(m::WAL_FSYNC_SECONDS).record(start.elapsed().as_secs_f64());
            }
            let store = self.node.mut_store();
            store
                .append(&entries, &locations)
                .map_err(ServerError::Corrupt)?;
            if let Some(hs) = hs {
                self.state.set_term(hs.term);
                self.state.set_committed(hs.commit);
                metrics::gauge!(m::PROPOSALS_COMMITTED).set(hs.commit as f64);
                store.set_hard_state(hs);
            }
        }
        for rs in rd.take_read_states() {
            let _ = self.read_tx.send(rs);
        }
        if !rd.persisted_messages().is_empty() {
            self.send(rd.take_persisted_messages());
        }

        let mut light = self.node.advance_append(rd);
        if let Some(commit) = light.commit_index() {
            self.node.mut_store().set_commit(commit);
            self.state.set_committed(commit);
            metrics::gauge!(m::PROPOSALS_COMMITTED).set(commit as f64);
        }
        if !light.messages().is_empty() {
            self.send(light.take_messages());
        }
        let committed = light.take_committed_entries();
        moved |= !committed.is_empty();
        self.to_apply(committed)?;
        Ok(moved)
    }

    fn to_apply(&self, entries: Vec<Entry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.apply_tx
            .send(ApplyMsg::Entries(entries))
            .map_err(|_| ServerError::Stopped)
    }

    /// Sends messages; a snapshot message gets the backend attached on its own thread.
    fn send(&self, msgs: Vec<Message>) {
        let (snapshots, msgs): (Vec<Message>, Vec<Message>) = msgs
            .into_iter()
            .partition(|m| m.get_msg_type() == MessageType::MsgSnapshot);
        if !msgs.is_empty() {
            self.peers.send(msgs);
        }
        for msg in snapshots {
            send_snapshot(
                msg,
                self.store.clone(),
                self.peers.clone(),
                self.snap_dir.clone(),
                self.raft_tx.clone(),
            );
        }
    }

    fn on_soft_state(&mut self, leader: u64, role: StateRole) {
        let old = self.state.leader();
        if leader != old {
            let term = self.node.raft.term;
            let me = id_hex(self.state.member_id);
            if leader == 0 {
                tracing::info!("raft.node: {me} lost leader {} at term {term}", id_hex(old));
            } else if old == 0 {
                tracing::info!(
                    "raft.node: {me} elected leader {} at term {term}",
                    id_hex(leader)
                );
            } else {
                tracing::info!(
                    "raft.node: {me} changed leader from {} to {} at term {term}",
                    id_hex(old),
                    id_hex(leader)
                );
            }
            if leader != 0 {
                metrics::counter!(m::LEADER_CHANGES).increment(1);
            }
            self.state.set_term(term);
            self.state.set_leader(leader);
        }
        metrics::gauge!(m::HAS_LEADER).set(if leader != 0 { 1.0 } else { 0.0 });
        metrics::gauge!(m::IS_LEADER).set(if role == StateRole::Leader { 1.0 } else { 0.0 });
    }

    fn snapshot(&mut self, index: u64, term: u64, conf_state: ConfState) -> Result<()> {
        let conf = encode_conf(&conf_state)?;
        self.wal.save_snapshot(&etcd_wal::SnapshotMarker {
            index,
            term,
            conf_state: conf,
        })?;
        self.node
            .mut_store()
            .set_last_snapshot(index, term, conf_state);
        let keep_from = index.saturating_sub(self.catchup_entries).max(1);
        self.node.mut_store().compact(keep_from);
        // Not up to `index`: the entries kept for catching up are read from the WAL.
        self.wal.release_to(keep_from)?;
        tracing::info!(
            snapshot_index = index,
            compact_index = keep_from,
            "saved snapshot and released WAL segments it covers"
        );
        Ok(())
    }
}

fn encode_conf(cs: &ConfState) -> Result<Vec<u8>> {
    cs.write_to_bytes()
        .map_err(|e| ServerError::Corrupt(format!("cannot encode raft configuration: {e}")))
}
