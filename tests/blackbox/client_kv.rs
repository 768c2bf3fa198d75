//! The KV API through the etcd-client crate (what Rust programs use).

use etcd_client::{
    Compare, CompareOp, DeleteOptions, GetOptions, PutOptions, SortOrder, SortTarget, Txn, TxnOp,
    TxnOpResponse,
};

use crate::support::{Member, rt};

fn keys(resp: &etcd_client::GetResponse) -> Vec<String> {
    resp.kvs()
        .iter()
        .map(|kv| kv.key_str().unwrap().to_string())
        .collect()
}

#[test]
fn client_kv_operations() {
    let m = Member::start(&[]);
    rt().block_on(async {
        let mut c = m.client().await;
        let r = c.put("a", "1", None).await.unwrap();
        assert_eq!(r.header().unwrap().revision(), 2);
        c.put("b", "2", None).await.unwrap();
        c.put("c", "3", None).await.unwrap();
        let r = c
            .put("a", "10", Some(PutOptions::new().with_prev_key()))
            .await
            .unwrap();
        assert_eq!(r.prev_key().unwrap().value_str().unwrap(), "1");
        assert_eq!(r.header().unwrap().revision(), 5);

        let r = c
            .get("", Some(GetOptions::new().with_all_keys()))
            .await
            .unwrap();
        assert_eq!(keys(&r), ["a", "b", "c"]);
        assert_eq!(r.count(), 3);
        let r = c
            .get("a", Some(GetOptions::new().with_revision(2)))
            .await
            .unwrap();
        assert_eq!(r.kvs()[0].value_str().unwrap(), "1");
        let r = c
            .get("", Some(GetOptions::new().with_all_keys().with_limit(2)))
            .await
            .unwrap();
        assert_eq!(keys(&r), ["a", "b"]);
        assert!(r.more());
        assert_eq!(r.count(), 3);
        let opts = GetOptions::new()
            .with_all_keys()
            .with_sort(SortTarget::Mod, SortOrder::Descend);
        assert_eq!(keys(&c.get("", Some(opts)).await.unwrap()), ["a", "c", "b"]);
        let r = c
            .get("", Some(GetOptions::new().with_all_keys().with_keys_only()))
            .await
            .unwrap();
        assert_eq!(keys(&r), ["a", "b", "c"]);
        assert!(r.kvs().iter().all(|kv| kv.value().is_empty()));
        // A prefix is the range [prefix, prefix+1).
        c.put("ab", "x", None).await.unwrap();
        let r = c
            .get("a", Some(GetOptions::new().with_prefix()))
            .await
            .unwrap();
        assert_eq!(keys(&r), ["a", "ab"]);
        c.delete("ab", None).await.unwrap();
        let r = c
            .get("b", Some(GetOptions::new().with_from_key()))
            .await
            .unwrap();
        assert_eq!(keys(&r), ["b", "c"]);
        let r = c
            .get(
                "",
                Some(GetOptions::new().with_all_keys().with_count_only()),
            )
            .await
            .unwrap();
        assert_eq!((r.count(), r.kvs().len()), (3, 0));
        let r = c
            .get("a", Some(GetOptions::new().with_serializable()))
            .await
            .unwrap();
        assert_eq!(r.kvs()[0].value_str().unwrap(), "10");

        let r = c
            .delete("b", Some(DeleteOptions::new().with_prev_key()))
            .await
            .unwrap();
        assert_eq!(r.deleted(), 1);
        assert_eq!(r.prev_kvs()[0].value_str().unwrap(), "2");

        let txn = Txn::new()
            .when([Compare::value("a", CompareOp::Equal, "10")])
            .and_then([TxnOp::put("d", "4", None), TxnOp::get("a", None)])
            .or_else([TxnOp::put("e", "5", None)]);
        let r = c.txn(txn).await.unwrap();
        assert!(r.succeeded());
        match &r.op_responses()[1] {
            TxnOpResponse::Get(g) => assert_eq!(g.kvs()[0].value_str().unwrap(), "10"),
            other => panic!("unexpected {other:?}"),
        }
        let rev = r.header().unwrap().revision();
        let r = c
            .txn(
                Txn::new()
                    .when([Compare::version("zzz", CompareOp::Greater, 0)])
                    .or_else([TxnOp::get("d", None)]),
            )
            .await
            .unwrap();
        assert!(!r.succeeded());
        assert_eq!(
            r.header().unwrap().revision(),
            rev,
            "a read-only txn does not bump the revision"
        );

        c.compact(rev, None).await.unwrap();
        let err = c
            .get("a", Some(GetOptions::new().with_revision(2)))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("etcdserver: mvcc: required revision has been compacted"),
            "{err}"
        );

        let st = c.status().await.unwrap();
        assert_eq!(st.leader(), st.header().unwrap().member_id());
        assert_eq!(st.version(), etcd_server::SERVER_VERSION);
        assert!(st.raft_term() >= 1, "{st:?}");
        assert!(
            st.raft_index() >= 10,
            "every write went through raft: {st:?}"
        );
        assert!(st.db_size() > 0, "{st:?}");
        let members = c.member_list().await.unwrap();
        assert_eq!(members.members().len(), 1);
        assert_eq!(members.members()[0].name(), "default");
        assert_eq!(members.members()[0].client_urls(), [m.endpoint()]);
    });
}
