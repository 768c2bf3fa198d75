//! Leases as clients use them. Grants, revocations and checkpoints go through raft; renewals
//! and time-to-live are answered by the leader, whose lessor is the one that counts down
//! (a follower forwards them over the peer port, as etcd does). The leader also proposes
//! the revocation of every lease that expires.

use std::sync::Arc;
use std::time::Duration;

use etcd_api::etcdserverpb::{
    InternalRaftRequest, LeaseCheckpoint, LeaseCheckpointRequest, LeaseGrantRequest,
    LeaseGrantResponse, LeaseKeepAliveRequest, LeaseKeepAliveResponse, LeaseLeasesResponse,
    LeaseRevokeRequest, LeaseRevokeResponse, LeaseStatus, LeaseTimeToLiveRequest,
    LeaseTimeToLiveResponse,
};
use etcd_lease::{LEASE_REVOKE_RATE, LeaseError, MAX_LEASE_TTL};
use prost::Message as _;
use tokio::time::sleep;

use crate::error::{Result, ServerError};
use crate::ids::id_hex;
use crate::metrics as m;
use crate::peer_client::request as peer_request;
use crate::proposal::AuthInfo;
use crate::server::EtcdServer;
use crate::wait::Applied;

/// How often the leader looks for expired leases and due checkpoints.
const EXPIRY_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// Peer-port paths of forwarded lease requests.
pub const LEASES_PATH: &str = "/leases";
pub const LEASES_INTERNAL_PATH: &str = "/leases/internal";

impl EtcdServer {
    pub async fn lease_grant(
        &self,
        mut req: LeaseGrantRequest,
        auth: &AuthInfo,
    ) -> Result<LeaseGrantResponse> {
        if req.ttl > MAX_LEASE_TTL {
            return Err(ServerError::LeaseTtlTooLarge);
        }
        if req.id == 0 {
            // The proposer picks the ID so every member grants the same lease.
            req.id = (self.reqid.next() & i64::MAX as u64) as i64;
        }
        let raft_req = InternalRaftRequest {
            lease_grant: Some(req),
            ..Default::default()
        };
        match self.propose(raft_req, auth).await? {
            Applied::LeaseGrant(mut resp) => {
                self.fill_header(&mut resp.header);
                Ok(resp)
            }
            other => Err(ServerError::Corrupt(format!(
                "a lease grant applied as {other:?}"
            ))),
        }
    }

    pub async fn lease_revoke(&self, id: i64, auth: &AuthInfo) -> Result<LeaseRevokeResponse> {
        let raft_req = InternalRaftRequest {
            lease_revoke: Some(LeaseRevokeRequest { id }),
            ..Default::default()
        };
        self.propose(raft_req, auth).await?;
        Ok(LeaseRevokeResponse {
            header: Some(self.header(self.store.current_revision())),
        })
    }

    /// KeepAlive: the remaining TTL after renewal (0 when the lease does not exist).
    pub async fn lease_renew(&self, id: i64) -> Result<i64> {
        if self.leader() == self.member_id {
            return self.renew_locally(id).await;
        }
        let req = LeaseKeepAliveRequest { id };
        let body = self
            .forward_to_leader(LEASES_PATH, &req.encode_to_vec())
            .await?;
        let resp = LeaseKeepAliveResponse::decode(body.as_slice()).map_err(|e| {
            ServerError::Corrupt(format!(
                "undecodable keep-alive answer from the leader: {e}"
            ))
        })?;
        Ok(resp.ttl)
    }

