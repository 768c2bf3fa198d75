//! Membership changes and leadership transfer as clients ask for them (the Cluster and
//! Maintenance.MoveLeader RPCs), with etcd's checks before anything is proposed.
//!
//! With `--strict-reconfig-check` (the default) a change that could cost the cluster its
//! quorum is refused, as etcd's mayAddMember / mayRemoveMember refuse it: with
//! `etcdserver: re-configuration failed due to not enough started members` when too few
//! voters have published themselves, and with `etcdserver: unhealthy cluster` when the
//! member asked has not been connected to enough voters for [`HEALTH_INTERVAL`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::{Instant, sleep};

use crate::conf_change;
use crate::error::{Result, ServerError};
use crate::ids::{id_hex, member_id};
use crate::membership::{Member, MemberChange};
use crate::peer_client::request as peer_request;
use crate::peer_http::{parse_members, promote_error_from_kind};
use crate::raft_loop::RaftMsg;
use crate::server::EtcdServer;
use crate::wait::Applied;

/// etcd allows one learner at a time.
const MAX_LEARNERS: usize = 1;
/// A learner may be promoted once it has replicated this share of the leader's log.
const LEARNER_READY_PERCENT: f64 = 0.9;

/// etcd's HealthInterval: a peer counts as connected once it has been for this long.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(5);

/// etcd's isConnectedFullySince over the voters: every voter (the local member counts as
/// connected) has been connected since the health interval began.
fn connected_to_all(connected: usize, voters: usize) -> bool {
    connected == voters
}

/// etcd's check in mayRemoveMember: the voters connected now, less the one removed, are
/// still a quorum of the voters (`active - 1 >= 1 + (voters - 1) / 2`).
fn quorum_survives_removal(connected: usize, voters: usize) -> bool {
    connected >= 2 + voters.saturating_sub(1) / 2
}

/// etcd's check of member peer URLs: absolute http(s) URLs with a host and a port.
fn valid_peer_urls(urls: &[String]) -> bool {
    !urls.is_empty()
        && urls.iter().all(|u| match url::Url::parse(u) {
            Ok(p) => {
                matches!(p.scheme(), "http" | "https")
                    && p.host_str().is_some()
                    && p.port().is_some()
            }
            Err(_) => false,
        })
}

impl EtcdServer {
    /// Proposes a membership change and returns the members after it applied.
    async fn propose_member_change(&self, change: MemberChange) -> Result<Vec<Member>> {
        self.membership.validate(&change)?;
        let id = self.reqid.next();
        let cc = conf_change::encode(id, &change);
        match self
            .submit_and_wait(id, || RaftMsg::ProposeConfChange { id, cc: cc.clone() })
            .await?
        {
            Applied::Members(members) => Ok(members),
            other => Err(ServerError::Corrupt(format!(
                "a membership change applied as {other:?}"
            ))),
        }
    }

