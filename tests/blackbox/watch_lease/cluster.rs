//! Leases and watches on a 3-member cluster, mostly through a kill -9 of the leader: a lease
//! granted through a follower is known at once to the leader that counts it down, one
//! kept alive through a follower survives it while an unrenewed one expires, a single
//! keep-alive stream on a follower keeps renewing through the election, a new
//! leader resumes a lease from its checkpointed remaining TTL instead of the granted
//! one, and watchers (one on a follower, one on the leader that resumes elsewhere) see
//! every revision of their prefix exactly once, in order and whole, under concurrent
//! writers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use etcd_client::{
    Client, Compare, CompareOp, EventType, GetOptions, LeaseTimeToLiveOptions, PutOptions, Txn,
    TxnOp, WatchOptions,
};

use super::PATIENCE;
use crate::support::cluster::Cluster;
use crate::support::rt;

/// Fast raft timings so elections settle within a second.
const FAST: &[&str] = &["--heartbeat-interval=50", "--election-timeout=500"];
/// TTL of the test leases (the minimum for FAST timings is 1 s).
const TTL: i64 = 2;

async fn client(endpoint: String) -> Client {
    Client::connect([endpoint], None).await.expect("connect")
}

/// Renews `lease` every `TTL / 3` through `endpoint` until `stop`, reopening the
/// keep-alive stream whenever it fails (it does while there is no leader), as clientv3's
/// keep-alive loop does. False if a renewal found the lease gone.
async fn keep_alive(endpoint: String, lease: i64, stop: Arc<AtomicBool>) -> bool {
    let every = Duration::from_millis(TTL as u64 * 1000 / 3);
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut c) = Client::connect([endpoint.clone()], None).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if let Ok((mut keeper, mut stream)) = c.lease_keep_alive(lease).await {
            while !stop.load(Ordering::Relaxed) {
                let renewed = async {
                    keeper.keep_alive().await.ok()?;
                    stream.message().await.ok()?
                };
                match tokio::time::timeout(every, renewed).await {
                    Ok(Some(resp)) if resp.ttl() <= 0 => return false,
                    Ok(Some(_)) => tokio::time::sleep(every).await,
                    _ => break,
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

#[test]
fn a_kept_alive_lease_survives_a_leader_kill_and_an_unrenewed_one_expires() {
    let mut c = Cluster::start(3, FAST);
    let leader = c.leader(PATIENCE);
    let follower = c.members[(leader + 1) % 3].endpoint();
    let rt = rt();
    let (kept, loose) = rt.block_on(async {
        let mut cl = client(follower.clone()).await;
        let kept = cl.lease_grant(TTL, None).await.expect("grant").id();
        let loose = cl.lease_grant(TTL, None).await.expect("grant").id();
        for (key, lease) in [("kl/kept", kept), ("kl/loose", loose)] {
            cl.put(key, "v", Some(PutOptions::new().with_lease(lease)))
                .await
                .expect("put");
        }
        (kept, loose)
    });
    let stop = Arc::new(AtomicBool::new(false));
    let keeper = rt.spawn(keep_alive(follower.clone(), kept, stop.clone()));

    c.members[leader].kill9();
    let killed = Instant::now();
    let new_leader = c.leader(PATIENCE);
    assert_ne!(new_leader, leader);

    // Through several TTLs after the kill the kept lease lives on; the other one goes.
    let (mut loose_gone, mut checks) = (false, 0);
    while killed.elapsed() < Duration::from_secs(4 * TTL as u64) {
        let (kept_ttl, kept_key, loose_ttl) = rt.block_on(async {
            let mut cl = client(follower.clone()).await;
            let ttl = |id| {
                let mut cl = cl.clone();
                async move {
                    cl.lease_time_to_live(id, Some(LeaseTimeToLiveOptions::new()))
                        .await
                        .map(|r| r.ttl())
                }
            };
            let (k, l) = (ttl(kept).await, ttl(loose).await);
            let key = cl.get("kl/kept", None).await.map(|r| r.count());
            (k, key, l)
        });
        // Right after the kill the follower may have no leader to ask: skip those rounds.
        if let (Ok(kept_ttl), Ok(kept_key), Ok(loose_ttl)) = (kept_ttl, kept_key, loose_ttl) {
            assert!(
                kept_ttl > 0,
                "kept lease expired {:?} after the kill",
                killed.elapsed()
            );
            assert_eq!(kept_key, 1, "the kept lease's key is gone");
            loose_gone |= loose_ttl == -1;
            checks += 1;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    stop.store(true, Ordering::Relaxed);
    assert!(
        rt.block_on(keeper).expect("keep-alive task"),
        "a renewal found the kept lease gone"
    );
    assert!(checks > 4, "too few successful checks ({checks})");
    assert!(loose_gone, "the unrenewed lease did not expire");
    rt.block_on(async {
        let mut cl = client(follower.clone()).await;
        let keys = cl
            .get(
                "kl/",
                Some(GetOptions::new().with_prefix().with_keys_only()),
            )
            .await
            .expect("get");
        let keys: Vec<_> = keys.kvs().iter().map(|kv| kv.key().to_vec()).collect();
        assert_eq!(keys, [b"kl/kept".to_vec()]);
    });
}

#[test]
fn one_keep_alive_stream_on_a_follower_rides_out_a_leader_kill() {
    let mut c = Cluster::start(3, FAST);
    let leader = c.leader(PATIENCE);
    let follower = c.members[(leader + 1) % 3].endpoint();
    let rt = rt();
    let (mut keeper, mut stream) = rt.block_on(async {
        let mut cl = client(follower.clone()).await;
        let lease = cl.lease_grant(TTL, None).await.expect("grant").id();
        cl.lease_keep_alive(lease).await.expect("keep-alive")
    });
    c.members[leader].kill9();
    let killed = Instant::now();
    // The same stream renews through the election (each renewal waits for the new
    // leader): every answer arrives, none is an error and the lease never lapses.
    let mut renewals = 0;
    while killed.elapsed() < Duration::from_secs(3 * TTL as u64) {
        let resp = rt.block_on(async {
            keeper.keep_alive().await.expect("send a renewal");
            tokio::time::timeout(PATIENCE, stream.message()).await
        });
        let resp = resp
            .expect("a renewal answered in time")
            .unwrap_or_else(|e| {
                panic!(
                    "the keep-alive stream failed {:?} after the kill: {e}",
                    killed.elapsed()
                )
            })
            .expect("the keep-alive stream ended");
        assert_eq!(resp.ttl(), TTL, "renewal {renewals}");
        renewals += 1;
        std::thread::sleep(Duration::from_millis(TTL as u64 * 1000 / 4));
    }
    assert!(renewals > 4, "too few renewals ({renewals})");
}

/// The remaining TTL of `lease` as `endpoint` reports it (its leader answers), retried
/// while the member has no leader to ask.
async fn remaining_ttl(endpoint: &str, lease: i64) -> i64 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let answer = match Client::connect([endpoint.to_string()], None).await {
            Ok(mut cl) => cl
                .lease_time_to_live(lease, Some(LeaseTimeToLiveOptions::new()))
                .await
                .map(|r| r.ttl()),
            Err(e) => Err(e),
        };
        match answer {
            Ok(ttl) => return ttl,
            Err(e) => {
                assert!(Instant::now() < deadline, "time-to-live kept failing: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[test]
fn a_new_leader_resumes_a_lease_from_its_checkpointed_remaining_ttl() {
    const GRANTED: i64 = 30;
    let mut args = FAST.to_vec();
    args.push("--experimental-lease-checkpoint-interval=1s");
    let mut c = Cluster::start(3, &args);
    let leader = c.leader(PATIENCE);
    let follower = c.members[(leader + 1) % 3].endpoint();
    let rt = rt();
    let lease = rt.block_on(async {
        let mut cl = client(follower.clone()).await;
        cl.lease_grant(GRANTED, None).await.expect("grant").id()
    });
    // Counted down well past several checkpoint intervals (checkpoints go out once the
    // remaining TTL is below the granted one, each interval).
    let before_kill = rt.block_on(async {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let ttl = remaining_ttl(&follower, lease).await;
            if ttl <= GRANTED - 5 {
                return ttl;
            }
            assert!(Instant::now() < deadline, "the lease is not counting down");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    assert!(before_kill > 0, "the lease expired early");

    c.members[leader].kill9();
    let new_leader = c.leader(PATIENCE);
    assert_ne!(new_leader, leader);
    let after = rt.block_on(remaining_ttl(&c.members[new_leader].endpoint(), lease));
    // The last checkpoint is at most an interval (plus the leader's half-second check and
    // a second of rounding) older than `before_kill`; the new leader adds an election
    // timeout of grace. Reset to the granted TTL it would be 30 or 31.
    assert!(
        after > 0 && after <= before_kill + 3,
        "the new leader reports {after}s left, {before_kill}s were left before the kill"
    );
    assert!(
        after < GRANTED - 1,
        "the remaining TTL was reset ({after}s)"
    );
}

#[test]
fn a_lease_granted_through_a_follower_is_known_to_the_leader_at_once() {
    const ROUNDS: usize = 150;
    let mut c = Cluster::start(3, FAST);
    let leader = c.leader(PATIENCE);
    let follower = c.members[(leader + 1) % 3].endpoint();
    rt().block_on(async {
        let mut cl = client(follower).await;
        // The follower answers each grant once it applied it, possibly before the leader
        // did; the leader answers the time-to-live and the renewal forwarded right after.
        for round in 0..ROUNDS {
            let id = cl.lease_grant(60, None).await.expect("grant").id();
            let ttl = cl
                .lease_time_to_live(id, None)
                .await
                .expect("time-to-live")
                .ttl();
            assert!(ttl > 0, "round {round}: time-to-live says {ttl}");
            let id = cl.lease_grant(60, None).await.expect("grant").id();
            let (mut keeper, mut stream) = cl.lease_keep_alive(id).await.expect("keep-alive");
            keeper.keep_alive().await.expect("send a renewal");
            let renewed = stream
                .message()
                .await
                .expect("a renewal")
                .expect("an open stream");
            assert!(
                renewed.ttl() > 0,
                "round {round}: renewal says {}",
                renewed.ttl()
            );
        }
    });
}

/// Puts `key/a` and `key/b` in one txn unless `key/a` exists (so a retry after an
/// unanswered attempt never writes twice); retried until it answers.
async fn put_pair_once(cl: &mut Client, key: &str) {
    let deadline = Instant::now() + PATIENCE;
    let (a, b) = (format!("{key}/a"), format!("{key}/b"));
    loop {
        let txn = Txn::new()
            .when([Compare::create_revision(a.as_str(), CompareOp::Equal, 0)])
            .and_then([
                TxnOp::put(a.as_str(), "v", None),
                TxnOp::put(b.as_str(), "v", None),
            ]);
        match cl.txn(txn).await {
            Ok(_) => return,
            Err(e) => {
                assert!(Instant::now() < deadline, "txn {key} kept failing: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Watches `prefix` from `from` until `until` is reached, on the first of `endpoints`
/// that answers, resuming from the last seen revision + 1 on the next one whenever the
/// stream breaks. Returns (revision, key) of every event in the order received, and
/// checks on the way that no revision is split across two responses.
async fn watch_until(
    endpoints: Vec<String>,
    prefix: &'static str,
    from: i64,
    until: Arc<AtomicI64>,
) -> Vec<(i64, String)> {
    let mut seen: Vec<(i64, String)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut attempt = 0;
    'resume: loop {
        let endpoint = endpoints[attempt % endpoints.len()].clone();
        attempt += 1;
        let next = seen.last().map_or(from, |(rev, _)| rev + 1);
        let Ok(mut cl) = Client::connect([endpoint], None).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let opts = WatchOptions::new().with_prefix().with_start_revision(next);
        let Ok(mut stream) = cl.watch(prefix, Some(opts)).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        loop {
            let target = until.load(Ordering::Relaxed);
            if target > 0 && seen.last().is_some_and(|(rev, _)| *rev >= target) {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "watcher stuck at {:?}",
                seen.last()
            );
            let msg = tokio::time::timeout(Duration::from_millis(200), stream.message()).await;
            match msg {
                Err(_) => continue,
                Ok(Ok(Some(resp))) => {
                    assert!(!resp.canceled(), "watch canceled: {}", resp.cancel_reason());
                    if let (Some(first), Some((last, _))) = (resp.events().first(), seen.last()) {
                        let rev = first.kv().expect("kv").mod_revision();
                        assert!(rev > *last, "revision {rev} split or repeated after {last}");
                    }
                    for ev in resp.events() {
                        assert_eq!(ev.event_type(), EventType::Put);
                        let kv = ev.kv().expect("kv");
                        seen.push((kv.mod_revision(), kv.key_str().expect("key").to_string()));
                    }
                }
                Ok(_) => continue 'resume,
            }
        }
    }
}

#[test]
fn watchers_see_every_revision_once_in_order_and_whole_across_a_leader_kill() {
    let mut c = Cluster::start(3, FAST);
    let leader = c.leader(PATIENCE);
    let leader_ep = c.members[leader].endpoint();
    let f1 = c.members[(leader + 1) % 3].endpoint();
    let f2 = c.members[(leader + 2) % 3].endpoint();
    let rt = rt();
    let from = rt.block_on(async {
        let mut cl = client(f1.clone()).await;
        let r = cl.get("wg/", None).await.expect("get");
        r.header().expect("header").revision() + 1
    });
    let until = Arc::new(AtomicI64::new(0));
    // One watcher on a follower that survives; one on the leader, which must resume
    // on another member from its last revision + 1.
    let on_follower = rt.spawn(watch_until(vec![f1.clone()], "wg/", from, until.clone()));
    let on_leader = rt.spawn(watch_until(
        vec![leader_ep, f1.clone(), f2.clone()],
        "wg/",
        from,
        until.clone(),
    ));

    // Three concurrent writers of two-key transactions, on the members that survive.
    const PER_WRITER: usize = 30;
    let written = Arc::new(AtomicI64::new(0));
    let writers: Vec<_> = [f1.clone(), f1.clone(), f2.clone()]
        .into_iter()
        .enumerate()
        .map(|(w, ep)| {
            let written = written.clone();
            rt.spawn(async move {
                let mut cl = client(ep).await;
                for i in 0..PER_WRITER {
                    put_pair_once(&mut cl, &format!("wg/{w}-{i:03}")).await;
                    written.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let deadline = Instant::now() + PATIENCE;
    while written.load(Ordering::Relaxed) < PER_WRITER as i64 {
        assert!(Instant::now() < deadline, "the writers made no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    c.members[leader].kill9();
    for w in writers {
        rt.block_on(w).expect("writer");
    }

    // What the cluster holds: each key once, at the revision it was written; the two
    // keys of a transaction share its revision.
    let history: Vec<(i64, String)> = rt.block_on(async {
        let mut cl = client(f2.clone()).await;
        let r = cl
            .get("wg/", Some(GetOptions::new().with_prefix()))
            .await
            .expect("get");
        let mut h: Vec<_> = r
            .kvs()
            .iter()
            .map(|kv| {
                assert_eq!(kv.create_revision(), kv.mod_revision());
                (kv.mod_revision(), kv.key_str().expect("key").to_string())
            })
            .collect();
        h.sort();
        h
    });
    assert_eq!(history.len(), 3 * PER_WRITER * 2);
    until.store(history.last().expect("writes").0, Ordering::Relaxed);
    let seen = rt.block_on(on_follower).expect("watcher on a follower");
    assert_eq!(
        seen, history,
        "follower: every revision exactly once, in order"
    );
    let seen = rt
        .block_on(on_leader)
        .expect("watcher that started on the leader");
    assert_eq!(
        seen, history,
        "resumed watcher: every revision exactly once, in order"
    );
}
