//! Clusters of real processes: writes anywhere, leader failure under load, catch-up by
//! snapshot, learners, foreign tokens, partitions and leadership transfer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use etcd_client::{Client, GetOptions};

use crate::support::cluster::Cluster;
use crate::support::{Member, ctl, ctl_ok, etcdctl, rt};

/// Fast raft timings so elections settle within a second.
const FAST: &[&str] = &["--heartbeat-interval=50", "--election-timeout=500"];

async fn client(endpoint: String) -> Client {
    Client::connect([endpoint], None).await.expect("connect")
}

/// Polls `f` until it returns true or `timeout` passes.
fn eventually(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// (hash, revision) of each member at the same revision.
fn hashes(endpoints: &[String], revision: i64) -> Vec<u32> {
    rt().block_on(async {
        let mut out = Vec::new();
        for ep in endpoints {
            let mut c = client(ep.clone()).await;
            out.push(c.hash_kv(revision).await.expect("hashkv").hash());
        }
        out
    })
}

fn serializable_count(endpoint: String, prefix: &str) -> i64 {
    rt().block_on(async {
        let mut c = client(endpoint).await;
        let opts = GetOptions::new()
            .with_prefix()
            .with_count_only()
            .with_serializable();
        c.get(prefix, Some(opts))
            .await
            .map(|r| r.count())
            .unwrap_or(-1)
    })
}

#[test]
fn writes_on_any_member_are_read_linearizably_on_every_member() {
    let c = Cluster::start(3, FAST);
    rt().block_on(async {
        for (i, m) in c.members.iter().enumerate() {
            let mut cl = client(m.endpoint()).await;
            cl.put(format!("k{i}"), format!("from-{}", m.name), None)
                .await
                .unwrap();
        }
        for m in &c.members {
            let mut cl = client(m.endpoint()).await;
            let r = cl
                .get("k", Some(GetOptions::new().with_prefix()))
                .await
                .unwrap();
            let got: Vec<String> = r
                .kvs()
                .iter()
                .map(|kv| kv.value_str().unwrap().to_string())
                .collect();
            assert_eq!(got, ["from-m1", "from-m2", "from-m3"], "on {}", m.name);
        }
        let mut cl = client(c.members[0].endpoint()).await;
        let list = cl.member_list().await.unwrap();
        let mut names: Vec<&str> = list.members().iter().map(|m| m.name()).collect();
        names.sort();
        assert_eq!(names, ["m1", "m2", "m3"]);
    });
}

#[test]
fn leader_kill_under_write_load_loses_nothing() {
    let mut c = Cluster::start(3, FAST);
    let leader = c.leader(Duration::from_secs(10));
    let follower = (leader + 1) % 3;
    let acked = Arc::new(AtomicI64::new(-1));
    let stop = Arc::new(AtomicBool::new(false));
    let r = rt();
    let writer = {
        let (acked, stop) = (acked.clone(), stop.clone());
        let endpoint = c.members[follower].endpoint();
        r.spawn(async move {
            let mut cl = client(endpoint).await;
            let mut n = 0i64;
            while !stop.load(Ordering::SeqCst) {
                if cl
                    .put(format!("load/{n:06}"), n.to_string(), None)
                    .await
                    .is_ok()
                {
                    acked.store(n, Ordering::SeqCst);
                    n += 1;
                } else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        })
    };
    eventually(Duration::from_secs(10), "writes before the kill", || {
        acked.load(Ordering::SeqCst) > 50
    });
    c.members[leader].kill9();
    let killed_at = Instant::now();
    let new_leader = c.leader(Duration::from_secs(10));
    assert_ne!(new_leader, leader);
    let elected_in = killed_at.elapsed();
    let before = acked.load(Ordering::SeqCst);
    eventually(
        Duration::from_secs(10),
        "writes after the new election",
        || acked.load(Ordering::SeqCst) > before + 50,
    );
    stop.store(true, Ordering::SeqCst);
    r.block_on(writer).unwrap();
    eprintln!("new leader elected {elected_in:?} after the kill");

    // The killed member comes back and catches up; every acknowledged write is everywhere.
    c.members[leader].spawn();
    c.members[leader].wait_ready();
    let last = acked.load(Ordering::SeqCst);
    let endpoints: Vec<String> = c.members.iter().map(Member::endpoint).collect();
    let rev = r.block_on(async {
        let mut cl = client(endpoints[new_leader].clone()).await;
        let resp = cl
            .get("load/", Some(GetOptions::new().with_prefix()))
            .await
            .unwrap();
        let values: Vec<i64> = resp
            .kvs()
            .iter()
            .map(|kv| kv.value_str().unwrap().parse().unwrap())
            .collect();
        for n in 0..=last {
            assert!(
                values.binary_search(&n).is_ok(),
                "acknowledged write {n} lost"
            );
        }
        resp.header().unwrap().revision()
    });
    eventually(
        Duration::from_secs(20),
        "equal hashes on every member",
        || {
            endpoints
                .iter()
                .all(|ep| serializable_count(ep.clone(), "load/") > last)
                && hashes(&endpoints, rev).windows(2).all(|w| w[0] == w[1])
        },
    );
}

#[test]
fn a_member_down_past_the_snapshot_count_catches_up_by_snapshot() {
    let extra = [
        FAST,
        &[
            "--snapshot-count=100",
            "--experimental-snapshot-catchup-entries=10",
        ],
    ]
    .concat();
    let mut c = Cluster::start(3, &extra);
    let leader = c.leader(Duration::from_secs(10));
    let down = (leader + 1) % 3;
    c.members[down].kill9();
    rt().block_on(async {
        let mut cl = client(c.members[leader].endpoint()).await;
        for i in 0..400 {
            cl.put(format!("snap/{i:04}"), "v", None).await.unwrap();
        }
    });
    c.members[down].spawn();
    c.members[down].wait_ready();
    let ep = c.members[down].endpoint();
    eventually(
        Duration::from_secs(20),
        "the restarted member to catch up",
        || serializable_count(ep.clone(), "snap/") == 400,
    );
    assert!(
        c.members[down]
            .log_since_spawn()
            .contains("applied a snapshot from the leader"),
        "the member caught up without a snapshot:\n{}",
        c.members[down].log_since_spawn()
    );
    let endpoints: Vec<String> = c.members.iter().map(Member::endpoint).collect();
    let rev = rt().block_on(async {
        client(endpoints[leader].clone())
            .await
            .get("x", None)
            .await
            .unwrap()
            .header()
            .unwrap()
            .revision()
    });
    eventually(Duration::from_secs(10), "equal hashes", || {
        hashes(&endpoints, rev).windows(2).all(|w| w[0] == w[1])
    });
}

#[test]
fn learner_is_added_promoted_and_removed_with_etcdctl() {
    let Some(ctlbin) = etcdctl() else { return };
    let mut c = Cluster::start(3, FAST);
    let eps = c.endpoints();
    let mut learner = Member::new(FAST);
    learner.name = "m4".into();
    learner.token = c.token.clone();
    let out = ctl_ok(
        &ctlbin,
        &eps,
        &[
            "member",
            "add",
            "m4",
            "--learner",
            &format!("--peer-urls={}", learner.peer_url()),
        ],
    );
    let initial = out
        .lines()
        .find_map(|l| l.strip_prefix("ETCD_INITIAL_CLUSTER="))
        .unwrap_or_else(|| panic!("no ETCD_INITIAL_CLUSTER in:\n{out}"))
        .trim_matches('"')
        .to_string();
    assert!(
        out.contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\"")
            || out.contains("ETCD_INITIAL_CLUSTER_STATE=existing"),
        "{out}"
    );
    learner.initial_cluster = Some(initial);
    learner.cluster_state = "existing";
    learner.spawn();
    learner.wait_ready();

    let list = ctl_ok(&ctlbin, &eps, &["member", "list"]);
    let line = list
        .lines()
        .find(|l| l.contains(", m4, "))
        .unwrap_or_else(|| panic!("m4 not listed:\n{list}"));
    assert!(line.ends_with(", true"), "m4 should be a learner: {line}");
    let id = line.split(", ").next().unwrap().to_string();

    // Promotion through a follower is forwarded to the leader, which refuses it until the
    // learner has caught up; retry until accepted.
    let leader = c.leader(Duration::from_secs(10));
    let follower = c.members[(leader + 1) % 3].endpoint();
    // Promotion is refused until the learner has caught up; retry until accepted.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = ctl(&ctlbin, &follower, &["member", "promote", &id]);
        if out.status.success() {
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("can only promote a learner member which is in sync with leader"),
            "{err}"
        );
        assert!(Instant::now() < deadline, "promotion never accepted: {err}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let list = ctl_ok(&ctlbin, &eps, &["member", "list"]);
    let line = list.lines().find(|l| l.contains(", m4, ")).unwrap();
    assert!(
        line.ends_with(", false"),
        "m4 should be a voter now: {line}"
    );

    let out = ctl_ok(&ctlbin, &eps, &["member", "remove", &id]);
    assert!(
        out.contains(&format!("Member {id} removed from cluster")),
        "{out}"
    );
    let list = ctl_ok(&ctlbin, &eps, &["member", "list"]);
    assert!(!list.contains(", m4, "), "{list}");
    // A removed member stops itself.
    learner.wait_exit(Duration::from_secs(20));
    assert!(
        learner
            .log()
            .contains("permanently removed from the cluster"),
        "{}",
        learner.log()
    );
}

#[test]
fn a_member_with_another_token_cannot_join() {
    let mut c = Cluster::start(3, FAST);
    let mut stranger = Member::new(FAST);
    stranger.name = "stranger".into();
    let initial = c
        .members
        .iter()
        .map(|m| format!("{}={}", m.name, m.peer_url()))
        .collect::<Vec<_>>()
        .join(",");
    stranger.initial_cluster = Some(format!("{initial},stranger={}", stranger.peer_url()));
    stranger.token = "another-token".into();
    stranger.spawn();
    eventually(
        Duration::from_secs(20),
        "the cluster-ID mismatch to be logged",
        || {
            c.members
                .iter()
                .any(|m| m.log().contains("cluster ID mismatch"))
                || stranger.log().contains("cluster ID mismatch")
        },
    );
    // The cluster serves on undisturbed, with its three members.
    let leader = c.leader(Duration::from_secs(10));
    rt().block_on(async {
        let mut cl = client(c.members[leader].endpoint()).await;
        cl.put("still", "serving", None).await.unwrap();
        assert_eq!(cl.member_list().await.unwrap().members().len(), 3);
    });
}

#[test]
fn a_partitioned_member_serves_no_linearizable_request_and_converges_after() {
    let mut c = Cluster::start(3, FAST);
    let leader = c.leader(Duration::from_secs(10));
    let cut = (leader + 1) % 3;
    c.partition(cut, true);
    let r = rt();
    r.block_on(async {
        let mut cl = client(c.members[cut].endpoint()).await;
        let put = tokio::time::timeout(Duration::from_secs(15), cl.put("during", "x", None)).await;
        assert!(
            !matches!(put, Ok(Ok(_))),
            "a partitioned member acknowledged a write"
        );
        let get = tokio::time::timeout(Duration::from_secs(15), cl.get("during", None)).await;
        assert!(
            !matches!(get, Ok(Ok(_))),
            "a partitioned member served a linearizable read"
        );
    });
    // The majority goes on.
    let majority_leader = c.leader_among(&[leader, (leader + 2) % 3], Duration::from_secs(10));
    r.block_on(async {
        let mut cl = client(c.members[majority_leader].endpoint()).await;
        for i in 0..20 {
            cl.put(format!("part/{i}"), "v", None).await.unwrap();
        }
    });
    c.partition(cut, false);
    let ep = c.members[cut].endpoint();
    eventually(
        Duration::from_secs(20),
        "the healed member to converge",
        || {
            r.block_on(async {
                let mut cl = client(ep.clone()).await;
                let resp = tokio::time::timeout(
                    Duration::from_secs(3),
                    cl.get(
                        "part/",
                        Some(GetOptions::new().with_prefix().with_count_only()),
                    ),
                )
                .await;
                matches!(resp, Ok(Ok(ref g)) if g.count() == 20)
            })
        },
    );
}

#[test]
fn move_leader_moves_leadership() {
    let Some(ctlbin) = etcdctl() else { return };
    let mut c = Cluster::start(3, FAST);
    let leader = c.leader(Duration::from_secs(10));
    let target = (leader + 1) % 3;
    let target_id = rt().block_on(async {
        let mut cl = client(c.members[target].endpoint()).await;
        cl.status().await.unwrap().header().unwrap().member_id()
    });
    let out = ctl_ok(
        &ctlbin,
        &c.members[leader].endpoint(),
        &["move-leader", &format!("{target_id:x}")],
    );
    assert!(out.contains("Leadership transferred"), "{out}");
    assert_eq!(c.leader(Duration::from_secs(10)), target);
}
