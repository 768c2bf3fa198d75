//! Leader election (etcd's concurrency.Election as the v3election service runs it):
//! campaign, proclaim, resign and the current leader.

use std::sync::Arc;

use bytes::Bytes;
use etcd_api::etcdserverpb::{ResponseHeader, TxnRequest};
use etcd_api::v3electionpb::{
    CampaignResponse, LeaderKey, LeaderResponse, ProclaimResponse, ResignResponse,
};

use super::cancel::{Cancelled, detached, withdraw};
use super::error::{ConcurrencyError, Result};
use super::mutex::first_kv;
use super::ops;
use super::session::session_lease;
use super::wait::wait_deletes;
use crate::proposal::AuthInfo;
use crate::server::EtcdServer;

/// Waits to become leader of election `name` with `value`, as `lease` (0: a fresh lease
/// of the default session TTL).
///
/// The candidate key is `name/<lease hex>`, created with `value` unless the lease already
/// campaigns, in which case its key keeps its place and takes `value`. Returns once
/// every key created before it is gone; the returned leader key (`rev` = its create
/// revision) guards later proclaims and the resignation. A campaign whose caller goes
/// away resigns; one that fails on its own leaves its key, as etcd's does.
pub async fn campaign(
    server: &Arc<EtcdServer>,
    name: Bytes,
    lease: i64,
    value: Bytes,
    auth: &AuthInfo,
) -> Result<CampaignResponse> {
    let server = server.clone();
    let auth = auth.clone();
    detached(move |cancelled| async move {
        run_campaign(&server, name, lease, value, &auth, cancelled).await
    })
    .await
}

async fn run_campaign(
    server: &EtcdServer,
    name: Bytes,
    lease: i64,
    value: Bytes,
    auth: &AuthInfo,
    mut cancelled: Cancelled,
) -> Result<CampaignResponse> {
    let lease = session_lease(server, lease, auth).await?;
    let prefix = ops::candidates_prefix(&name);
    let key = ops::candidate_key(&prefix, lease);
    let txn = TxnRequest {
        compare: vec![ops::created_at(&key, 0)],
        success: vec![ops::put(&key, value.clone(), lease)],
        failure: vec![ops::range(ops::get(&key))],
    };
    let resp = server.txn(txn, auth).await?;
    let header = resp.header.unwrap_or_default();
    let mut rev = header.revision;
    if !resp.succeeded {
        let kv = first_kv(resp.responses.first()).ok_or(ConcurrencyError::NotLeader)?;
        rev = kv.create_revision;
        if kv.value != value
            && let Err(e) = proclaim_at(server, &key, rev, lease, value, auth).await
        {
            withdraw(server, resign_txn(&key, rev), auth).await;
            return Err(e);
        }
    }

    tokio::select! {
        r = wait_deletes(server, &prefix, rev - 1, auth) => { r?; }
        _ = cancelled.wait() => {
            withdraw(server, resign_txn(&key, rev), auth).await;
            return Err(ConcurrencyError::Cancelled);
        }
    }
    Ok(CampaignResponse {
        header: Some(header),
        leader: Some(LeaderKey {
            name,
            key,
            rev,
            lease,
        }),
    })
}

/// Sets the leader's value, if `leader` still leads (its key has its create revision).
pub async fn proclaim(
    server: &EtcdServer,
    leader: Option<LeaderKey>,
    value: Bytes,
    auth: &AuthInfo,
) -> Result<ProclaimResponse> {
    let leader = leader.ok_or(ConcurrencyError::MissingLeaderKey)?;
    let lease = session_lease(server, leader.lease, auth).await?;
    let header = proclaim_at(server, &leader.key, leader.rev, lease, value, auth).await?;
    Ok(ProclaimResponse {
        header: Some(header),
    })
}

/// Gives up leadership (or candidacy): deletes the key if it is still the one `leader`
/// names. Not an error when it is gone or replaced.
pub async fn resign(
    server: &EtcdServer,
    leader: Option<LeaderKey>,
    auth: &AuthInfo,
) -> Result<ResignResponse> {
    let leader = leader.ok_or(ConcurrencyError::MissingLeaderKey)?;
    let resp = server
        .txn(resign_txn(&leader.key, leader.rev), auth)
        .await?;
    Ok(ResignResponse {
        header: resp.header,
    })
}

/// The current leader's key and value: the oldest key under `name/`.
pub async fn leader(server: &EtcdServer, name: &[u8], auth: &AuthInfo) -> Result<LeaderResponse> {
    let prefix = ops::candidates_prefix(name);
    let resp = server.range(ops::first_created(&prefix), auth).await?;
    let kv = resp
        .kvs
        .into_iter()
        .next()
        .ok_or(ConcurrencyError::NoLeader)?;
    Ok(LeaderResponse {
        header: resp.header,
        kv: Some(kv),
    })
}

