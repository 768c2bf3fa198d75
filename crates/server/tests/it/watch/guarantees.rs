//! The watch guarantees under concurrent writers, checked against the member's history:
//! each watcher sees every change of its range from its start revision exactly once,
//! in revision order, each revision whole in one response; a watcher canceled and
//! re-created at last seen + 1 continues without gap; replaying a watcher's events on
//! the state at its start gives the state a range read returns at the end.

use std::collections::{BTreeMap, HashMap};

use etcd_api::etcdserverpb::request_op::Request as Op;
use etcd_api::etcdserverpb::{
    DeleteRangeRequest, RangeRequest, RequestOp, TxnRequest, WatchCreateRequest,
};
use etcd_api::mvccpb::event::EventType;
use etcd_api::mvccpb::{Event, KeyValue};
use tokio::sync::watch;

use super::*;

const OPS_PER_WRITER: usize = 120;

/// What one watcher asked for.
#[derive(Clone, Debug)]
struct Spec {
    id: i64,
    key: &'static str,
    end: &'static str,
    /// 0 = from the revision after the created answer's.
    start: i64,
    prev_kv: bool,
}

impl Spec {
    fn request(&self) -> WatchCreateRequest {
        WatchCreateRequest {
            watch_id: self.id,
            start_revision: self.start,
            prev_kv: self.prev_kv,
            ..create_req(self.key, self.end)
        }
    }

    fn contains(&self, k: &[u8]) -> bool {
        let key = if self.key.is_empty() { "\0" } else { self.key };
        match self.end {
            "" => k == key.as_bytes(),
            "\0" => k >= key.as_bytes(),
            end => k >= key.as_bytes() && k < end.as_bytes(),
        }
    }
}

/// What one watcher received.
#[derive(Debug, Default)]
struct Seen {
    created_rev: i64,
    /// (response number on its stream, event)
    events: Vec<(usize, Event)>,
}

/// Reads a stream until a progress answer covers `final_rev`. When `resume` names a
/// watcher, cancels it after a few events and re-creates it (under `resume.1`) at the
/// revision after the last one seen. `writes_done` carries the final revision.
async fn read_stream(
    mut conn: WatchConn,
    specs: Vec<Spec>,
    resume: Option<(i64, Spec)>,
    mut writes_done: watch::Receiver<i64>,
) -> HashMap<i64, Seen> {
    for s in &specs {
        conn.create(s.request()).await;
    }
    let mut seen: HashMap<i64, Seen> = HashMap::new();
    let mut resume = resume;
    let mut resumed = resume.is_none();
    let mut progress_asked = false;
    let mut cancel_sent = false;
    let mut n = 0usize;
    loop {
        let final_rev = *writes_done.borrow();
        if final_rev > 0 && resumed && !progress_asked {
            conn.progress().await;
            progress_asked = true;
        }
        let r = tokio::select! {
            r = conn.next() => r,
            _ = writes_done.changed(), if final_rev == 0 => continue,
        };
        n += 1;
        assert!(!r.fragment, "no fragments were asked for");
        if r.watch_id == -1 {
            assert!(!r.created, "refused create: {}", r.cancel_reason);
            if progress_asked && rev_of(&r) >= final_rev && final_rev > 0 {
                return seen;
            }
            continue;
        }
        assert_eq!(r.compact_revision, 0);
        if r.created {
            seen.entry(r.watch_id).or_default().created_rev = rev_of(&r);
            continue;
        }
        if r.canceled {
            let (old, new) = resume.take().expect("only the resumed watcher is canceled");
            assert_eq!(r.watch_id, old);
            let last = seen[&old]
                .events
                .last()
                .map(|(_, e)| e.kv.as_ref().unwrap().mod_revision);
            let new = Spec {
                start: last.expect("events before the cancel") + 1,
                ..new
            };
            conn.create(new.request()).await;
            resumed = true;
            continue;
        }
        assert!(!r.events.is_empty(), "an empty event response");
        let entry = seen.entry(r.watch_id).or_default();
        entry.events.extend(r.events.into_iter().map(|e| (n, e)));
        if let Some((old, _)) = &resume
            && r.watch_id == *old
            && entry.events.len() >= 15
            && !cancel_sent
        {
            cancel_sent = true;
            conn.cancel(*old).await;
        }
    }
}

