//! The distributed mutex (etcd's concurrency.Mutex as the v3lock service runs it).

use std::sync::Arc;

use bytes::Bytes;
use etcd_api::etcdserverpb::response_op::Response;
use etcd_api::etcdserverpb::{ResponseOp, TxnRequest};
use etcd_api::mvccpb::KeyValue;
use etcd_api::v3lockpb::LockResponse;

use super::cancel::{Cancelled, detached, withdraw};
use super::error::{ConcurrencyError, Result};
use super::ops;
use super::session::session_lease;
use super::wait::wait_deletes;
use crate::proposal::AuthInfo;
use crate::server::EtcdServer;

/// Acquires lock `name` for `lease` (0: a fresh lease of the default session TTL) and
/// returns the key that exists as long as the lock is held.
///
/// The key is `name/<lease hex>`; a lease that already queued (or holds) the lock
/// reuses its key. The holder is the oldest key under `name/`; a waiter holds the lock
/// once every key created before its own is gone. A waiter whose caller goes away, or
/// whose wait fails, deletes its key; a waiter whose key vanished meanwhile (its lease
/// expired) fails with [`ConcurrencyError::SessionExpired`].
pub async fn lock(
    server: &Arc<EtcdServer>,
    name: &[u8],
    lease: i64,
    auth: &AuthInfo,
) -> Result<LockResponse> {
    let server = server.clone();
    let name = Bytes::copy_from_slice(name);
    let auth = auth.clone();
    detached(move |cancelled| async move { acquire(&server, &name, lease, &auth, cancelled).await })
        .await
}

async fn acquire(
    server: &EtcdServer,
    name: &[u8],
    lease: i64,
    auth: &AuthInfo,
    mut cancelled: Cancelled,
) -> Result<LockResponse> {
    let lease = session_lease(server, lease, auth).await?;
    let prefix = ops::candidates_prefix(name);
    let key = ops::candidate_key(&prefix, lease);
    let holder = ops::range(ops::first_created(&prefix));
    let txn = TxnRequest {
        compare: vec![ops::created_at(&key, 0)],
        success: vec![ops::put(&key, Bytes::new(), lease), holder.clone()],
        failure: vec![ops::range(ops::get(&key)), holder],
    };
    let resp = server.txn(txn, auth).await?;
    let header = resp.header.unwrap_or_default();
    let my_rev = if resp.succeeded {
        header.revision
    } else {
        first_kv(resp.responses.first())
            .map(|kv| kv.create_revision)
            .ok_or(ConcurrencyError::SessionExpired)?
    };
    let holder_rev = first_kv(resp.responses.get(1)).map(|kv| kv.create_revision);
    if holder_rev.is_none_or(|rev| rev == my_rev) {
        return Ok(LockResponse {
            header: Some(header),
            key,
        });
    }

    // Wait, then check that the key survived the wait; on any failure, unlock.
    let waited = async {
        tokio::select! {
            r = wait_deletes(server, &prefix, my_rev - 1, auth) => r?,
            _ = cancelled.wait() => return Err(ConcurrencyError::Cancelled),
        };
        let mine = server.range(ops::get(&key), auth).await?;
        if cancelled.is_cancelled() {
            return Err(ConcurrencyError::Cancelled);
        }
        Ok(mine)
    };
    let mine = match waited.await {
        Ok(r) => r,
        Err(e) => {
            withdraw(server, unconditional_delete(&key), auth).await;
            return Err(e);
        }
    };
    if mine.kvs.is_empty() {
        return Err(ConcurrencyError::SessionExpired);
    }
    Ok(LockResponse {
        header: mine.header,
        key,
    })
}

/// The first key of a range response inside a txn response.
pub(super) fn first_kv(op: Option<&ResponseOp>) -> Option<&KeyValue> {
    match op?.response.as_ref()? {
        Response::ResponseRange(r) => r.kvs.first(),
        _ => None,
    }
}

