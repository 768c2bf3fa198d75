//! `put`, `range` and `txn-put` against etcd: request counts and the keys they leave.

use benchmark::{Consistency, PutOptions, RangeOptions, TxnPutOptions, Workload, encode_key, run};
use bytes::Bytes;
use etcd_api::etcdserverpb::kv_client::KvClient;
use etcd_api::etcdserverpb::{RangeRequest, RangeResponse};

use crate::etcd::Etcd;

/// Every key in `[encode_key(0), encode_key(n))` for 8-byte keys.
async fn range_first(etcd: &Etcd, n: u64) -> RangeResponse {
    KvClient::connect(etcd.uri())
        .await
        .expect("connect")
        .range(RangeRequest {
            key: encode_key(0, 8),
            range_end: encode_key(n, 8),
            ..RangeRequest::default()
        })
        .await
        .expect("range")
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_writes_the_key_space() {
    let Some(etcd) = Etcd::start("put_writes_the_key_space").await else {
        return;
    };
    let put = Workload::Put(PutOptions {
        total: 60,
        val_size: 16,
        key_space_size: 20,
        sequential_keys: true,
        ..PutOptions::default()
    });
    let outcome = run(&etcd.options(2, 4), &put).await.expect("put runs");
    let s = &outcome.summary;
    assert_eq!((s.workload.as_str(), s.requests, s.errors), ("put", 60, 0));
    assert_eq!(s.histogram.iter().map(|b| b.count).sum::<u64>(), 60);
    assert!(s.rps > 0.0 && s.latency_ms.min <= s.latency_ms.p50);
    assert!(s.latency_ms.p50 <= s.latency_ms.max);

    let range = range_first(&etcd, 1000).await;
    assert_eq!(range.count, 20, "sequential keys 0..20 written");
    assert!(range.kvs.iter().all(|kv| kv.value.len() == 16));
    assert!(
        range.kvs.iter().all(|kv| kv.version == 3),
        "each key put 60/20 times"
    );
    assert_eq!(range.header.map(|h| h.revision), Some(61));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_both_consistencies_and_counts_errors() {
    let Some(etcd) = Etcd::start("range_both_consistencies_and_counts_errors").await else {
        return;
    };
    let put = Workload::Put(PutOptions {
        total: 5,
        key_space_size: 5,
        sequential_keys: true,
        ..PutOptions::default()
    });
    run(&etcd.options(1, 1), &put).await.expect("put runs");
    for consistency in [Consistency::Linearizable, Consistency::Serializable] {
        let range = Workload::Range(RangeOptions {
            key: encode_key(0, 8),
            end: encode_key(5, 8),
            consistency,
            total: 40,
            ..RangeOptions::default()
        });
        let outcome = run(&etcd.options(2, 3), &range).await.expect("range runs");
        let s = &outcome.summary;
        assert_eq!((s.requests, s.errors), (40, 0), "{consistency:?}");
    }
    assert_eq!(range_first(&etcd, 5).await.count, 5);

    // An empty key is refused by etcd: every request fails, none stops the run.
    let bad = Workload::Range(RangeOptions {
        key: Bytes::new(),
        total: 7,
        ..RangeOptions::default()
    });
    let outcome = run(&etcd.options(1, 2), &bad).await.expect("range runs");
    let s = &outcome.summary;
    assert_eq!((s.requests, s.errors), (0, 7));
    assert_eq!(
        s.error_counts
            .get("rpc error: code = InvalidArgument desc = etcdserver: key is not provided"),
        Some(&7)
    );
    assert!(outcome.to_string().contains("Error distribution:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txn_put_writes_each_op() {
    let Some(etcd) = Etcd::start("txn_put_writes_each_op").await else {
        return;
    };
    let txn = Workload::TxnPut(TxnPutOptions {
        total: 12,
        txn_ops: 3,
        key_space_size: 9,
        val_size: 4,
        ..TxnPutOptions::default()
    });
    let outcome = run(&etcd.options(1, 2), &txn).await.expect("txn-put runs");
    let s = &outcome.summary;
    assert_eq!(
        (s.workload.as_str(), s.requests, s.errors),
        ("txn-put", 12, 0)
    );
    let range = range_first(&etcd, 1000).await;
    assert_eq!(range.count, 9);
    // 36 puts over 9 keys, one revision per transaction.
    assert!(
        range
            .kvs
            .iter()
            .all(|kv| kv.version == 4 && kv.value.len() == 4)
    );
    assert_eq!(range.header.map(|h| h.revision), Some(13));
}
