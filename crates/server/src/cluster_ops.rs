//! Membership changes and leadership transfer as clients ask for them (the Cluster and
//! Maintenance.MoveLeader RPCs), with etcd's checks before anything is proposed.

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

    /// MemberAdd: the new member's ID is derived from its URLs, the cluster token and the
    /// time, as etcd does.
    pub async fn member_add(
        &self,
        peer_urls: Vec<String>,
        is_learner: bool,
    ) -> Result<(Member, Vec<Member>)> {
        if !valid_peer_urls(&peer_urls) {
            return Err(ServerError::MemberBadUrls);
        }
        if self.membership.peer_url_in_use(&peer_urls, None) {
            return Err(ServerError::PeerUrlExists);
        }
        if is_learner && self.membership.learner_count() >= MAX_LEARNERS {
            return Err(ServerError::TooManyLearners);
        }
        if !is_learner && self.cfg.strict_reconfig_check && !self.membership.ready_to_add_voter() {
            return Err(ServerError::NotEnoughStartedMembers);
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let id = member_id(&peer_urls, &self.cfg.initial_cluster_token, Some(now));
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

    pub async fn member_remove(&self, id: u64) -> Result<Vec<Member>> {
        let member = self
            .membership
            .member(id)
            .ok_or(if self.membership.is_removed(id) {
                ServerError::MemberRemoved
            } else {
                ServerError::MemberNotFound
            })?;
        if !member.is_learner
            && self.cfg.strict_reconfig_check
            && !self.membership.ready_to_remove_voter(id)
        {
            return Err(ServerError::NotEnoughStartedMembers);
        }
        self.propose_member_change(MemberChange::Remove(id)).await
    }

    pub async fn member_update(&self, id: u64, peer_urls: Vec<String>) -> Result<Vec<Member>> {
        if !valid_peer_urls(&peer_urls) {
            return Err(ServerError::MemberBadUrls);
        }
        self.propose_member_change(MemberChange::UpdatePeerUrls { id, peer_urls })
            .await
    }

    /// MemberPromote, decided by the leader: refused until the learner has caught up.
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
