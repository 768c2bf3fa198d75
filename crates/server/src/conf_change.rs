//! Membership changes as raft configuration changes. The change (and the request ID the
//! proposer waits on) travels in the ConfChange context: `[kind u8][request id u64 BE]
//! [member record]`, so every member applies exactly the same change.
//!
//! Invariant: raft's configuration (voters and learners) always equals the one
//! [`crate::membership::Membership::conf_state`] derives from the stored members. raft-rs
//! has no UpdateNode, so a peer-URL update travels as a change of node 0, which raft
//! ignores (as etcd's raft ignores a change whose NodeID was zeroed): re-adding the member
//! instead would make a learner a voter inside raft while the members still list it as a
//! learner. The member's ID is in the context.

use raft::eraftpb::{ConfChange, ConfChangeType};

use crate::error::{Result, ServerError};
use crate::membership::{Member, MemberChange};

const ADD: u8 = 1;
const ADD_LEARNER: u8 = 2;
const REMOVE: u8 = 3;
const PROMOTE: u8 = 4;
const UPDATE: u8 = 5;

/// The node ID raft skips when applying a configuration change (raft's `None`).
const RAFT_NO_NODE: u64 = 0;

fn bare(id: u64) -> Member {
    Member {
        id,
        name: String::new(),
        peer_urls: vec![],
        client_urls: vec![],
        is_learner: false,
    }
}

/// The raft change for `change`, carrying `request_id` for the proposer's waiter. An
/// update names node 0 so that raft applies it as a no-op (see the module doc).
pub fn encode(request_id: u64, change: &MemberChange) -> ConfChange {
    let (kind, ty, member) = match change {
        MemberChange::Add(m) => (ADD, ConfChangeType::AddNode, m.clone()),
        MemberChange::AddLearner(m) => (ADD_LEARNER, ConfChangeType::AddLearnerNode, m.clone()),
        MemberChange::Remove(id) => (REMOVE, ConfChangeType::RemoveNode, bare(*id)),
        MemberChange::Promote(id) => (PROMOTE, ConfChangeType::AddNode, bare(*id)),
        // raft has no update: a change of node 0 leaves raft's configuration as it is.
        MemberChange::UpdatePeerUrls { id, peer_urls } => {
            let mut m = bare(*id);
            m.peer_urls = peer_urls.clone();
            (UPDATE, ConfChangeType::AddNode, m)
        }
    };
    let raft_node = if kind == UPDATE {
        RAFT_NO_NODE
    } else {
        member.id
    };
    let mut context = vec![kind];
    context.extend_from_slice(&request_id.to_be_bytes());
    context.extend_from_slice(&member.encode());
    let mut cc = ConfChange::default();
    cc.set_change_type(ty);
    cc.node_id = raft_node;
    cc.context = context.into();
    cc
}

/// The request ID and change a committed ConfChange carries.
pub fn decode(cc: &ConfChange) -> Result<(u64, MemberChange)> {
    let ctx = cc.context.as_ref();
    if ctx.len() < 9 {
        return Err(ServerError::Corrupt(format!(
            "configuration change with a {}-byte context",
            ctx.len()
        )));
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&ctx[1..9]);
    let request_id = u64::from_be_bytes(id);
    let member = Member::decode(&ctx[9..])?;
    let change = match ctx[0] {
        ADD => MemberChange::Add(member),
        ADD_LEARNER => MemberChange::AddLearner(member),
        REMOVE => MemberChange::Remove(member.id),
        PROMOTE => MemberChange::Promote(member.id),
        UPDATE => MemberChange::UpdatePeerUrls {
            id: member.id,
            peer_urls: member.peer_urls,
        },
        k => {
            return Err(ServerError::Corrupt(format!(
                "configuration change of unknown kind {k}"
            )));
        }
    };
    Ok((request_id, change))
}

/// Decodes a ConfChange entry's data.
pub fn parse(data: &[u8]) -> Result<ConfChange> {
    use protobuf::Message as _;
    ConfChange::parse_from_bytes(data)
        .map_err(|e| ServerError::Corrupt(format!("undecodable configuration change: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_round_trips() {
        let m = Member {
            id: 9,
            name: String::new(),
            peer_urls: vec!["http://a:1".into()],
            client_urls: vec![],
            is_learner: false,
        };
        for change in [
            MemberChange::Add(m.clone()),
            MemberChange::AddLearner(m.clone()),
            MemberChange::Remove(9),
            MemberChange::Promote(9),
            MemberChange::UpdatePeerUrls {
                id: 9,
                peer_urls: vec!["http://b:2".into()],
            },
        ] {
            let cc = encode(77, &change);
            let raft_node = if matches!(change, MemberChange::UpdatePeerUrls { .. }) {
                0
            } else {
                9
            };
            assert_eq!(cc.node_id, raft_node);
            assert_eq!(decode(&cc).unwrap(), (77, change));
        }
    }

    /// raft's configuration after applying `changes` to one voter (1) and one learner (9).
    fn raft_conf_after(changes: &[MemberChange]) -> (Vec<u64>, Vec<u64>) {
        use raft::eraftpb::ConfState;
        use raft::storage::MemStorage;
        let storage = MemStorage::new_with_conf_state(ConfState::from((vec![1], vec![9])));
        let config = raft::Config {
            id: 1,
            ..Default::default()
        };
        let mut node = raft::RawNode::new(&config, storage, &crate::raft_logger::logger()).unwrap();
        let mut cs = ConfState::default();
        for change in changes {
            cs = node.apply_conf_change(&encode(1, change)).unwrap();
        }
        let (mut voters, mut learners) = (cs.voters, cs.learners);
        voters.sort_unstable();
        learners.sort_unstable();
        (voters, learners)
    }

    #[test]
    fn an_update_leaves_raft_voters_and_learners_as_they_are() {
        let update = |id| MemberChange::UpdatePeerUrls {
            id,
            peer_urls: vec!["http://c:3".into()],
        };
        assert_eq!(raft_conf_after(&[update(9)]), (vec![1], vec![9]));
        assert_eq!(raft_conf_after(&[update(1)]), (vec![1], vec![9]));
        // Promotion still makes the learner a voter.
        assert_eq!(
            raft_conf_after(&[update(9), MemberChange::Promote(9)]),
            (vec![1, 9], vec![])
        );
    }
}
