//! Response shapes as etcd 3.4 puts them on the wire (checked against a real etcd):
//! created, refused, canceled, compacted, progress, fragments, require-leader.

use etcd_api::etcdserverpb::{CompactionRequest, WatchCreateRequest};
use tonic::Code;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_refuse_cancel_and_progress_answers() {
    let m = Member::start(|_| {}).await;
    let rev = m.put("k", "v").await;
    let mut w = WatchConn::open(m.channel().await).await;

    w.create(WatchCreateRequest {
        watch_id: 7,
        ..create_req("k", "")
    })
    .await;
    let r = w.next().await;
    let h = r.header.unwrap();
    assert_eq!(
        (h.cluster_id, h.member_id, h.revision),
        (m.server.cluster_id(), m.server.member_id(), rev)
    );
    assert!(h.raft_term > 0);
    assert_eq!((r.watch_id, r.created, r.canceled), (7, true, false));

    w.create(WatchCreateRequest {
        watch_id: 7,
        ..create_req("x", "")
    })
    .await;
    let r = w.next().await;
    assert_eq!((r.watch_id, r.created, r.canceled), (-1, true, true));
    assert_eq!(
        r.cancel_reason,
        "mvcc: duplicate watch ID provided on the WatchStream"
    );

    w.create(create_req("b", "a")).await;
    let r = w.next().await;
    assert_eq!((r.watch_id, r.created, r.canceled), (-1, true, true));
    assert_eq!(r.cancel_reason, "mvcc: watcher range is empty");

    w.create(create_req("y", "")).await;
    let r = w.next().await;
    assert_eq!((r.watch_id, r.created, rev_of(&r)), (0, true, rev));

    // An unknown ID is not answered; the progress answer comes next.
    w.cancel(99).await;
    w.progress().await;
    let r = w.next().await;
    assert_eq!(
        (r.watch_id, r.created, r.canceled, rev_of(&r)),
        (-1, false, false, rev)
    );
    assert!(r.events.is_empty());

    w.cancel(7).await;
    let r = w.next().await;
    assert_eq!((r.watch_id, r.canceled, r.created), (7, true, false));
    let rev2 = m.put("y", "1").await;
    m.put("k", "after cancel").await;
    let r = w.next().await;
    assert_eq!((r.watch_id, rev_of(&r), r.events.len()), (0, rev2, 1));
    let kv = r.events[0].kv.as_ref().unwrap();
    assert_eq!((&kv.key[..], kv.mod_revision), (&b"y"[..], rev2));
    m.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compacted_start_revision_is_created_then_canceled() {
    let m = Member::start(|_| {}).await;
    let mut rev = 0;
    for i in 0..5 {
        rev = m.put("c", &i.to_string()).await;
    }
    m.kv()
        .await
        .compact(CompactionRequest {
            revision: rev - 1,
            physical: true,
        })
        .await
        .expect("compact");
    let mut w = WatchConn::open(m.channel().await).await;
    w.create(WatchCreateRequest {
        start_revision: 1,
        ..create_req("c", "")
    })
    .await;
    let r = w.next().await;
    assert_eq!((r.watch_id, r.created, rev_of(&r)), (0, true, rev));
    let r = w.next().await;
    assert_eq!(
        (
            r.watch_id,
            r.created,
            r.canceled,
            r.compact_revision,
            rev_of(&r)
        ),
        (0, false, true, rev - 1, 0)
    );
    // Watching from the compaction revision itself replays from there.
    w.create(WatchCreateRequest {
        start_revision: rev - 1,
        prev_kv: true,
        ..create_req("c", "")
    })
    .await;
    let r = w.next().await;
    assert_eq!((r.watch_id, r.created), (1, true));
    let r = w.next().await;
    let revs: Vec<i64> = r
        .events
        .iter()
        .map(|e| e.kv.as_ref().unwrap().mod_revision)
        .collect();
    assert_eq!(revs, [rev - 1, rev]);
    let prev = r.events[1].prev_kv.as_ref().expect("prev_kv from history");
    assert_eq!(prev.mod_revision, rev - 1);
    m.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_responses_are_fragmented_only_when_asked() {
    const LIMIT: usize = 64 * 1024;
    let m = Member::start(|cfg| cfg.max_request_bytes = LIMIT).await;
    let value = "v".repeat(20 * 1024);
    let first = m.put("f/0", &value).await;
    for i in 1..8 {
        m.put(&format!("f/{i}"), &value).await;
    }
    let mut w = WatchConn::open(m.channel().await).await;
    for (id, fragment) in [(1, true), (2, false)] {
        w.create(WatchCreateRequest {
            watch_id: id,
            start_revision: first,
            fragment,
            ..create_req("f/", "f0")
        })
        .await;
    }
    let mut parts: std::collections::HashMap<i64, Vec<WatchResponse>> = Default::default();
    while parts.get(&2).is_none_or(Vec::is_empty)
        || parts
            .get(&1)
            .is_none_or(|p| p.last().is_none_or(|r| r.fragment))
    {
        let r = w.next().await;
        if !r.created {
            parts.entry(r.watch_id).or_default().push(r);
        }
    }
    let whole = &parts[&2];
    assert_eq!(whole.len(), 1);
    assert_eq!(whole[0].events.len(), 8);
    assert!(!whole[0].fragment);
    let frags = &parts[&1];
    assert!(frags.len() > 1, "{} fragments", frags.len());
    for (i, f) in frags.iter().enumerate() {
        assert_eq!(f.fragment, i + 1 < frags.len());
        assert!(prost::Message::encoded_len(f) < LIMIT);
        assert_eq!(rev_of(f), rev_of(&whole[0]));
    }
    let joined: Vec<_> = frags.iter().flat_map(|f| f.events.clone()).collect();
    assert_eq!(joined, whole[0].events);
    m.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_notify_reports_idle_watchers() {
    let m = Member::start(|_| {}).await;
    let rev = m.put("other", "v").await;
    let mut w = WatchConn::open(m.channel().await).await;
    w.create(WatchCreateRequest {
        progress_notify: true,
        ..create_req("k", "")
    })
    .await;
    assert!(w.next().await.created);
    m.server
        .watchable()
        .set_progress_interval(Duration::from_millis(30));
    let r = w.next().await;
    assert_eq!(
        (r.watch_id, r.created, r.canceled, rev_of(&r)),
        (0, false, false, rev)
    );
    assert!(r.events.is_empty());
    m.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_member_ends_its_streams() {
    let m = Member::start(|_| {}).await;
    let mut w = WatchConn::open(m.channel().await).await;
    w.create(create_req("k", "")).await;
    assert!(w.next().await.created);
    m.server.stop().await;
    let status = tokio::time::timeout(PATIENCE, w.rx.message())
        .await
        .expect("stream ends")
        .expect_err("an error status");
    assert_eq!(
        (status.code(), status.message()),
        (Code::Unavailable, "etcdserver: server stopped")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_leader_refuses_a_leaderless_member() {
    // A member of a three-member cluster whose peers never answer has no leader.
    let m = Member::start_unready(
        |cfg| {
            cfg.initial_cluster = vec![
                ("m".into(), vec!["http://127.0.0.1:2380".into()]),
                ("p2".into(), vec!["http://127.0.0.1:2381".into()]),
                ("p3".into(), vec!["http://127.0.0.1:2382".into()]),
            ];
        },
        false,
    )
    .await;
    assert_eq!(m.server.leader(), 0);
    let status = WatchConn::open_with(m.channel().await, true)
        .await
        .err()
        .expect("refused");
    assert_eq!(
        (status.code(), status.message()),
        (Code::Unavailable, "etcdserver: no leader")
    );
    // Without the requirement the stream works.
    let mut w = WatchConn::open_with(m.channel().await, false)
        .await
        .expect("open");
    w.create(create_req("k", "")).await;
    assert!(w.next().await.created);
    m.server.stop().await;

    // With a leader, require-leader streams work.
    let m = Member::start(|_| {}).await;
    let mut w = WatchConn::open_with(m.channel().await, true)
        .await
        .expect("open");
    w.create(create_req("k", "")).await;
    assert!(w.next().await.created);
    let rev = m.put("k", "v").await;
    assert_eq!(rev_of(&w.next().await), rev);
    m.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_going_away_removes_its_watchers() {
    let m = Member::start(|_| {}).await;
    let mut w = WatchConn::open(m.channel().await).await;
    for key in ["a", "b", "c"] {
        w.create(create_req(key, "")).await;
        assert!(w.next().await.created);
    }
    // A client that only closes its sending side keeps its watchers, as with etcd.
    let WatchConn { tx, mut rx } = w;
    drop(tx);
    let rev = m.put("a", "v").await;
    let r = tokio::time::timeout(PATIENCE, rx.message())
        .await
        .expect("in time")
        .expect("ok")
        .expect("open");
    assert_eq!((r.watch_id, rev_of(&r)), (0, rev));
    assert_eq!(m.server.watchable().watcher_count(), 3);
    drop(rx);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while m.server.watchable().watcher_count() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "watchers outlived their client"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    m.server.stop().await;
}
