//! `watch` and `watch-latency` against etcd: every owed event is delivered and timed.

use benchmark::{WatchLatencyOptions, WatchOptions, Workload, run};
use bytes::Bytes;
use etcd_api::etcdserverpb::RangeRequest;
use etcd_api::etcdserverpb::kv_client::KvClient;

use crate::etcd::Etcd;

async fn all_keys(etcd: &Etcd) -> Vec<etcd_api::mvccpb::KeyValue> {
    KvClient::connect(etcd.uri())
        .await
        .expect("connect")
        .range(RangeRequest {
            key: Bytes::from_static(b"\0"),
            range_end: Bytes::from_static(b"\0"),
            ..RangeRequest::default()
        })
        .await
        .expect("range")
        .into_inner()
        .kvs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_fan_out_delivers_every_event() {
    let Some(etcd) = Etcd::start("watch_fan_out_delivers_every_event").await else {
        return;
    };
    let watch = Workload::Watch(WatchOptions {
        watchers: 12,
        streams: 3,
        watched_key_total: 4,
        put_total: 20,
        put_rate: 0,
        key_size: 8,
    });
    let outcome = run(&etcd.options(2, 1), &watch).await.expect("watch runs");
    let s = &outcome.summary;
    // 20 puts over 4 keys, 3 watchers per key: 5 * 3 * 4 events.
    assert_eq!(
        (s.workload.as_str(), s.requests, s.errors),
        ("watch", 60, 0)
    );
    assert!(s.rps > 0.0);
    let phases: Vec<_> = outcome
        .phases
        .iter()
        .map(|p| (p.workload.as_str(), p.requests, p.errors))
        .collect();
    assert_eq!(phases, [("watch-create", 12, 0), ("put", 20, 0)]);

    let kvs = all_keys(&etcd).await;
    assert_eq!(kvs.len(), 4);
    assert!(kvs.iter().all(|kv| kv.key.len() == 8 && kv.version == 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_latency_times_every_watcher() {
    let Some(etcd) = Etcd::start("watch_latency_times_every_watcher").await else {
        return;
    };
    let watch = Workload::WatchLatency(WatchLatencyOptions {
        put_total: 10,
        put_rate: 1000,
        streams: 2,
        watchers_per_stream: 3,
        key_size: 12,
        val_size: 40,
    });
    let outcome = run(&etcd.options(1, 1), &watch)
        .await
        .expect("watch-latency runs");
    let s = &outcome.summary;
    assert_eq!(
        (s.workload.as_str(), s.requests, s.errors),
        ("watch-latency", 60, 0)
    );
    assert_eq!(outcome.phases[1].requests, 10);

    let kvs = all_keys(&etcd).await;
    assert_eq!(kvs.len(), 1);
    assert_eq!(
        (kvs[0].key.len(), kvs[0].value.len(), kvs[0].version),
        (12, 40, 10)
    );
}
