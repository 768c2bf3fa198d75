//! Bad input gets etcd's error, never a panic or a hang, and the member keeps serving.

use etcd_client::{Compare, CompareOp, GetOptions, PutOptions, Txn, TxnOp};

use crate::support::{Member, rt};

fn assert_err<T: std::fmt::Debug>(r: Result<T, etcd_client::Error>, message: &str) {
    let err = r.expect_err("expected an error");
    assert!(
        err.to_string().contains(message),
        "expected {message:?}, got {err}"
    );
}

#[test]
fn limits_answer_with_etcds_errors() {
    let m = Member::start(&["--max-request-bytes=4096", "--max-txn-ops=3"]);
    rt().block_on(async {
        let mut c = m.client().await;
        assert_err(
            c.put("big", vec![b'x'; 8000], None).await,
            "etcdserver: request is too large",
        );
        // Just over the limit (not just over gRPC's message limit) is the server's check too.
        assert_err(
            c.put("big", vec![b'x'; 4097], None).await,
            "etcdserver: request is too large",
        );

        let four_puts = (0..4)
            .map(|i| TxnOp::put(format!("t{i}"), "v", None))
            .collect::<Vec<_>>();
        assert_err(
            c.txn(Txn::new().and_then(four_puts)).await,
            "etcdserver: too many operations in txn request",
        );
        let dup = Txn::new().and_then([TxnOp::put("d", "1", None), TxnOp::put("d", "2", None)]);
        assert_err(
            c.txn(dup).await,
            "etcdserver: duplicate key given in txn request",
        );
        let put_in_deleted_range = Txn::new().and_then([
            TxnOp::delete("a", Some(etcd_client::DeleteOptions::new().with_prefix())),
            TxnOp::put("ab", "1", None),
        ]);
        assert_err(
            c.txn(put_in_deleted_range).await,
            "etcdserver: duplicate key given in txn request",
        );
        let three_compares = (0..4)
            .map(|i| Compare::version(format!("c{i}"), CompareOp::Equal, 0))
            .collect::<Vec<_>>();
        assert_err(
            c.txn(Txn::new().when(three_compares)).await,
            "etcdserver: too many operations in txn request",
        );

        assert_err(
            c.put("", "v", None).await,
            "etcdserver: key is not provided",
        );
        assert_err(
            c.put("k", "v", Some(PutOptions::new().with_lease(12345)))
                .await,
            "etcdserver: requested lease not found",
        );
        assert_err(
            c.put("missing", "", Some(PutOptions::new().with_ignore_value()))
                .await,
            "etcdserver: key not found",
        );

        c.put("k", "v1", None).await.unwrap();
        let rev = c
            .put("k", "v2", None)
            .await
            .unwrap()
            .header()
            .unwrap()
            .revision();
        c.compact(rev, None).await.unwrap();
        assert_err(
            c.get("k", Some(GetOptions::new().with_revision(rev - 1)))
                .await,
            "etcdserver: mvcc: required revision has been compacted",
        );
        assert_err(
            c.get("k", Some(GetOptions::new().with_revision(rev + 100)))
                .await,
            "etcdserver: mvcc: required revision is a future revision",
        );
        assert_err(
            c.compact(rev - 1, None).await,
            "etcdserver: mvcc: required revision has been compacted",
        );
        assert_err(
            c.compact(rev + 100, None).await,
            "etcdserver: mvcc: required revision is a future revision",
        );

        // Still serving, nothing half-applied.
        let r = c
            .get("", Some(GetOptions::new().with_all_keys()))
            .await
            .unwrap();
        let keys: Vec<_> = r
            .kvs()
            .iter()
            .map(|kv| kv.key_str().unwrap().to_string())
            .collect();
        assert_eq!(keys, ["k"]);
        assert_eq!(r.kvs()[0].value_str().unwrap(), "v2");
    });
}

#[test]
fn space_quota_raises_nospace_and_recovers_after_compaction() {
    let Some(ctlbin) = crate::support::etcdctl() else {
        return;
    };
    let m = Member::start(&["--quota-backend-bytes=2000000"]);
    let value = vec![b'q'; 100_000];
    let refused = rt().block_on(async {
        let mut c = m.client().await;
        for i in 0..100 {
            if let Err(e) = c.put(format!("big/{i}"), value.clone(), None).await {
                return Some(e.to_string());
            }
        }
        None
    });
    let refused = refused.expect("2 MB of quota never ran out");
    assert!(
        refused.contains("etcdserver: mvcc: database space exceeded"),
        "{refused}"
    );
    let alarms = crate::support::ctl_ok(&ctlbin, &m.endpoint(), &["alarm", "list"]);
    assert!(alarms.contains("alarm:NOSPACE"), "{alarms}");
    rt().block_on(async {
        let mut c = m.client().await;
        // Writes stay refused while the alarm is raised; deletes and compaction work.
        assert_err(
            c.put("small", "x", None).await,
            "etcdserver: mvcc: database space exceeded",
        );
        let rev = c
            .delete(
                "big/",
                Some(etcd_client::DeleteOptions::new().with_prefix()),
            )
            .await
            .unwrap()
            .header()
            .unwrap()
            .revision();
        c.compact(
            rev,
            Some(etcd_client::CompactionOptions::new().with_physical()),
        )
        .await
        .unwrap();
    });
    crate::support::ctl_ok(&ctlbin, &m.endpoint(), &["alarm", "disarm"]);
    let alarms = crate::support::ctl_ok(&ctlbin, &m.endpoint(), &["alarm", "list"]);
    assert!(!alarms.contains("NOSPACE"), "{alarms}");
    rt().block_on(async { m.client().await.put("small", "x", None).await.unwrap() });
}
