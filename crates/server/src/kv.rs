//! The KV operations as a client sees them: request checks before proposing, writes
//! through raft, reads linearizable (ReadIndex) or serializable (local).

use etcd_api::etcdserverpb::{
    CompactionRequest, CompactionResponse, DeleteRangeRequest, DeleteRangeResponse,
    InternalRaftRequest, PutRequest, PutResponse, RangeRequest, RangeResponse, TxnRequest,
    TxnResponse,
};
use etcd_mvcc::validate;

use crate::error::{Result, ServerError};
use crate::metrics as m;
use crate::proposal::AuthInfo;
use crate::server::EtcdServer;
use crate::wait::Applied;

impl EtcdServer {
    pub async fn range(&self, req: RangeRequest, _auth: &AuthInfo) -> Result<RangeResponse> {
        validate::check_range(&req)?;
        if !req.serializable {
            self.refuse_learner()?;
            self.linearizable_read_notify().await?;
        }
        self.meters.range_total.increment(1);
        let mut resp = self.store.range(&req)?;
        self.fill_header(&mut resp.header);
        Ok(resp)
    }

    pub async fn put(&self, req: PutRequest, auth: &AuthInfo) -> Result<PutResponse> {
        validate::check_put(&req)?;
        self.refuse_learner()?;
        self.check_quota(req.key.len() + req.value.len()).await?;
        let raft_req = InternalRaftRequest {
            put: Some(req),
            ..Default::default()
        };
        match self.propose(raft_req, auth).await? {
            Applied::Put(mut resp) => {
                self.fill_header(&mut resp.header);
                Ok(resp)
            }
            other => Err(unexpected(other)),
        }
    }

    pub async fn delete_range(
        &self,
        req: DeleteRangeRequest,
        auth: &AuthInfo,
    ) -> Result<DeleteRangeResponse> {
        validate::check_delete_range(&req)?;
        self.refuse_learner()?;
        let raft_req = InternalRaftRequest {
            delete_range: Some(req),
            ..Default::default()
        };
        match self.propose(raft_req, auth).await? {
            Applied::DeleteRange(mut resp) => {
                self.fill_header(&mut resp.header);
                Ok(resp)
            }
            other => Err(unexpected(other)),
        }
    }

    pub async fn txn(&self, req: TxnRequest, auth: &AuthInfo) -> Result<TxnResponse> {
        validate::check_txn(&req, self.cfg.max_txn_ops)?;
        if validate::is_txn_read_only(&req) {
            // Served locally like a range, after a ReadIndex unless every op is serializable.
            if !is_txn_serializable(&req) {
                self.refuse_learner()?;
                self.linearizable_read_notify().await?;
            }
            metrics::counter!(m::MVCC_TXN_TOTAL).increment(1);
            let mut resp = self.store.read_txn(&req)?;
            self.fill_header(&mut resp.header);
            return Ok(resp);
        }
        self.refuse_learner()?;
        self.check_quota(txn_cost(&req)).await?;
        let raft_req = InternalRaftRequest {
            txn: Some(req),
            ..Default::default()
        };
        match self.propose(raft_req, auth).await? {
            Applied::Txn(mut resp) => {
                self.fill_header(&mut resp.header);
                Ok(resp)
            }
            other => Err(unexpected(other)),
        }
    }

    pub async fn compact(
        &self,
        req: CompactionRequest,
        auth: &AuthInfo,
    ) -> Result<CompactionResponse> {
        self.refuse_learner()?;
        let physical = req.physical;
        let raft_req = InternalRaftRequest {
            compaction: Some(req),
            ..Default::default()
        };
        match self.propose(raft_req, auth).await? {
            Applied::Compaction(mut resp, waiter) => {
                if let (true, Some(w)) = (physical, waiter) {
                    let _ = tokio::task::spawn_blocking(move || w.wait()).await;
                }
                self.fill_header(&mut resp.header);
                Ok(resp)
            }
            other => Err(unexpected(other)),
        }
    }

    fn refuse_learner(&self) -> Result<()> {
        if self.state.is_learner() {
            Err(ServerError::NotSupportedForLearner)
        } else {
            Ok(())
        }
    }

    /// Refuses writes that would take the backend past `--quota-backend-bytes`, raising
    /// the NOSPACE alarm (through raft) as etcd does.
    async fn check_quota(&self, cost: usize) -> Result<()> {
        // Logical size: the backend's files never shrink, so only this comes back down
        // after compaction and lets an operator recover from the alarm.
        let size = self.store.backend().size_in_use_bytes();
        if size.saturating_add(cost as u64) <= self.cfg.quota_bytes() {
            return Ok(());
        }
        if !self.alarms.no_space() {
            use etcd_api::etcdserverpb::{AlarmRequest, AlarmType, alarm_request::AlarmAction};
            let raise = AlarmRequest {
                action: AlarmAction::Activate as i32,
                member_id: self.member_id,
                alarm: AlarmType::Nospace as i32,
            };
            let req = InternalRaftRequest {
                alarm: Some(raise),
                ..Default::default()
            };
            if let Err(e) = self.propose(req, &AuthInfo::default()).await {
                tracing::warn!(error = %e, "cannot raise the NOSPACE alarm");
            }
        }
        Err(ServerError::NoSpace)
    }

    /// Maintenance.Alarm: list, raise or clear alarms (through raft).
    pub async fn alarm(
        &self,
        req: etcd_api::etcdserverpb::AlarmRequest,
        auth: &AuthInfo,
    ) -> Result<Vec<etcd_api::etcdserverpb::AlarmMember>> {
        let raft_req = InternalRaftRequest {
            alarm: Some(req),
            ..Default::default()
        };
        match self.propose(raft_req, auth).await? {
            Applied::Alarms(alarms) => Ok(alarms),
            other => Err(unexpected(other)),
        }
    }
}

/// etcd's isTxnSerializable: every top-level op is a serializable range (vacuously true
/// for a txn of compares only).
fn is_txn_serializable(req: &TxnRequest) -> bool {
    use etcd_api::etcdserverpb::request_op::Request;
    req.success
        .iter()
        .chain(req.failure.iter())
        .all(|op| matches!(&op.request, Some(Request::RequestRange(r)) if r.serializable))
}

/// Rough size a txn adds to the backend: the keys and values it puts.
fn txn_cost(req: &TxnRequest) -> usize {
    use etcd_api::etcdserverpb::request_op::Request;
    req.success
        .iter()
        .chain(req.failure.iter())
        .map(|op| match &op.request {
            Some(Request::RequestPut(p)) => p.key.len() + p.value.len(),
            Some(Request::RequestTxn(t)) => txn_cost(t),
            _ => 0,
        })
        .sum()
}

fn unexpected(applied: Applied) -> ServerError {
    ServerError::Corrupt(format!("apply returned an unexpected result: {applied:?}"))
}