/// etcd's Unlock: delete the key, whoever holds it now.
fn unconditional_delete(key: &Bytes) -> TxnRequest {
    TxnRequest {
        compare: vec![],
        success: vec![ops::delete(key)],
        failure: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concurrency::test_member::{PATIENCE, TestMember, key_of};
    use crate::error::ServerError;

    async fn lock_as(m: &TestMember, name: &str, lease: i64) -> Result<LockResponse> {
        lock(&m.server, name.as_bytes(), lease, &AuthInfo::default()).await
    }

    fn spawn_lock(
        m: &TestMember,
        name: &'static str,
        lease: i64,
    ) -> tokio::task::JoinHandle<Result<LockResponse>> {
        let server = m.server.clone();
        tokio::spawn(
            async move { lock(&server, name.as_bytes(), lease, &AuthInfo::default()).await },
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiters_get_the_lock_in_queue_order() {
        let m = TestMember::start().await;
        let (a, b, c) = (m.grant(60).await, m.grant(60).await, m.grant(60).await);

        let held = lock_as(&m, "l", a).await.unwrap();
        assert_eq!(&held.key[..], key_of("l", a));
        let a_rev = held.header.unwrap().revision;
        assert_eq!(m.get(&key_of("l", a)).await.unwrap().create_revision, a_rev);
        // The same lease asking again holds it already.
        assert_eq!(lock_as(&m, "l", a).await.unwrap().key, held.key);

        let wait_b = spawn_lock(&m, "l", b);
        m.wait_key(&key_of("l", b), true).await;
        let wait_c = spawn_lock(&m, "l", c);
        m.wait_key(&key_of("l", c), true).await;
        assert!(!wait_b.is_finished() && !wait_c.is_finished());

        // Deleting c's predecessor b first does not let c pass a.
        let freed = m.delete(&key_of("l", a)).await;
        let got_b = tokio::time::timeout(PATIENCE, wait_b)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(&got_b.key[..], key_of("l", b));
        assert!(got_b.header.unwrap().revision >= freed);
        assert!(!wait_c.is_finished());
        m.delete(&key_of("l", b)).await;
        let got_c = tokio::time::timeout(PATIENCE, wait_c)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(&got_c.key[..], key_of("l", c));
        m.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_waiter_deletes_its_key() {
        let m = TestMember::start().await;
        let (a, b) = (m.grant(60).await, m.grant(60).await);
        lock_as(&m, "l", a).await.unwrap();
        let wait_b = spawn_lock(&m, "l", b);
        m.wait_key(&key_of("l", b), true).await;
        wait_b.abort();
        m.wait_key(&key_of("l", b), false).await;
        assert!(
            m.get(&key_of("l", a)).await.is_some(),
            "the holder keeps the lock"
        );
        m.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiter_whose_lease_went_fails_as_expired() {
        let m = TestMember::start().await;
        let (a, b) = (m.grant(60).await, m.grant(60).await);
        lock_as(&m, "l", a).await.unwrap();
        let wait_b = spawn_lock(&m, "l", b);
        m.wait_key(&key_of("l", b), true).await;
        m.revoke(b).await;
        m.delete(&key_of("l", a)).await;
        let err = tokio::time::timeout(PATIENCE, wait_b)
            .await
            .unwrap()
            .unwrap()
            .unwrap_err();
        assert!(matches!(err, ConcurrencyError::SessionExpired), "{err:?}");
        assert_eq!(err.to_string(), "mutex: session is expired");
        m.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lease_zero_gets_a_session_lease_and_a_missing_lease_is_refused() {
        let m = TestMember::start().await;
        let held = lock_as(&m, "z", 0).await.unwrap();
        let kv = m.get(&held.key).await.unwrap();
        assert_ne!(kv.lease, 0);
        assert_eq!(&held.key[..], key_of("z", kv.lease));
        let ttl = m
            .server
            .lease_time_to_live(etcd_api::etcdserverpb::LeaseTimeToLiveRequest {
                id: kv.lease,
                keys: false,
            })
            .await
            .unwrap();
        assert_eq!(ttl.granted_ttl, 60);

        let err = lock_as(&m, "z", 0x1234).await.unwrap_err();
        assert!(
            matches!(err, ConcurrencyError::Server(ServerError::LeaseNotFound)),
            "{err:?}"
        );
        assert!(m.get(&key_of("z", 0x1234)).await.is_none());
        m.stop().await;
    }
}