    /// Renews on the leader. Right after an election the lessor may not be primary yet:
    /// wait for it briefly rather than refusing.
    pub(crate) async fn renew_locally(&self, id: i64) -> Result<i64> {
        let deadline = tokio::time::Instant::now() + self.cfg.election_timeout;
        loop {
            match self.lessor.renew(id) {
                Ok(ttl) => {
                    metrics::counter!(m::LEASE_RENEWED).increment(1);
                    return Ok(ttl);
                }
                Err(LeaseError::NotFound) => return Ok(0),
                Err(LeaseError::NotPrimary) if tokio::time::Instant::now() < deadline => {
                    sleep(Duration::from_millis(20)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub async fn lease_time_to_live(
        &self,
        req: LeaseTimeToLiveRequest,
    ) -> Result<LeaseTimeToLiveResponse> {
        if self.leader() != self.member_id {
            let body = self
                .forward_to_leader(LEASES_INTERNAL_PATH, &req.encode_to_vec())
                .await?;
            let mut resp = LeaseTimeToLiveResponse::decode(body.as_slice()).map_err(|e| {
                ServerError::Corrupt(format!(
                    "undecodable time-to-live answer from the leader: {e}"
                ))
            })?;
            resp.header = Some(self.header(self.store.current_revision()));
            return Ok(resp);
        }
        Ok(self.time_to_live_locally(&req))
    }

    /// TimeToLive as the leader's lessor sees it; an unknown lease answers TTL -1 (etcd).
    pub(crate) fn time_to_live_locally(
        &self,
        req: &LeaseTimeToLiveRequest,
    ) -> LeaseTimeToLiveResponse {
        let header = Some(self.header(self.store.current_revision()));
        match self.lessor.time_to_live(req.id, req.keys) {
            Some(info) => LeaseTimeToLiveResponse {
                header,
                id: info.id,
                ttl: info.remaining,
                granted_ttl: info.granted_ttl,
                keys: info.keys.into_iter().map(Into::into).collect(),
            },
            None => LeaseTimeToLiveResponse {
                header,
                id: req.id,
                ttl: -1,
                granted_ttl: 0,
                keys: vec![],
            },
        }
    }

    pub fn lease_leases(&self) -> LeaseLeasesResponse {
        LeaseLeasesResponse {
            header: Some(self.header(self.store.current_revision())),
            leases: self
                .lessor
                .leases()
                .into_iter()
                .map(|id| LeaseStatus { id })
                .collect(),
        }
    }

    /// Posts `body` to the leader's peer port and returns its answer's body.
    async fn forward_to_leader(&self, path: &str, body: &[u8]) -> Result<Vec<u8>> {
        let leader = self.leader();
        let member = self
            .membership
            .member(leader)
            .ok_or(ServerError::NoLeader)?;
        let mut last = ServerError::NoLeader;
        for u in &member.peer_urls {
            let Ok(url) = url::Url::parse(u) else {
                continue;
            };
            let timeout = self.cfg.request_timeout();
            match peer_request(
                &url,
                "POST",
                path,
                body,
                self.cfg.peer_tls.as_ref(),
                timeout,
            )
            .await
            {
                Ok(resp) if resp.status == 200 => return Ok(resp.body),
                Ok(resp) if resp.status == 409 => return Err(ServerError::LeaderChanged),
                Ok(resp) => {
                    tracing::warn!(leader = %id_hex(leader), status = resp.status, path, "leader refused a forwarded lease request");
                    last = ServerError::Timeout;
                }
                Err(e) => {
                    tracing::warn!(leader = %id_hex(leader), error = %e, path, "cannot forward a lease request to the leader");
                    last = ServerError::Timeout;
                }
            }
        }
        Err(last)
    }
}

/// The leader's lease duties: be the primary lessor while leading, propose revocations of
/// expired leases (at most etcd's rate) and checkpoints of remaining TTLs.
pub(crate) async fn run_lessor(server: Arc<EtcdServer>) {
    let mut leading = false;
    loop {
        let was = server.leader();
        tokio::select! {
            _ = sleep(EXPIRY_CHECK_INTERVAL) => {}
            _ = server.state.wait_leader_change(was) => {}
            _ = server.state.wait_stopped() => return,
        }
        let now_leading = server.leader() == server.member_id;
        if now_leading != leading {
            leading = now_leading;
            if leading {
                // Leases get an election timeout of grace: keep-alives went to the old leader.
                server.lessor.promote(server.cfg.election_timeout);
                tracing::info!("this member's lessor is now primary");
            } else {
                server.lessor.demote();
            }
        }
        if !leading {
            continue;
        }
        for id in server.lessor.expired(LEASE_REVOKE_RATE / 2) {
            let server = server.clone();
            tokio::spawn(async move {
                metrics::counter!(m::LEASE_EXPIRED).increment(1);
                match server.lease_revoke(id, &AuthInfo::default()).await {
                    Ok(_) | Err(ServerError::LeaseNotFound) => {}
                    Err(e) => {
                        tracing::warn!(lease = %format!("{id:x}"), error = %e, "failed to revoke an expired lease")
                    }
                }
            });
        }
        let due = server.lessor.checkpoints_due(LEASE_REVOKE_RATE);
        if !due.is_empty() {
            let checkpoints = due
                .into_iter()
                .map(|(id, remaining_ttl)| LeaseCheckpoint { id, remaining_ttl })
                .collect();
            let req = InternalRaftRequest {
                lease_checkpoint: Some(LeaseCheckpointRequest { checkpoints }),
                ..Default::default()
            };
            let server = server.clone();
            tokio::spawn(async move {
                if let Err(e) = server.propose(req, &AuthInfo::default()).await {
                    tracing::debug!(error = %e, "lease checkpoint not proposed");
                }
            });
        }
    }
}
