//! Membership changes as raft configuration changes. The change (and the request ID the
//! proposer waits on) travels in the ConfChange context: `[kind u8][request id u64 BE]
//! [member record]`, so every member applies exactly the same change.

use raft::eraftpb::{ConfChange, ConfChangeType};

use crate::error::{Result, ServerError};
use crate::membership::{Member, MemberChange};

const ADD: u8 = 1;
const ADD_LEARNER: u8 = 2;
const REMOVE: u8 = 3;
const PROMOTE: u8 = 4;
const UPDATE: u8 = 5;

fn bare(id: u64) -> Member {
    Member {
        id,
        name: String::new(),
        peer_urls: vec![],
        client_urls: vec![],
        is_learner: false,
    }
}

/// The raft change for `change`, carrying `request_id` for the proposer's waiter.
pub fn encode(request_id: u64, change: &MemberChange) -> ConfChange {
    let (kind, ty, member) = match change {
        MemberChange::Add(m) => (ADD, ConfChangeType::AddNode, m.clone()),
        MemberChange::AddLearner(m) => (ADD_LEARNER, ConfChangeType::AddLearnerNode, m.clone()),
        MemberChange::Remove(id) => (REMOVE, ConfChangeType::RemoveNode, bare(*id)),
        MemberChange::Promote(id) => (PROMOTE, ConfChangeType::AddNode, bare(*id)),
        // raft has no update: re-adding a voter is a no-op for raft's configuration.
        MemberChange::UpdatePeerUrls { id, peer_urls } => {
            let mut m = bare(*id);
            m.peer_urls = peer_urls.clone();
            (UPDATE, ConfChangeType::AddNode, m)
        }
    };
    let mut context = vec![kind];
    context.extend_from_slice(&request_id.to_be_bytes());
    context.extend_from_slice(&member.encode());
    let mut cc = ConfChange::default();
    cc.set_change_type(ty);
    cc.node_id = member.id;
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
            assert_eq!(cc.node_id, 9);
            assert_eq!(decode(&cc).unwrap(), (77, change));
        }
    }
}
