//! Cluster membership: the members, persisted in the backend's Members bucket so a restart
//! needs no `--initial-cluster`, and the raft configuration derived from them.

use std::collections::BTreeMap;

use etcd_api::etcdserverpb;
use etcd_api::membershippb;
use etcd_mvcc::{Backend, Bucket, WriteBatch};
use parking_lot::RwLock;
use prost::Message as _;
use raft::eraftpb::ConfState;

use crate::error::{Result, ServerError};

/// One member as the cluster knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: u64,
    /// Empty until the member publishes itself (known from `--initial-cluster` at bootstrap).
    pub name: String,
    pub peer_urls: Vec<String>,
    /// Empty until the member publishes itself.
    pub client_urls: Vec<String>,
    pub is_learner: bool,
}

impl Member {
    pub fn to_pb(&self) -> etcdserverpb::Member {
        etcdserverpb::Member {
            id: self.id,
            name: self.name.clone(),
            peer_ur_ls: self.peer_urls.clone(),
            client_ur_ls: self.client_urls.clone(),
            is_learner: self.is_learner,
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        membershippb::Member {
            id: self.id,
            raft_attributes: Some(membershippb::RaftAttributes {
                peer_urls: self.peer_urls.clone(),
                is_learner: self.is_learner,
            }),
            member_attributes: Some(membershippb::Attributes {
                name: self.name.clone(),
                client_urls: self.client_urls.clone(),
            }),
        }
        .encode_to_vec()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Member> {
        let m = membershippb::Member::decode(bytes)
            .map_err(|e| ServerError::Corrupt(format!("undecodable member record: {e}")))?;
        let raft = m.raft_attributes.unwrap_or_default();
        let attrs = m.member_attributes.unwrap_or_default();
        Ok(Member {
            id: m.id,
            name: attrs.name,
            peer_urls: raft.peer_urls,
            client_urls: attrs.client_urls,
            is_learner: raft.is_learner,
        })
    }
}

const CONF_STATE_KEY: &[u8] = b"confState";
const CLUSTER_ID_KEY: &[u8] = b"clusterID";

/// A membership change carried in a raft configuration change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberChange {
    Add(Member),
    AddLearner(Member),
    Remove(u64),
    Promote(u64),
    UpdatePeerUrls { id: u64, peer_urls: Vec<String> },
}

/// The members of the cluster. Changed only by the apply loop.
#[derive(Debug)]
pub struct Membership {
    cluster_id: u64,
    local_id: u64,
    members: RwLock<BTreeMap<u64, Member>>,
    /// IDs removed from the cluster: they may never rejoin.
    removed: RwLock<std::collections::BTreeSet<u64>>,
}

impl Membership {
    pub fn new(cluster_id: u64, local_id: u64, members: Vec<Member>) -> Self {
        Membership {
            cluster_id,
            local_id,
            members: RwLock::new(members.into_iter().map(|m| (m.id, m)).collect()),
            removed: RwLock::new(Default::default()),
        }
    }

    /// Replaces everything with what `backend` holds (after restoring a snapshot).
    pub fn reload(&self, backend: &dyn Backend) -> Result<()> {
        let loaded = Membership::load(backend, self.local_id)?;
        *self.members.write() = loaded.members.into_inner();
        *self.removed.write() = loaded.removed.into_inner();
        Ok(())
    }

    pub fn is_removed(&self, id: u64) -> bool {
        self.removed.read().contains(&id)
    }

    /// Whether the local member is a learner.
    pub fn local_is_learner(&self) -> bool {
        self.members
            .read()
            .get(&self.local_id)
            .is_some_and(|m| m.is_learner)
    }

    /// Members that have published themselves (etcd's IsStarted).
    fn started(m: &Member) -> bool {
        !m.name.is_empty()
    }

    /// etcd's IsReadyToAddVotingMember: a quorum of the voters after the add has started.
    pub fn ready_to_add_voter(&self) -> bool {
        let members = self.members.read();
        let voters = members.values().filter(|m| !m.is_learner);
        let (mut n, mut started) = (1, 0);
        for m in voters {
            n += 1;
            if Self::started(m) {
                started += 1;
            }
        }
        // Adding a second member to a one-member cluster (restoring data) is allowed.
        // started >= quorum (n / 2 + 1)
        (started == 1 && n == 2) || started > n / 2
    }

    /// etcd's IsReadyToRemoveVotingMember: a quorum of the remaining voters has started.
    pub fn ready_to_remove_voter(&self, id: u64) -> bool {
        let members = self.members.read();
        let rest: Vec<&Member> = members
            .values()
            .filter(|m| !m.is_learner && m.id != id)
            .collect();
        let started = rest.iter().filter(|m| Self::started(m)).count();
        started > rest.len() / 2 // a quorum of the rest
    }