    /// MemberAdd: the new member's ID is derived from its peer URLs and the time in Unix
    /// seconds, with an empty cluster token, as etcd's MemberAdd does
    /// (`membership.NewMember("", urls, "", &now)`): unlike a bootstrap member's ID, it
    /// does not depend on `--initial-cluster-token`.
    pub async fn member_add(
        &self,
        peer_urls: Vec<String>,
        is_learner: bool,
    ) -> Result<(Member, Vec<Member>)> {
        if !valid_peer_urls(&peer_urls) {
            return Err(ServerError::MemberBadUrls);
        }
        if self.cfg.strict_reconfig_check {
            // etcd's mayAddMember: started voters first, then connectivity (for learners
            // too: the local member must be connected to every voter).
            if !is_learner && !self.membership.ready_to_add_voter() {
                tracing::warn!(
                    "local-member-id" = %id_hex(self.member_id),
                    "rejecting member add request; not enough healthy members"
                );
                return Err(ServerError::NotEnoughStartedMembers);
            }
            let (connected, voters) = self.connected_voters();
            if !connected_to_all(connected, voters) {
                tracing::warn!(
                    "local-member-id" = %id_hex(self.member_id),
                    connected,
                    voters,
                    "rejecting member add request; local member has not been connected to all peers, reconfigure breaks active quorum"
                );
                return Err(ServerError::Unhealthy);
            }
        }
        if self.membership.peer_url_in_use(&peer_urls, None) {
            return Err(ServerError::PeerUrlExists);
        }
        if is_learner && self.membership.learner_count() >= MAX_LEARNERS {
            return Err(ServerError::TooManyLearners);
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let id = member_id(&peer_urls, "", Some(now));
        let member = Member {
            id,
            name: String::new(),
            peer_urls,
            client_urls: vec![],
            is_learner,
        };
        let change = if is_learner {
            MemberChange::AddLearner(member.clone())
        } else {
            MemberChange::Add(member.clone())
        };
        let members = self.propose_member_change(change).await?;
        tracing::info!(member = %id_hex(id), learner = is_learner, "added member");
        Ok((member, members))
    }

    /// MemberRemove. Removing a learner, or a voter this member is not connected to (it
    /// is not part of the active quorum), never costs the quorum.
    pub async fn member_remove(&self, id: u64) -> Result<Vec<Member>> {
        let member = self
            .membership
            .member(id)
            .ok_or(if self.membership.is_removed(id) {
                ServerError::MemberRemoved
            } else {
                ServerError::MemberNotFound
            })?;
        if !member.is_learner && self.cfg.strict_reconfig_check {
            // etcd's mayRemoveMember.
            if !self.membership.ready_to_remove_voter(id) {
                tracing::warn!(
                    "local-member-id" = %id_hex(self.member_id),
                    "requested-member-remove-id" = %id_hex(id),
                    "rejecting member remove request; not enough healthy members"
                );
                return Err(ServerError::NotEnoughStartedMembers);
            }
            let down = id != self.member_id && self.peer_active_since(id).is_none();
            let (connected, voters) = self.connected_voters();
            if !down && !quorum_survives_removal(connected, voters) {
                tracing::warn!(
                    "local-member-id" = %id_hex(self.member_id),
                    "requested-member-remove" = %id_hex(id),
                    "active-peers" = connected,
                    "rejecting member remove request; local member has not been connected to all peers, reconfigure breaks active quorum"
                );
                return Err(ServerError::Unhealthy);
            }
        }
        self.propose_member_change(MemberChange::Remove(id)).await
    }

    /// (voters connected to this member for at least [`HEALTH_INTERVAL`], counting this
    /// member if it is one; all voters): etcd's numConnectedSince.
    fn connected_voters(&self) -> (usize, usize) {
        let since = std::time::Instant::now().checked_sub(HEALTH_INTERVAL);
        let voters = self.membership.voter_ids();
        let connected = voters
            .iter()
            .filter(|&&id| {
                id == self.member_id
                    || matches!(
                        (self.peer_active_since(id), since),
                        (Some(active), Some(since)) if active < since
                    )
            })
            .count();
        (connected, voters.len())
    }

    pub async fn member_update(&self, id: u64, peer_urls: Vec<String>) -> Result<Vec<Member>> {
        if !valid_peer_urls(&peer_urls) {
            return Err(ServerError::MemberBadUrls);
        }
        self.propose_member_change(MemberChange::UpdatePeerUrls { id, peer_urls })
            .await
    }

    /// MemberPromote, decided by the leader: refused until the learner has caught up, and
    /// (strict) unless a quorum of the voters after it has started.
    pub async fn member_promote(&self, id: u64) -> Result<Vec<Member>> {
        self.membership.validate(&MemberChange::Promote(id))?;
        if self.leader() != self.member_id {
            return self.forward_promote(id).await;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.raft_tx
            .send(RaftMsg::Progress(tx))
            .map_err(|_| ServerError::Stopped)?;
        let matched = rx.await.map_err(|_| ServerError::Stopped)?;
        let leader = matched.get(&self.member_id).copied().unwrap_or(0);
        let learner = matched.get(&id).copied().unwrap_or(0);
        if (learner as f64) < (leader as f64) * LEARNER_READY_PERCENT {
            return Err(ServerError::LearnerNotReady);
        }
        if self.cfg.strict_reconfig_check && !self.membership.ready_to_promote() {
            tracing::warn!(
                "local-member-id" = %id_hex(self.member_id),
                "requested-member-remove-id" = %id_hex(id),
                "rejecting member promote request; not enough healthy members"
            );
            return Err(ServerError::NotEnoughStartedMembers);
        }
        self.propose_member_change(MemberChange::Promote(id)).await
    }

    /// Asks the leader to promote, over its peer port (etcd's promoteMemberHTTP).
    async fn forward_promote(&self, id: u64) -> Result<Vec<Member>> {
        let leader = self
            .membership
            .member(self.leader())
            .ok_or(ServerError::NoLeader)?;
        let path = format!("/members/promote/{}", id_hex(id));
        let mut last = ServerError::NoLeader;
        for u in &leader.peer_urls {
            let Ok(url) = url::Url::parse(u) else {
                continue;
            };
            let timeout = self.cfg.request_timeout();
            match peer_request(
                &url,
                "POST",
                &path,
                b"",
                self.cfg.peer_tls.as_ref(),
                timeout,
            )
            .await
            {
                Ok(resp) if resp.status == 200 => {
                    return parse_members(&resp.body).ok_or_else(|| {
                        ServerError::Corrupt("undecodable member list from the leader".into())
                    });
                }
                Ok(resp) => {
                    let kind = serde_json::from_slice::<serde_json::Value>(&resp.body)
                        .ok()
                        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
                        .unwrap_or_default();
                    return Err(promote_error_from_kind(&kind));
                }
                Err(e) => {
                    tracing::warn!(leader = %id_hex(leader.id), error = %e, "cannot forward a promotion to the leader");
                    last = ServerError::Timeout;
                }
            }
        }
        Err(last)
    }

    /// MoveLeader: only the leader can hand over, and only to a voting member.
    pub async fn move_leader(&self, target: u64) -> Result<()> {
        if self.leader() != self.member_id {
            return Err(ServerError::NotLeader);
        }
        match self.membership.member(target) {
            Some(m) if !m.is_learner => {}
            _ => return Err(ServerError::BadLeaderTransferee),
        }
        if target == self.member_id {
            return Ok(());
        }
        self.raft_tx
            .send(RaftMsg::TransferLeader(target))
            .map_err(|_| ServerError::Stopped)?;
        let deadline = Instant::now() + self.cfg.request_timeout();
        while self.leader() != target {
            if Instant::now() >= deadline {
                return Err(ServerError::LeaderTransferTimeout);
            }
            sleep(Duration::from_millis(10)).await;
        }
        tracing::info!(from = %id_hex(self.member_id), to = %id_hex(target), "moved leadership");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_needs_every_voter_connected() {
        assert!(connected_to_all(3, 3));
        assert!(!connected_to_all(2, 3));
        assert!(connected_to_all(1, 1));
    }

    #[test]
    fn removing_keeps_a_quorum_of_connected_voters() {
        // 3 voters, all connected: one can go (2 of 3 remain).
        assert!(quorum_survives_removal(3, 3));
        // 3 voters, one down: removing a connected one leaves 1 of 3.
        assert!(!quorum_survives_removal(2, 3));
        // 5 voters, one down: 3 of 5 remain.
        assert!(quorum_survives_removal(4, 5));
        assert!(!quorum_survives_removal(3, 5));
        // 2 voters: removing one needs both connected.
        assert!(quorum_survives_removal(2, 2));
        assert!(!quorum_survives_removal(1, 2));
        // A lone voter cannot remove itself.
        assert!(!quorum_survives_removal(1, 1));
    }
}
