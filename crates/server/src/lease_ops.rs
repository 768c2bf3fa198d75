//! Leases as clients use them. Grants, revocations and checkpoints go through raft; renewals
//! and time-to-live are answered by the leader, whose lessor is the one that counts down
//! (a follower forwards them over the peer port, as etcd does). The leader also proposes
//! the revocation of every lease that expires.
//!
//! Forwarding follows etcd's LeaseRenew / LeaseTimeToLive: until the request timeout a
//! follower waits for a leader, asks it, and asks again whoever leads next when the
//! leader changes, is unreachable or cannot answer yet; only then does it fail.

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
use tokio::time::{Instant, sleep, sleep_until};

use crate::error::{Result, ServerError};
use crate::ids::id_hex;
use crate::metrics as m;
use crate::peer_client::request as peer_request;
use crate::proposal::AuthInfo;
use crate::server::EtcdServer;
use crate::wait::Applied;

/// How often the leader looks for expired leases and due checkpoints.
const EXPIRY_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// Pause between two attempts to reach a leader that could not answer (etcd throttles
/// its renew loop the same way); a leader change ends the pause at once.
const FORWARD_RETRY_PAUSE: Duration = Duration::from_millis(50);

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
        // The header carries the revoke's own revision, not whatever is current by the
        // time the answer is built.
        let revision = match self.propose(raft_req, auth).await? {
            Applied::LeaseRevoke(revision) => revision,
            other => {
                return Err(ServerError::Corrupt(format!(
                    "a lease revoke applied as {other:?}"
                )));
            }
        };
        Ok(LeaseRevokeResponse {
            header: Some(self.header(revision)),
        })
    }

    /// KeepAlive: the remaining TTL after renewal (0 when the lease does not exist).
    ///
    /// Served by whoever leads: retried across leader changes, elections and unreachable
    /// leaders until the request timeout, as etcd's LeaseRenew. Fails only with Stopped,
    /// a corrupt answer, or (at the deadline) NoLeader / Timeout.
    pub async fn lease_renew(&self, id: i64) -> Result<i64> {
        let deadline = Instant::now() + self.cfg.request_timeout();
        let req = LeaseKeepAliveRequest { id }.encode_to_vec();
        loop {
            let attempt = match self.route_to_leader(LEASES_PATH, &req, deadline).await? {
                Route::Local => self.renew_locally(id).await,
                Route::Answer(body) => {
                    let resp = LeaseKeepAliveResponse::decode(body.as_slice()).map_err(|e| {
                        ServerError::Corrupt(format!(
                            "undecodable keep-alive answer from the leader: {e}"
                        ))
                    })?;
                    return Ok(resp.ttl);
                }
            };
            match attempt {
                Ok(ttl) => return Ok(ttl),
                // Leading, but the lessor did not become primary in time (or leadership
                // moved on meanwhile): try again with whoever leads now.
                Err(e) if retryable(&e) && Instant::now() < deadline => {
                    self.pause_after_failure(self.leader(), deadline).await?;
                }
                Err(e) if retryable(&e) => return Err(ServerError::Timeout),
                Err(e) => return Err(e),
            }
        }
    }

    /// Renews on the leader. Right after an election the lessor may not be primary yet:
    /// wait for it briefly rather than refusing. A lease not found is looked for once more
    /// after applying what is committed (a follower may have applied its grant first).
    pub(crate) async fn renew_locally(&self, id: i64) -> Result<i64> {
        let deadline = tokio::time::Instant::now() + self.cfg.election_timeout;
        let mut caught_up = false;
        loop {
            match self.lessor.renew(id) {
                Ok(ttl) => {
                    metrics::counter!(m::LEASE_RENEWED).increment(1);
                    return Ok(ttl);
                }
                Err(LeaseError::NotFound) if !caught_up => {
                    caught_up = true;
                    if !self.catch_up_applied().await {
                        return Ok(0);
                    }
                }
                Err(LeaseError::NotFound) => return Ok(0),
                Err(LeaseError::NotPrimary) if tokio::time::Instant::now() < deadline => {
                    sleep(Duration::from_millis(20)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// TimeToLive, answered by the leader's lessor (forwarded with the same retries as
    /// [`EtcdServer::lease_renew`]).
    pub async fn lease_time_to_live(
        &self,
        req: LeaseTimeToLiveRequest,
    ) -> Result<LeaseTimeToLiveResponse> {
        let deadline = Instant::now() + self.cfg.request_timeout();
        match self
            .route_to_leader(LEASES_INTERNAL_PATH, &req.encode_to_vec(), deadline)
            .await?
        {
            Route::Local => Ok(self.time_to_live_locally(&req).await),
            Route::Answer(body) => {
                let mut resp = LeaseTimeToLiveResponse::decode(body.as_slice()).map_err(|e| {
                    ServerError::Corrupt(format!(
                        "undecodable time-to-live answer from the leader: {e}"
                    ))
                })?;
                resp.header = Some(self.header(self.store.current_revision()));
                Ok(resp)
            }
        }
    }

    /// TimeToLive as the leader's lessor sees it; an unknown lease answers TTL -1 (etcd).
    pub(crate) async fn time_to_live_locally(
        &self,
        req: &LeaseTimeToLiveRequest,
    ) -> LeaseTimeToLiveResponse {
        let mut found = self.lessor.time_to_live(req.id, req.keys);
        if found.is_none() && self.catch_up_applied().await {
            found = self.lessor.time_to_live(req.id, req.keys);
        }
        let header = Some(self.header(self.store.current_revision()));
        match found {
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

    /// Waits until this member has applied everything committed when called (one read
    /// index round); false if that failed within the request timeout.
    ///
    /// A follower answers a grant once it applied it, which may be before the leader did
    /// (or even published the commit locally); a renewal or time-to-live it forwards right
    /// after must still find the lease, so the leader catches up before calling a lease
    /// unknown.
    async fn catch_up_applied(&self) -> bool {
        self.linearizable_read_notify().await.is_ok()
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

    /// Finds who answers a lease request: this member when it leads, else the leader's
    /// answer to `body` posted on its peer port at `path`. Until `deadline` it waits for
    /// a leader and retries (after [`FORWARD_RETRY_PAUSE`], or at once when the leader
    /// changes) whenever the leader refuses (409: no longer leader), cannot answer
    /// (503) or cannot be reached. At the deadline: NoLeader if there was none, else
    /// Timeout. Stopped as soon as the member stops.
    async fn route_to_leader(&self, path: &str, body: &[u8], deadline: Instant) -> Result<Route> {
        loop {
            let leader = self.wait_for_lease_leader(deadline).await?;
            if leader == self.member_id {
                return Ok(Route::Local);
            }
            let attempt = tokio::select! {
                r = self.post_to_member(leader, path, body, deadline) => r,
                // The request went to a former leader: ask the new one instead.
                _ = self.state.wait_leader_change(leader) => None,
                _ = self.state.wait_stopped() => return Err(ServerError::Stopped),
            };
            if let Some(answer) = attempt {
                return Ok(Route::Answer(answer));
            }
            self.pause_after_failure(leader, deadline).await?;
        }
    }

    /// The current leader, waiting for one (polling the leader state, not sleeping) until
    /// `deadline`: NoLeader then, Stopped if the member stops first. A leader this member
    /// does not know as a member yet counts as none.
    async fn wait_for_lease_leader(&self, deadline: Instant) -> Result<u64> {
        loop {
            let leader = self.leader();
            if leader != 0 && self.membership.member(leader).is_some() {
                return Ok(leader);
            }
            if Instant::now() >= deadline {
                return Err(ServerError::NoLeader);
            }
            tokio::select! {
                _ = self.state.wait_leader_change(leader) => {}
                // An unknown member may become known without a leader change.
                _ = sleep(FORWARD_RETRY_PAUSE), if leader != 0 => {}
                _ = sleep_until(deadline) => {}
                _ = self.state.wait_stopped() => return Err(ServerError::Stopped),
            }
        }
    }

    /// Waits [`FORWARD_RETRY_PAUSE`] after a failed attempt with `leader`, less if the
    /// leader changes first. Timeout once `deadline` has passed, Stopped on stop.
    async fn pause_after_failure(&self, leader: u64, deadline: Instant) -> Result<()> {
        if Instant::now() >= deadline {
            return Err(ServerError::Timeout);
        }
        tokio::select! {
            _ = sleep(FORWARD_RETRY_PAUSE) => Ok(()),
            _ = self.state.wait_leader_change(leader) => Ok(()),
            _ = self.state.wait_stopped() => Err(ServerError::Stopped),
        }
    }

    /// Posts `body` to member `id`'s peer URLs in turn; the first 200 answer's body, or
    /// None when every URL refused, failed or timed out (each try is bounded by
    /// `deadline`).
    async fn post_to_member(
        &self,
        id: u64,
        path: &str,
        body: &[u8],
        deadline: Instant,
    ) -> Option<Vec<u8>> {
        let member = self.membership.member(id)?;
        for u in &member.peer_urls {
            let Ok(url) = url::Url::parse(u) else {
                continue;
            };
            let timeout = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
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
                Ok(resp) if resp.status == 200 => return Some(resp.body),
                Ok(resp) if resp.status == 409 => {
                    tracing::debug!(leader = %id_hex(id), path, "the leader asked is no longer leader");
                    return None;
                }
                Ok(resp) => {
                    tracing::debug!(leader = %id_hex(id), status = resp.status, path, "the leader could not answer a forwarded lease request");
                }
                Err(e) => {
                    tracing::debug!(leader = %id_hex(id), error = %e, path, "cannot forward a lease request to the leader");
                }
            }
        }
        None
    }
}

/// Who answers a lease request that only the leader can answer.
enum Route {
    /// This member leads.
    Local,
    /// The leader's answer, undecoded.
    Answer(Vec<u8>),
}

/// Whether a renewal on this member failed only because leadership is in flux (worth
/// asking the leader again before the deadline).
fn retryable(e: &ServerError) -> bool {
    matches!(
        e,
        ServerError::NotLeader
            | ServerError::NoLeader
            | ServerError::LeaderChanged
            | ServerError::Timeout
    )
}

/// The leader's lease duties: be the primary lessor while leading, propose revocations of
/// expired leases (at most etcd's rate) and, unless checkpointing is off
/// ([`crate::ServerConfig::lease_checkpoint_interval`]), checkpoints of remaining TTLs
/// every checkpoint interval, so a new leader resumes each countdown from there.
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
                match server.lease_revoke(id, &AuthInfo::default()).await {
                    // Counted only once its revoke applied, as etcd does.
                    Ok(_) => metrics::counter!(m::LEASE_EXPIRED).increment(1),
                    // Revoked meanwhile by a client (or a retry of this expiry).
                    Err(ServerError::LeaseNotFound) => {}
                    Err(e) => {
                        tracing::warn!(lease = %format!("{id:x}"), error = %e, "failed to revoke an expired lease")
                    }
                }
            });
        }
        if server.cfg.lease_checkpoint_interval.is_none() {
            continue;
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