fn put_op(key: String, value: String) -> RequestOp {
    RequestOp {
        request: Some(Op::RequestPut(etcd_api::etcdserverpb::PutRequest {
            key: key.into_bytes().into(),
            value: value.into_bytes().into(),
            ..Default::default()
        })),
    }
}

async fn writer(m: &Member, which: usize) {
    let mut kv = m.kv().await;
    for i in 0..OPS_PER_WRITER {
        match which {
            0 => {
                put(&mut kv, &format!("a/{}", i % 7), &format!("w0-{i}")).await;
            }
            1 if i % 10 == 9 => {
                kv.delete_range(DeleteRangeRequest {
                    key: b"b/".to_vec().into(),
                    range_end: b"b0".to_vec().into(),
                    ..Default::default()
                })
                .await
                .expect("delete");
            }
            1 => {
                put(&mut kv, &format!("b/{}", i % 5), &format!("w1-{i}")).await;
            }
            _ => {
                // Several keys in one revision: a watcher must get them together.
                let ops = ["a/x", "b/x", "c/x", "a/y"]
                    .iter()
                    .map(|k| put_op(k.to_string(), format!("w2-{i}")))
                    .collect();
                kv.txn(TxnRequest {
                    success: ops,
                    ..Default::default()
                })
                .await
                .expect("txn");
            }
        }
    }
}