    /// etcd's IsReadyToPromoteMember: a quorum of the voters after the promotion has
    /// started, counting the learner as started.
    pub fn ready_to_promote(&self) -> bool {
        let members = self.members.read();
        let voters = members.values().filter(|m| !m.is_learner);
        let (mut n, mut started) = (1, 1);
        for m in voters {
            n += 1;
            if Self::started(m) {
                started += 1;
            }
        }
        started > n / 2
    }

    /// The IDs of the voting members (etcd's VotingMembers).
    pub fn voter_ids(&self) -> Vec<u64> {
        self.members
            .read()
            .values()
            .filter(|m| !m.is_learner)
            .map(|m| m.id)
            .collect()
    }

    pub fn learner_count(&self) -> usize {
        self.members
            .read()
            .values()
            .filter(|m| m.is_learner)
            .count()
    }

    /// Whether any member already uses one of `urls` as a peer URL.
    pub fn peer_url_in_use(&self, urls: &[String], except: Option<u64>) -> bool {
        self.members
            .read()
            .values()
            .filter(|m| Some(m.id) != except)
            .any(|m| m.peer_urls.iter().any(|u| urls.contains(u)))
    }

    /// Checks a change against the current membership, as etcd does before and when
    /// applying it.
    pub fn validate(&self, change: &MemberChange) -> Result<()> {
        let members = self.members.read();
        match change {
            MemberChange::Add(m) | MemberChange::AddLearner(m) => {
                if members.contains_key(&m.id) || self.is_removed(m.id) {
                    return Err(ServerError::MemberExists);
                }
                if members
                    .values()
                    .any(|x| x.peer_urls.iter().any(|u| m.peer_urls.contains(u)))
                {
                    return Err(ServerError::PeerUrlExists);
                }
            }
            MemberChange::Remove(id) => {
                if !members.contains_key(id) {
                    return Err(if self.is_removed(*id) {
                        ServerError::MemberRemoved
                    } else {
                        ServerError::MemberNotFound
                    });
                }
            }
            MemberChange::Promote(id) => match members.get(id) {
                None => return Err(ServerError::MemberNotFound),
                Some(m) if !m.is_learner => return Err(ServerError::MemberNotLearner),
                Some(_) => {}
            },
            MemberChange::UpdatePeerUrls { id, peer_urls } => {
                if !members.contains_key(id) {
                    return Err(ServerError::MemberNotFound);
                }
                if members
                    .values()
                    .any(|x| x.id != *id && x.peer_urls.iter().any(|u| peer_urls.contains(u)))
                {
                    return Err(ServerError::PeerUrlExists);
                }
            }
        }
        Ok(())
    }

    /// Applies a validated change and records it in `batch`, with the new raft
    /// configuration.
    pub fn apply(&self, change: &MemberChange, batch: &mut WriteBatch) -> Result<()> {
        self.validate(change)?;
        {
            let mut members = self.members.write();
            match change {
                MemberChange::Add(m) | MemberChange::AddLearner(m) => {
                    let mut m = m.clone();
                    m.is_learner = matches!(change, MemberChange::AddLearner(_));
                    batch.put(Bucket::Members, m.id.to_be_bytes().to_vec(), m.encode());
                    members.insert(m.id, m);
                }
                MemberChange::Remove(id) => {
                    members.remove(id);
                    batch.delete(Bucket::Members, id.to_be_bytes().to_vec());
                    batch.put(
                        Bucket::MembersRemoved,
                        id.to_be_bytes().to_vec(),
                        b"removed".to_vec(),
                    );
                    self.removed.write().insert(*id);
                }
                MemberChange::Promote(id) => {
                    if let Some(m) = members.get_mut(id) {
                        m.is_learner = false;
                        batch.put(Bucket::Members, id.to_be_bytes().to_vec(), m.encode());
                    }
                }
                MemberChange::UpdatePeerUrls { id, peer_urls } => {
                    if let Some(m) = members.get_mut(id) {
                        m.peer_urls = peer_urls.clone();
                        batch.put(Bucket::Members, id.to_be_bytes().to_vec(), m.encode());
                    }
                }
            }
        }
        save_conf_state(batch, &self.conf_state());
        Ok(())
    }

    /// Loads what [`Membership::save_all`] stored.
    pub fn load(backend: &dyn Backend, local_id: u64) -> Result<Self> {
        let cid = backend
            .get(Bucket::Cluster, CLUSTER_ID_KEY)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| ServerError::Corrupt("backend has no cluster ID".into()))?;
        let mut members = Vec::new();
        for (_, v) in backend.scan(Bucket::Members, b"", None, None)? {
            members.push(Member::decode(&v)?);
        }
        let ms = Membership::new(cid, local_id, members);
        for (k, _) in backend.scan(Bucket::MembersRemoved, b"", None, None)? {
            if let Ok(b) = <[u8; 8]>::try_from(k.as_slice()) {
                ms.removed.write().insert(u64::from_be_bytes(b));
            }
        }
        Ok(ms)
    }

