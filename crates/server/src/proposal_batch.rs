//! Client proposals that reached the raft loop in one turn, stepped into raft as ONE
//! MsgPropose.
//!
//! raft broadcasts appends once per MsgPropose: proposed one by one, every entry went to
//! each follower in a message of its own, and every follower persisted and answered each
//! of them. Batched, a turn's entries travel in one append per follower, answered once.

use raft::eraftpb::{Entry, Message, MessageType};
use raft::{RawNode, Storage};

use crate::error::ServerError;
use crate::wait::Waiters;

/// Proposals in arrival order. Invariant: stepped (or refused) before any other raft
/// input of the same turn is handled, so raft sees inputs in the order they arrived.
#[derive(Default)]
pub struct ProposalBatch {
    ids: Vec<u64>,
    entries: Vec<Entry>,
}

impl ProposalBatch {
    pub fn push(&mut self, id: u64, data: Vec<u8>) {
        self.ids.push(id);
        self.entries.push(Entry {
            data: data.into(),
            ..Default::default()
        });
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Steps every held proposal into `node` in one message and empties the batch. If raft
    /// refuses it (no leader, leadership moving, too much uncommitted), every proposer
    /// hears `ProposalDropped`.
    pub fn propose<S: Storage>(&mut self, node: &mut RawNode<S>, waiters: &Waiters) {
        if self.ids.is_empty() {
            return;
        }
        let mut m = Message::default();
        m.set_msg_type(MessageType::MsgPropose);
        m.from = node.raft.id;
        m.set_entries(std::mem::take(&mut self.entries).into());
        let ids = std::mem::take(&mut self.ids);
        if let Err(e) = node.raft.step(m) {
            tracing::debug!(count = ids.len(), error = %e, "proposals dropped");
            for id in ids {
                waiters.trigger(id, Err(ServerError::ProposalDropped));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::storage::MemStorage;
    use raft::{Config, StateRole};

    fn node(voters: Vec<u64>) -> RawNode<MemStorage> {
        let storage = MemStorage::new_with_conf_state((voters, vec![]));
        let config = Config {
            id: 1,
            ..Default::default()
        };
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        RawNode::new(&config, storage, &logger).unwrap()
    }

    #[test]
    fn a_leader_appends_the_whole_batch_in_order() {
        let mut n = node(vec![1]);
        n.campaign().unwrap();
        assert_eq!(n.raft.state, StateRole::Leader);
        let before = n.raft.raft_log.last_index();
        let waiters = Waiters::default();
        let mut batch = ProposalBatch::default();
        for (id, data) in [(1, b"a"), (2, b"b"), (3, b"c")] {
            batch.push(id, data.to_vec());
        }
        batch.propose(&mut n, &waiters);
        assert!(batch.is_empty());
        let log = &n.raft.raft_log;
        assert_eq!(log.last_index(), before + 3);
        let datas: Vec<Vec<u8>> = log
            .entries(before + 1, u64::MAX, raft::GetEntriesContext::empty(false))
            .unwrap()
            .iter()
            .map(|e| e.data.to_vec())
            .collect();
        assert_eq!(datas, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    }

    #[tokio::test]
    async fn without_a_leader_every_proposer_hears_it_was_dropped() {
        let mut n = node(vec![1, 2, 3]);
        let waiters = Waiters::default();
        let (a, b) = (waiters.register(7), waiters.register(8));
        let mut batch = ProposalBatch::default();
        batch.push(7, b"x".to_vec());
        batch.push(8, b"y".to_vec());
        batch.propose(&mut n, &waiters);
        assert!(batch.is_empty());
        for rx in [a, b] {
            assert!(matches!(
                rx.await.unwrap(),
                Err(ServerError::ProposalDropped)
            ));
        }
    }
}
