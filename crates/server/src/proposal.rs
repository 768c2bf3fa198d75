//! The proposal pipeline (etcd's processInternalRaftRequestOnce): gap check, request ID,
//! auth info, size check, waiter, propose under the request timeout, wait for the result.

use std::sync::Arc;
use std::time::Duration;

use etcd_api::etcdserverpb::{InternalRaftRequest, RequestHeader};
use etcd_api::membershippb::{Attributes, ClusterMemberAttrSetRequest};
use prost::Message as _;
use tokio::time::{Instant, sleep_until};

use crate::error::{Result, ServerError};
use crate::ids::id_hex;
use crate::metrics as m;
use crate::raft_loop::RaftMsg;
use crate::server::EtcdServer;
use crate::wait::{Applied, ApplyResult};

/// Proposals are refused while the apply loop is this far behind the commit index.
pub const MAX_APPLY_GAP: u64 = 5000;

/// etcd's first check of a proposal: refuse it while the apply loop lags more than
/// [`MAX_APPLY_GAP`] entries behind the commit index, so a backlog cannot grow unbounded.
fn check_apply_gap(committed: u64, applied: u64) -> Result<()> {
    if committed > applied + MAX_APPLY_GAP {
        return Err(ServerError::TooManyRequests {
            committed,
            applied,
            gap: MAX_APPLY_GAP,
        });
    }
    Ok(())
}

/// Whether a request started at `start` falls in the window in which the previous leader
/// was lost: after `elected - window`, before `elected`.
fn leader_fail_window(start: Instant, elected: Option<Instant>, window: Duration) -> bool {
    elected.is_some_and(|e| start < e && e.checked_sub(window).is_none_or(|lost| start > lost))
}

/// Who is asking, for permission checks at apply time (filled by the auth layer).
#[derive(Clone, Debug, Default)]
pub struct AuthInfo {
    pub username: String,
    pub revision: u64,
}

/// Decrements the pending gauge however the proposal ends.
struct Pending<'a>(&'a metrics::Gauge);