    /// Adds every member, the cluster ID and the raft configuration to `batch`.
    pub fn save_all(&self, batch: &mut WriteBatch) {
        batch.put(
            Bucket::Cluster,
            CLUSTER_ID_KEY.to_vec(),
            self.cluster_id.to_be_bytes().to_vec(),
        );
        for m in self.members.read().values() {
            batch.put(Bucket::Members, m.id.to_be_bytes().to_vec(), m.encode());
        }
        save_conf_state(batch, &self.conf_state());
    }

    pub fn cluster_id(&self) -> u64 {
        self.cluster_id
    }

    pub fn local_id(&self) -> u64 {
        self.local_id
    }

    pub fn member(&self, id: u64) -> Option<Member> {
        self.members.read().get(&id).cloned()
    }

    pub fn members(&self) -> Vec<Member> {
        self.members.read().values().cloned().collect()
    }

    pub fn members_pb(&self) -> Vec<etcdserverpb::Member> {
        self.members.read().values().map(Member::to_pb).collect()
    }

    /// Records a member's published name and client URLs (ClusterMemberAttrSetRequest).
    pub fn set_attributes(
        &self,
        id: u64,
        name: String,
        client_urls: Vec<String>,
        batch: &mut WriteBatch,
    ) -> bool {
        let mut members = self.members.write();
        let Some(m) = members.get_mut(&id) else {
            return false;
        };
        m.name = name;
        m.client_urls = client_urls;
        batch.put(Bucket::Members, id.to_be_bytes().to_vec(), m.encode());
        true
    }

    /// The raft configuration: voters and learners.
    pub fn conf_state(&self) -> ConfState {
        let members = self.members.read();
        let voters = members
            .values()
            .filter(|m| !m.is_learner)
            .map(|m| m.id)
            .collect::<Vec<_>>();
        let learners = members
            .values()
            .filter(|m| m.is_learner)
            .map(|m| m.id)
            .collect::<Vec<_>>();
        ConfState::from((voters, learners))
    }
}

/// Stores the raft configuration as of the batch's consistent index.
pub fn save_conf_state(batch: &mut WriteBatch, cs: &ConfState) {
    use protobuf::Message as _;
    if let Ok(bytes) = cs.write_to_bytes() {
        batch.put(Bucket::Meta, CONF_STATE_KEY.to_vec(), bytes);
    }
}

/// The raft configuration as of the backend's consistent index.
pub fn load_conf_state(backend: &dyn Backend) -> Result<ConfState> {
    use protobuf::Message as _;
    let bytes = backend
        .get(Bucket::Meta, CONF_STATE_KEY)?
        .ok_or_else(|| ServerError::Corrupt("backend has no raft configuration".into()))?;
    ConfState::parse_from_bytes(&bytes)
        .map_err(|e| ServerError::Corrupt(format!("undecodable raft configuration: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use etcd_mvcc::MemBackend;

    fn member(id: u64, started: bool, is_learner: bool) -> Member {
        Member {
            id,
            name: if started {
                format!("m{id}")
            } else {
                String::new()
            },
            peer_urls: vec![format!("http://p:{id}")],
            client_urls: vec![],
            is_learner,
        }
    }

    #[test]
    fn promotion_needs_a_started_quorum_counting_the_learner() {
        // 2 voters, 1 started, + the learner: 2 of 3 started.
        let ms = Membership::new(
            1,
            1,
            vec![
                member(1, true, false),
                member(2, false, false),
                member(3, true, true),
            ],
        );
        assert!(ms.ready_to_promote());
        // 3 voters, 1 started, + the learner: 2 of 4 started.
        let ms = Membership::new(
            1,
            1,
            vec![
                member(1, true, false),
                member(2, false, false),
                member(4, false, false),
                member(3, true, true),
            ],
        );
        assert!(!ms.ready_to_promote());
        assert_eq!(ms.voter_ids(), vec![1, 2, 4]);
    }

    #[test]
    fn members_round_trip_through_the_backend() {
        let backend = MemBackend::new();
        let m = Member {
            id: 7,
            name: "a".into(),
            peer_urls: vec!["http://p:1".into()],
            client_urls: vec![],
            is_learner: false,
        };
        let ms = Membership::new(99, 7, vec![m.clone()]);
        assert_eq!(ms.voter_ids(), vec![7]);
        assert!(ms.ready_to_promote());
        let mut batch = WriteBatch::default();
        ms.save_all(&mut batch);
        backend.write(batch).unwrap();
        let loaded = Membership::load(&backend, 7).unwrap();
        assert_eq!(loaded.cluster_id(), 99);
        assert_eq!(loaded.members(), vec![m]);
        assert_eq!(load_conf_state(&backend).unwrap().voters, vec![7]);
    }
}