fn brief(e: &Event) -> (i32, Vec<u8>, i64, i64, i64, Vec<u8>) {
    let kv = e.kv.clone().unwrap_or_default();
    (
        e.r#type,
        kv.key.to_vec(),
        kv.mod_revision,
        kv.create_revision,
        kv.version,
        kv.value.to_vec(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_see_every_change_once_in_order_and_whole() {
    let m = Member::start(|_| {}).await;
    // Some history to replay.
    for i in 0..30 {
        m.put(&format!("a/{}", i % 7), &format!("pre-{i}")).await;
    }
    let all = Spec {
        id: 1,
        key: "",
        end: "\0",
        start: 0,
        prev_kv: false,
    };
    let one = Spec {
        id: 2,
        key: "a/3",
        end: "",
        start: 0,
        prev_kv: false,
    };
    let prefix = Spec {
        id: 3,
        key: "a/",
        end: "a0",
        start: 0,
        prev_kv: false,
    };
    let from_b = Spec {
        id: 4,
        key: "b/",
        end: "\0",
        start: 0,
        prev_kv: false,
    };
    let past = Spec {
        id: 5,
        key: "a/",
        end: "a0",
        start: 5,
        prev_kv: true,
    };
    let resumed_old = Spec {
        id: 6,
        key: "b/",
        end: "b0",
        start: 0,
        prev_kv: false,
    };
    let resumed_new = Spec {
        id: 7,
        ..resumed_old.clone()
    };

    let (done_tx, done_rx) = watch::channel(0i64);
    let s1 = tokio::spawn(read_stream(
        WatchConn::open(m.channel().await).await,
        vec![all.clone(), one.clone(), prefix.clone(), from_b.clone()],
        None,
        done_rx.clone(),
    ));
    let s2 = tokio::spawn(read_stream(
        WatchConn::open(m.channel().await).await,
        vec![past.clone(), resumed_old.clone()],
        Some((resumed_old.id, resumed_new.clone())),
        done_rx,
    ));
    // Let the watchers be created before the writes start, so the live path is used.
    while m.server.watchable().watcher_count() < 6 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::join!(writer(&m, 0), writer(&m, 1), writer(&m, 2));
    let final_rev = m.put("z", "last").await;
    done_tx.send(final_rev).expect("readers alive");
    let mut seen = s1.await.expect("reader 1");
    seen.extend(s2.await.expect("reader 2"));

    let history = m.server.store().events(1, final_rev).expect("history");
    assert_eq!(
        history
            .last()
            .and_then(|e| e.kv.as_ref())
            .map(|kv| kv.mod_revision),
        Some(final_rev)
    );
    let check = |spec: &Spec, got: &[(usize, Event)], start: i64| {
        let expect: Vec<_> = history
            .iter()
            .filter(|e| {
                let kv = e.kv.as_ref().unwrap();
                kv.mod_revision >= start && spec.contains(&kv.key)
            })
            .map(brief)
            .collect();
        let got_brief: Vec<_> = got.iter().map(|(_, e)| brief(e)).collect();
        assert_eq!(
            got_brief.len(),
            expect.len(),
            "watcher {} event count",
            spec.id
        );
        assert_eq!(got_brief, expect, "watcher {}", spec.id);
        // Whole revisions: all events of a revision arrived in one response.
        let mut response_of: HashMap<i64, usize> = HashMap::new();
        for (n, e) in got {
            let rev = e.kv.as_ref().unwrap().mod_revision;
            assert_eq!(
                *response_of.entry(rev).or_insert(*n),
                *n,
                "watcher {}: revision {rev} split across responses",
                spec.id
            );
        }
    };
    for spec in [&all, &one, &prefix, &from_b] {
        let s = &seen[&spec.id];
        check(spec, &s.events, s.created_rev + 1);
    }
    let p = &seen[&past.id];
    check(&past, &p.events, past.start);
    // prev_kv: the key's state before each change (none for creations).
    let mut state: BTreeMap<Vec<u8>, KeyValue> = BTreeMap::new();
    for e in history.iter() {
        let kv = e.kv.as_ref().unwrap();
        if kv.mod_revision >= past.start
            && past.contains(&kv.key)
            && let Some((_, got)) = p.events.iter().find(|(_, g)| brief(g) == brief(e))
        {
            assert_eq!(
                got.prev_kv.as_ref(),
                state.get(&kv.key[..]),
                "prev_kv at {}",
                kv.mod_revision
            );
        }
        if e.r#type == EventType::Delete as i32 {
            state.remove(&kv.key[..]);
        } else {
            state.insert(kv.key.to_vec(), kv.clone());
        }
    }
    // Canceled and resumed at last seen + 1: one gapless sequence.
    let old = &seen[&resumed_old.id];
    let mut joined = old.events.clone();
    joined.extend(seen[&resumed_new.id].events.iter().cloned());
    assert!(
        !seen[&resumed_new.id].events.is_empty(),
        "writes continued after the resume"
    );
    check(&resumed_old, &joined, old.created_rev + 1);

    // The all-keys watcher's events, applied to the state at its start, give the end state.
    let mut kv = m.kv().await;
    let read = |rev: i64| RangeRequest {
        key: vec![0].into(),
        range_end: vec![0].into(),
        revision: rev,
        ..Default::default()
    };
    let a = &seen[&all.id];
    let mut state: BTreeMap<Vec<u8>, KeyValue> = kv
        .range(read(a.created_rev))
        .await
        .expect("range at start")
        .into_inner()
        .kvs
        .into_iter()
        .map(|kv| (kv.key.to_vec(), kv))
        .collect();
    for (_, e) in &a.events {
        let kv = e.kv.clone().unwrap();
        if e.r#type == EventType::Delete as i32 {
            state.remove(&kv.key[..]);
        } else {
            state.insert(kv.key.to_vec(), kv);
        }
    }
    let end: Vec<KeyValue> = kv.range(read(0)).await.expect("range").into_inner().kvs;
    assert_eq!(state.into_values().collect::<Vec<_>>(), end);
    m.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_blocks_nobody_and_catches_up_exactly_once() {
    let m = Member::start(|_| {}).await;
    let mut stalled = WatchConn::open(m.channel().await).await;
    stalled.create(create_req("s/", "s0")).await;
    assert!(stalled.next().await.created);
    let first = m.put("s/start", "x").await;
    // Far more than the stream's queue and HTTP/2 windows hold, while nobody reads.
    let value = "v".repeat(2048);
    let write = |w: usize| {
        let value = value.clone();
        let m = &m;
        async move {
            let mut kv = m.kv().await;
            for i in 0..300 {
                put(&mut kv, &format!("s/{w}/{}", i % 10), &value).await;
            }
        }
    };
    tokio::join!(write(0), write(1), write(2), write(3));
    let last = m.put("s/end", "x").await;
    assert!(
        m.server.watchable().unsynced_count() >= 1,
        "the stalled watcher fell behind instead of blocking the writers"
    );
    let mut revs = Vec::new();
    while revs.last() != Some(&last) {
        let r = stalled.next().await;
        assert!(!r.events.is_empty(), "{r:?}");
        revs.extend(r.events.iter().map(|e| e.kv.as_ref().unwrap().mod_revision));
    }
    assert_eq!(revs, (first..=last).collect::<Vec<_>>());
    m.server.stop().await;
}