async fn proclaim_at(
    server: &EtcdServer,
    key: &Bytes,
    rev: i64,
    lease: i64,
    value: Bytes,
    auth: &AuthInfo,
) -> Result<ResponseHeader> {
    let txn = ops::if_created_at(key, rev, ops::put(key, value, lease));
    let resp = server.txn(txn, auth).await?;
    if !resp.succeeded {
        return Err(ConcurrencyError::NotLeader);
    }
    Ok(resp.header.unwrap_or_default())
}

fn resign_txn(key: &Bytes, rev: i64) -> TxnRequest {
    ops::if_created_at(key, rev, ops::delete(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concurrency::test_member::{PATIENCE, TestMember, key_of};

    fn auth() -> AuthInfo {
        AuthInfo::default()
    }

    fn spawn_campaign(
        m: &TestMember,
        lease: i64,
        value: &'static str,
    ) -> tokio::task::JoinHandle<Result<CampaignResponse>> {
        let server = m.server.clone();
        tokio::spawn(async move {
            campaign(
                &server,
                Bytes::from_static(b"e"),
                lease,
                Bytes::from_static(value.as_bytes()),
                &auth(),
            )
            .await
        })
    }

    async fn leader_value(m: &TestMember) -> Bytes {
        leader(&m.server, b"e", &auth())
            .await
            .unwrap()
            .kv
            .unwrap()
            .value
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn campaign_proclaim_resign() {
        let m = TestMember::start().await;
        let err = leader(&m.server, b"e", &auth()).await.unwrap_err();
        assert_eq!(err.to_string(), "election: no leader");

        let (a, b) = (m.grant(60).await, m.grant(60).await);
        let won = spawn_campaign(&m, a, "v1").await.unwrap().unwrap();
        let lk = won.leader.unwrap();
        assert_eq!(
            (&lk.name[..], &lk.key[..], lk.lease),
            (&b"e"[..], &key_of("e", a)[..], a)
        );
        assert_eq!(lk.rev, won.header.unwrap().revision);
        let l = leader(&m.server, b"e", &auth()).await.unwrap();
        assert_eq!(l.kv.as_ref().unwrap().create_revision, lk.rev);
        assert_eq!(leader_value(&m).await, "v1");

        let wait_b = spawn_campaign(&m, b, "b1");
        m.wait_key(&key_of("e", b), true).await;
        assert!(!wait_b.is_finished());

        proclaim(&m.server, Some(lk.clone()), "v2".into(), &auth())
            .await
            .unwrap();
        assert_eq!(leader_value(&m).await, "v2");
        let stale = LeaderKey {
            rev: lk.rev + 100,
            ..lk.clone()
        };
        let err = proclaim(&m.server, Some(stale.clone()), "v3".into(), &auth())
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "election: not leader");
        let err = proclaim(&m.server, None, "v3".into(), &auth())
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "\"leader\" field must be provided");
        // A stale resignation changes nothing and is no error.
        resign(&m.server, Some(stale), &auth()).await.unwrap();
        assert_eq!(leader_value(&m).await, "v2");

        resign(&m.server, Some(lk), &auth()).await.unwrap();
        let won_b = tokio::time::timeout(PATIENCE, wait_b)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(&won_b.leader.unwrap().key[..], key_of("e", b));
        assert_eq!(leader_value(&m).await, "b1");
        m.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn campaigning_again_keeps_the_place_and_takes_the_value() {
        let m = TestMember::start().await;
        let a = m.grant(60).await;
        let first = spawn_campaign(&m, a, "v1")
            .await
            .unwrap()
            .unwrap()
            .leader
            .unwrap();
        let again = spawn_campaign(&m, a, "v9")
            .await
            .unwrap()
            .unwrap()
            .leader
            .unwrap();
        assert_eq!(again.rev, first.rev);
        assert_eq!(leader_value(&m).await, "v9");
        m.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_campaign_resigns() {
        let m = TestMember::start().await;
        let (a, b) = (m.grant(60).await, m.grant(60).await);
        spawn_campaign(&m, a, "v1").await.unwrap().unwrap();
        let wait_b = spawn_campaign(&m, b, "b1");
        m.wait_key(&key_of("e", b), true).await;
        wait_b.abort();
        m.wait_key(&key_of("e", b), false).await;
        assert_eq!(leader_value(&m).await, "v1");
        m.stop().await;
    }
}
