//! Waiting for the candidates queued before a key to go (etcd's waitDeletes): find the
//! newest earlier key, watch it until it is deleted, repeat until none is left. Watching
//! only the newest one avoids a herd: each waiter wakes once per predecessor it had.

use bytes::Bytes;
use etcd_api::etcdserverpb::ResponseHeader;
use etcd_api::mvccpb::event::EventType;
use etcd_mvcc::MvccError;
use etcd_mvcc::watch::{UpdateKind, WatchOptions};

use super::error::{ConcurrencyError, Result};
use super::ops;
use crate::error::ServerError;
use crate::proposal::AuthInfo;
use crate::server::EtcdServer;

/// Returns once no key under `prefix` with a create revision of at most
/// `max_create_rev` is left, with the header of the read that found none.
pub async fn wait_deletes(
    server: &EtcdServer,
    prefix: &Bytes,
    max_create_rev: i64,
    auth: &AuthInfo,
) -> Result<ResponseHeader> {
    loop {
        let req = ops::last_created_up_to(prefix, max_create_rev);
        let resp = server.range(req, auth).await?;
        let header = resp.header.unwrap_or_default();
        let Some(newest) = resp.kvs.into_iter().next() else {
            return Ok(header);
        };
        wait_delete(server, newest.key, header.revision).await?;
    }
}

/// Watches `key` from `rev` (a revision at which it existed) until it is deleted.
async fn wait_delete(server: &EtcdServer, key: Bytes, rev: i64) -> Result<()> {
    let stream = server.watchable().new_stream();
    let opts = WatchOptions {
        key,
        start_revision: rev,
        ..Default::default()
    };
    if stream.watch(opts).is_err() {
        return Err(ConcurrencyError::LostWatcher);
    }
    loop {
        let update = tokio::select! {
            u = stream.recv() => u,
            _ = server.stopped() => return Err(ServerError::Stopped.into()),
        };
        match update.kind {
            UpdateKind::Created | UpdateKind::Progress => {}
            UpdateKind::Events { events, .. } => {
                if events.iter().any(|e| e.r#type == EventType::Delete as i32) {
                    return Ok(());
                }
            }
            UpdateKind::Compacted { .. } => {
                return Err(ServerError::Mvcc(MvccError::Compacted).into());
            }
            UpdateKind::Refused(_) | UpdateKind::Canceled => {
                return Err(ConcurrencyError::LostWatcher);
            }
        }
    }
}
