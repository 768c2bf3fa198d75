//! An in-process single member for the recipes' tests, with the few KV helpers they use.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use etcd_api::etcdserverpb::{DeleteRangeRequest, LeaseGrantRequest, RangeRequest};
use etcd_api::mvccpb::KeyValue;
use tempfile::TempDir;

use crate::config::ServerConfig;
use crate::proposal::AuthInfo;
use crate::server::EtcdServer;

/// Long enough that only a bug makes a wait time out.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub struct TestMember {
    pub server: Arc<EtcdServer>,
    _dir: TempDir,
}

impl TestMember {
    pub async fn start() -> TestMember {
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = ServerConfig::for_test("m", dir.path().join("data"));
        let server = EtcdServer::start(cfg).expect("start member");
        assert!(server.ready().await, "member ready");
        TestMember { server, _dir: dir }
    }

    pub async fn stop(self) {
        self.server.stop().await;
    }

    pub async fn grant(&self, ttl: i64) -> i64 {
        let req = LeaseGrantRequest { ttl, id: 0 };
        self.server
            .lease_grant(req, &AuthInfo::default())
            .await
            .expect("grant")
            .id
    }

    pub async fn revoke(&self, lease: i64) {
        self.server
            .lease_revoke(lease, &AuthInfo::default())
            .await
            .expect("revoke");
    }

    pub async fn get(&self, key: &[u8]) -> Option<KeyValue> {
        let req = RangeRequest {
            key: Bytes::copy_from_slice(key),
            ..Default::default()
        };
        let resp = self
            .server
            .range(req, &AuthInfo::default())
            .await
            .expect("range");
        resp.kvs.into_iter().next()
    }

    /// Deletes `key`; the revision of the delete.
    pub async fn delete(&self, key: &[u8]) -> i64 {
        let req = DeleteRangeRequest {
            key: Bytes::copy_from_slice(key),
            ..Default::default()
        };
        let resp = self
            .server
            .delete_range(req, &AuthInfo::default())
            .await
            .expect("delete");
        assert_eq!(resp.deleted, 1, "{key:?} was there to delete");
        resp.header.expect("header").revision
    }

    /// Polls until `key` exists (or, with `exists` false, is gone).
    pub async fn wait_key(&self, key: &[u8], exists: bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.get(key).await.is_some() != exists {
            assert!(
                tokio::time::Instant::now() < deadline,
                "key {} never {}",
                String::from_utf8_lossy(key),
                if exists { "appeared" } else { "went" }
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The candidate key of `lease` in lock or election `name`.
pub fn key_of(name: &str, lease: i64) -> Vec<u8> {
    format!("{name}/{lease:x}").into_bytes()
}
