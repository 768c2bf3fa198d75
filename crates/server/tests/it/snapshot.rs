//! Snapshots every few entries release WAL segments, and a member restarts from the
//! newest marker with nothing lost.

use std::path::Path;

use etcd_api::etcdserverpb::{PutRequest, RangeRequest};
use etcd_server::{AuthInfo, EtcdServer, ServerConfig};

fn wal_segments(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "wal")
        })
        .count()
}

async fn count(server: &EtcdServer) -> i64 {
    let req = RangeRequest {
        key: b"k".to_vec().into(),
        range_end: b"l".to_vec().into(),
        count_only: true,
        ..Default::default()
    };
    server.range(req, &AuthInfo::default()).await.unwrap().count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_release_wal_and_restart_from_the_marker() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ServerConfig::for_test("m", dir.path().join("data"));
    cfg.snapshot_count = 50;
    cfg.snapshot_catchup_entries = 10;
    cfg.wal_segment_size = 64 * 1024;
    const N: usize = 2000;

    let server = EtcdServer::start(cfg.clone()).unwrap();
    assert!(server.ready().await);
    let value = vec![b'v'; 200];
    let mut last_rev = 0;
    for i in 0..N {
        let put = PutRequest {
            key: format!("k{i:05}").into_bytes().into(),
            value: value.clone().into(),
            ..Default::default()
        };
        last_rev = server
            .put(put, &AuthInfo::default())
            .await
            .unwrap()
            .header
            .unwrap()
            .revision;
    }
    assert_eq!(count(&server).await, N as i64);
    // ~2000 x 250 bytes of entries would fill 8 segments; snapshots let all but a few go.
    let segments = wal_segments(&cfg.wal_dir);
    assert!(
        segments <= 3,
        "{segments} WAL segments kept after snapshots"
    );
    server.stop().await;
    drop(server);

    let server = EtcdServer::start(cfg.clone()).unwrap();
    assert!(server.ready().await);
    assert_eq!(count(&server).await, N as i64);
    // Publishing again after the restart is one more revision-less entry; writes go on.
    let put = PutRequest {
        key: b"k-after".to_vec().into(),
        value: b"x".to_vec().into(),
        ..Default::default()
    };
    let rev = server
        .put(put, &AuthInfo::default())
        .await
        .unwrap()
        .header
        .unwrap()
        .revision;
    assert_eq!(rev, last_rev + 1);
    server.stop().await;
}
