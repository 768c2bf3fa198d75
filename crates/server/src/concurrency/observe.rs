//! Observe: the leader of an election and every change of it, as etcd streams them:
//! the current leader's key and value (or, with no leader, the first key put under the
//! prefix), then each new value of that key, then, once it is deleted, the next leader.

use std::sync::Arc;

use bytes::Bytes;
use etcd_api::etcdserverpb::ResponseHeader;
use etcd_api::mvccpb::KeyValue;
use etcd_api::mvccpb::event::EventType;
use etcd_api::v3electionpb::LeaderResponse;
use etcd_mvcc::watch::{UpdateKind, WatchOptions, WatchStream, WatchUpdate};
use tokio::sync::mpsc;

use super::error::{ConcurrencyError, Result};
use super::ops;
use crate::error::ServerError;
use crate::proposal::AuthInfo;
use crate::server::EtcdServer;

/// Streams the leaders of election `name` until the receiver is dropped. The stream
/// ends (without an error, as etcd's does) when a read or a watch fails.
pub fn observe(
    server: Arc<EtcdServer>,
    name: &[u8],
    auth: AuthInfo,
) -> mpsc::Receiver<LeaderResponse> {
    // Unbuffered in etcd; one in flight here.
    let (tx, rx) = mpsc::channel(1);
    let prefix = ops::candidates_prefix(name);
    tokio::spawn(async move {
        let gone = tx.clone();
        tokio::select! {
            _ = gone.closed() => {}
            r = follow(&server, &prefix, &auth, &tx) => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "election observer ended");
                }
            }
        }
    });
    rx
}

/// Sends each leader and each of its values; returns on an error or a closed receiver.
async fn follow(
    server: &EtcdServer,
    prefix: &Bytes,
    auth: &AuthInfo,
    tx: &mpsc::Sender<LeaderResponse>,
) -> Result<()> {
    loop {
        let resp = server.range(ops::first_created(prefix), auth).await?;
        let header = resp.header.unwrap_or_default();
        let (header, kv) = match resp.kvs.into_iter().next() {
            Some(kv) => (header, kv),
            None => first_put(server, prefix, header.revision).await?,
        };
        let from = header.revision + 1;
        let leader_key = kv.key.clone();
        send(tx, header, kv).await?;

        let stream = watch(server, leader_key, Bytes::new(), from)?;
        'leader: loop {
            let update = next(server, &stream).await?;
            let header = server.header(update.revision);
            for ev in events(update)? {
                if ev.r#type == EventType::Delete as i32 {
                    break 'leader;
                }
                if let Some(kv) = ev.kv {
                    send(tx, header, kv).await?;
                }
            }
        }
    }
}

/// With no leader yet: the first key put under `prefix` after `rev`, with a header at
/// that key's revision.
async fn first_put(
    server: &EtcdServer,
    prefix: &Bytes,
    rev: i64,
) -> Result<(ResponseHeader, KeyValue)> {
    let stream = watch(server, prefix.clone(), ops::prefix_end(prefix), rev)?;
    loop {
        let update = next(server, &stream).await?;
        let base = server.header(update.revision);
        for ev in events(update)? {
            if ev.r#type != EventType::Put as i32 {
                continue;
            }
            if let Some(kv) = ev.kv {
                let header = ResponseHeader {
                    revision: kv.mod_revision,
                    ..base
                };
                return Ok((header, kv));
            }
        }
    }
}

fn watch(server: &EtcdServer, key: Bytes, range_end: Bytes, from: i64) -> Result<WatchStream> {
    let stream = server.watchable().new_stream();
    let opts = WatchOptions {
        key,
        range_end,
        start_revision: from,
        ..Default::default()
    };
    stream
        .watch(opts)
        .map_err(|_| ConcurrencyError::LostWatcher)?;
    Ok(stream)
}

async fn next(server: &EtcdServer, stream: &WatchStream) -> Result<WatchUpdate> {
    tokio::select! {
        u = stream.recv() => Ok(u),
        _ = server.stopped() => Err(ServerError::Stopped.into()),
    }
}

/// The events of an update (none for the created answer or progress); an error when the
/// watch ended.
fn events(update: WatchUpdate) -> Result<Vec<etcd_api::mvccpb::Event>> {
    match update.kind {
        UpdateKind::Events { events, .. } => Ok(events),
        UpdateKind::Created | UpdateKind::Progress => Ok(Vec::new()),
        UpdateKind::Compacted { .. } => {
            Err(ServerError::Mvcc(etcd_mvcc::MvccError::Compacted).into())
        }
        UpdateKind::Refused(_) | UpdateKind::Canceled => Err(ConcurrencyError::LostWatcher),
    }
}

/// Sends one leader response; fails once the caller stopped observing.
async fn send(
    tx: &mpsc::Sender<LeaderResponse>,
    header: ResponseHeader,
    kv: KeyValue,
) -> Result<()> {
    let resp = LeaderResponse {
        header: Some(header),
        kv: Some(kv),
    };
    tx.send(resp).await.map_err(|_| ConcurrencyError::Cancelled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concurrency::election::{campaign, proclaim, resign};
    use crate::concurrency::test_member::{PATIENCE, TestMember, key_of};

    async fn recv(rx: &mut mpsc::Receiver<LeaderResponse>) -> (i64, KeyValue) {
        let r = tokio::time::timeout(PATIENCE, rx.recv())
            .await
            .unwrap()
            .unwrap();
        (r.header.unwrap().revision, r.kv.unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn observers_see_each_leader_and_value() {
        let m = TestMember::start().await;
        let auth = AuthInfo::default();
        let (a, b) = (m.grant(60).await, m.grant(60).await);
        let mut rx = observe(m.server.clone(), b"e", auth.clone());

        let won = campaign(&m.server, "e".into(), a, "v1".into(), &auth)
            .await
            .unwrap();
        let lk = won.leader.unwrap();
        let (rev, kv) = recv(&mut rx).await;
        assert_eq!(
            (&kv.key[..], &kv.value[..], rev),
            (&key_of("e", a)[..], &b"v1"[..], lk.rev)
        );

        proclaim(&m.server, Some(lk.clone()), "v2".into(), &auth)
            .await
            .unwrap();
        let (rev, kv) = recv(&mut rx).await;
        assert_eq!((&kv.value[..], rev), (&b"v2"[..], kv.mod_revision));

        let server = m.server.clone();
        let auth2 = auth.clone();
        let wait_b =
            tokio::spawn(
                async move { campaign(&server, "e".into(), b, "b1".into(), &auth2).await },
            );
        m.wait_key(&key_of("e", b), true).await;
        resign(&m.server, Some(lk), &auth).await.unwrap();
        let (_, kv) = recv(&mut rx).await;
        assert_eq!(
            (&kv.key[..], &kv.value[..]),
            (&key_of("e", b)[..], &b"b1"[..])
        );
        wait_b.await.unwrap().unwrap();
        assert!(rx.try_recv().is_err(), "nothing else happened");

        // An observer that starts with a leader gets it at once; dropping it ends its task.
        let mut late = observe(m.server.clone(), b"e", auth);
        assert_eq!(&recv(&mut late).await.1.value[..], b"b1");
        drop(late);
        m.stop().await;
    }
}
