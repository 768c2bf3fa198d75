//! The server and the peer transport (rafthttp), each as the other sees it: rafthttp hands
//! peer messages to the raft loop through [`RaftAdapter`]; the raft loop reaches peers
//! through [`TransportPeers`].

use std::sync::Arc;
use std::sync::mpsc::Sender;

use etcd_rafthttp::{Raft, RaftHttpError, Transport};
use raft::SnapshotStatus;
use raft::eraftpb::Message;

use crate::membership::Membership;
use crate::raft_loop::{Peers, RaftMsg};

/// What rafthttp calls: messages go to the raft loop's queue, never blocking.
pub struct RaftAdapter {
    pub raft_tx: Sender<RaftMsg>,
    pub membership: Arc<Membership>,
}

impl Raft for RaftAdapter {
    fn process(&self, msg: Message) -> Result<(), RaftHttpError> {
        if self.membership.is_removed(msg.from) {
            return Err(RaftHttpError::MemberRemoved { id: msg.from });
        }
        self.raft_tx
            .send(RaftMsg::Step(msg))
            .map_err(|_| RaftHttpError::RaftStopped)
    }

    fn is_id_removed(&self, id: u64) -> bool {
        self.membership.is_removed(id)
    }

    fn report_unreachable(&self, id: u64) {
        let _ = self.raft_tx.send(RaftMsg::ReportUnreachable(id));
    }

    fn report_snapshot(&self, id: u64, status: SnapshotStatus) {
        let _ = self.raft_tx.send(RaftMsg::ReportSnapshot(id, status));
    }
}

/// The raft loop's view of the other members.
pub struct TransportPeers(pub Arc<Transport>);

impl Peers for TransportPeers {
    fn send(&self, msgs: Vec<Message>) {
        self.0.send(msgs);
    }

    fn send_snapshot(&self, msg: Message, data: Box<dyn std::io::Read + Send>, size: u64) {
        self.0.send_snapshot(msg, data, size);
    }

    fn add_peer(&self, id: u64, urls: Vec<String>) {
        self.0.add_peer(id, urls);
    }

    fn update_peer(&self, id: u64, urls: Vec<String>) {
        self.0.update_peer(id, urls);
    }

    fn remove_peer(&self, id: u64) {
        self.0.remove_peer(id);
    }
}