impl<'a> Pending<'a> {
    fn new(gauge: &'a metrics::Gauge) -> Self {
        gauge.increment(1.0);
        Pending(gauge)
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

impl EtcdServer {
    /// Proposes `req` through raft and returns what applying it produced.
    pub async fn propose(&self, mut req: InternalRaftRequest, auth: &AuthInfo) -> Result<Applied> {
        check_apply_gap(self.state.committed(), self.state.applied())?;
        let id = self.reqid.next();
        req.header = Some(RequestHeader {
            id,
            username: auth.username.clone(),
            auth_revision: auth.revision,
        });
        let size = req.encoded_len();
        if size > self.cfg.max_request_bytes {
            return Err(ServerError::RequestTooLarge {
                size,
                limit: self.cfg.max_request_bytes,
            });
        }
        let _pending = Pending::new(&self.meters.proposals_pending);
        let result = self.propose_and_wait(id, &req).await;
        if let Err(e) = &result
            && e.is_failed_proposal()
        {
            metrics::counter!(m::PROPOSALS_FAILED).increment(1);
        }
        result
    }

    async fn propose_and_wait(&self, id: u64, req: &InternalRaftRequest) -> ApplyResult {
        self.submit_and_wait(id, || RaftMsg::Propose {
            id,
            data: req.encode_to_vec(),
        })
        .await
    }

    /// Submits what `msg` builds to the raft loop and waits for the apply result under the
    /// request timeout; resubmits while raft drops it (no leader, or a membership change
    /// pending), which is safe because a dropped proposal was never appended.
    pub(crate) async fn submit_and_wait(&self, id: u64, msg: impl Fn() -> RaftMsg) -> ApplyResult {
        let start = Instant::now();
        let deadline = start + self.cfg.request_timeout();
        loop {
            self.wait_for_leader(deadline)
                .await
                .map_err(|e| self.timeout_cause(e, start))?;
            let rx = self.waiters.register(id);
            if self.raft_tx.send(msg()).is_err() {
                self.waiters.cancel(id);
                return Err(ServerError::Stopped);
            }
            tokio::select! {
                r = rx => match r {
                    // No leader when it reached raft: nothing was appended, so retry.
                    Ok(Err(ServerError::ProposalDropped)) => {
                        let backoff = Instant::now() + Duration::from_millis(10);
                        sleep_until(backoff.min(deadline)).await;
                        continue;
                    }
                    Ok(result) => return result,
                    Err(_) => return Err(ServerError::Stopped),
                },
                _ = sleep_until(deadline) => {
                    self.waiters.cancel(id);
                    return Err(self.timeout_cause(ServerError::Timeout, start));
                }
                _ = self.state.wait_stopped() => {
                    self.waiters.cancel(id);
                    return Err(ServerError::Stopped);
                }
            }
        }
    }

    /// etcd's parseProposeCtxErr: a proposal that timed out having started within two
    /// election timeouts before the current leader's election was lost to the leader's
    /// failure (`etcdserver: request timed out, possibly due to previous leader failure`).
    fn timeout_cause(&self, err: ServerError, start: Instant) -> ServerError {
        if !matches!(err, ServerError::Timeout) {
            return err;
        }
        let elected = self.state.leader_elected_at().map(Instant::from_std);
        if leader_fail_window(start, elected, 2 * self.cfg.election_timeout) {
            ServerError::TimeoutDueToLeaderFail
        } else {
            err
        }
    }

    /// Waits until some member is leader, or the deadline passes (then: timed out).
    async fn wait_for_leader(&self, deadline: Instant) -> Result<()> {
        if self.state.leader() != 0 {
            return Ok(());
        }
        tokio::select! {
            ok = self.state.wait_leader() => if ok { Ok(()) } else { Err(ServerError::Stopped) },
            _ = sleep_until(deadline) => Err(ServerError::Timeout),
        }
    }

    /// Waits until a read started now can be served from the local store.
    pub async fn linearizable_read_notify(&self) -> Result<()> {
        self.reads
            .wait_linearizable(self.cfg.request_timeout())
            .await
    }

    /// Publishes this member's name and client URLs through raft, retrying until it
    /// succeeds or the member stops.
    pub(crate) async fn publish(self: Arc<Self>) {
        let attrs = Attributes {
            name: self.cfg.name.clone(),
            client_urls: self.cfg.advertise_client_urls.clone(),
        };
        let req = InternalRaftRequest {
            cluster_member_attr_set: Some(ClusterMemberAttrSetRequest {
                member_id: self.member_id,
                member_attributes: Some(attrs.clone()),
            }),
            ..Default::default()
        };
        loop {
            if self.state.is_stopped() {
                return;
            }
            match self.propose(req.clone(), &AuthInfo::default()).await {
                Ok(_) => {
                    tracing::info!(
                        "local-member-id" = %id_hex(self.member_id),
                        "local-member-attributes" = %format!("{{Name:{} ClientURLs:[{}]}}", attrs.name, attrs.client_urls.join(" ")),
                        "cluster-id" = %id_hex(self.cluster_id),
                        "publish-timeout" = ?self.cfg.request_timeout(),
                        "published local member to cluster through raft"
                    );
                    self.state.set_published();
                    return;
                }
                Err(ServerError::Stopped) => return,
                Err(e) => {
                    tracing::warn!(
                        "local-member-id" = %id_hex(self.member_id),
                        error = %e,
                        "failed to publish local member to cluster through raft"
                    );
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_just_before_an_election_blame_the_old_leader() {
        let w = Duration::from_secs(2);
        let elected = Instant::now();
        let before = |ms| elected - Duration::from_millis(ms);
        assert!(leader_fail_window(before(500), Some(elected), w));
        assert!(!leader_fail_window(before(2500), Some(elected), w));
        assert!(!leader_fail_window(elected + w, Some(elected), w));
        assert!(!leader_fail_window(before(500), None, w));
    }

    #[test]
    fn a_gap_over_5000_is_too_many_requests() {
        assert!(check_apply_gap(5000, 0).is_ok());
        assert!(check_apply_gap(10_000, 5000).is_ok());
        let err = check_apply_gap(5001, 0).unwrap_err();
        assert!(
            matches!(
                err,
                ServerError::TooManyRequests {
                    committed: 5001,
                    applied: 0,
                    gap: 5000
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            crate::status::to_status(&err).message(),
            "etcdserver: too many requests"
        );
    }
}
