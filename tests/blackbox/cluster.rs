//! Clusters of real processes: writes anywhere, leader failure under load, catch-up by
//! snapshot, learners, foreign tokens, partitions and leadership transfer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use etcd_client::{Client, GetOptions};

use crate::support::cluster::Cluster;
use crate::support::{Member, ctl, ctl_ok, etcdctl, eventually, rt};

/// Fast raft timings so elections settle within a second.
const FAST: &[&str] = &["--heartbeat-interval=50", "--election-timeout=500"];

async fn client(endpoint: String) -> Client {
    Client::connect([endpoint], None).await.expect("connect")
}

/// Each member's HashKV at `revision`, or None while any member cannot answer yet (it is
/// down, or has not reached `revision`): meant to be polled with [`eventually`].
fn hashes(endpoints: &[String], revision: i64) -> Option<Vec<u32>> {
    rt().block_on(async {
        let mut out = Vec::new();
        for ep in endpoints {
            let mut c = Client::connect([ep.clone()], None).await.ok()?;
            let resp = tokio::time::timeout(Duration::from_secs(3), c.hash_kv(revision))
                .await
                .ok()?;
            match resp {
                Ok(r) => out.push(r.hash()),
                Err(e) => {
                    eprintln!("hashkv at {revision} on {ep}: {e}");
                    return None;
                }
            }
        }
        Some(out)
    })
}

/// Whether every member has the same HashKV at `revision`.
fn hashes_agree(endpoints: &[String], revision: i64) -> bool {
    hashes(endpoints, revision).is_some_and(|h| h.windows(2).all(|w| w[0] == w[1]))
}

/// etcd refuses a membership change with this until the member asked has been connected
/// to its peers for the health interval (5 s): right after a start, for instance (see
/// [`Cluster::wait_reconfigurable`]).
const UNHEALTHY: &str = "etcdserver: unhealthy cluster";

/// Runs an etcdctl membership command, retrying while the cluster is [`UNHEALTHY`].
fn ctl_while_unhealthy(ctlbin: &std::path::Path, eps: &str, args: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = ctl(ctlbin, eps, args);
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(UNHEALTHY) && Instant::now() < deadline,
            "etcdctl {args:?}: {err}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The member named `name` in `etcdctl member list -w json` (IDs are decimal there).
fn member_json(ctlbin: &std::path::Path, eps: &str, name: &str) -> serde_json::Value {
    let out = ctl_ok(ctlbin, eps, &["member", "list", "-w", "json"]);
    let list: serde_json::Value = serde_json::from_str(&out).expect("member list json");
    list["members"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("{name} not listed:\n{out}"))
}

/// etcdctl's JSON leaves `isLearner` out when it is false.
fn is_learner(member: &serde_json::Value) -> bool {
    member["isLearner"].as_bool().unwrap_or(false)
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
    // Every member counts the bytes it sent to and received from each peer, under
    // etcd's names and labels (followers talk to the leader only, so some are 0).
    for m in &c.members {
        let (_, body) = crate::http_endpoints::http_get(m.client_port, "/metrics");
        for (metric, label) in [
            ("etcd_network_peer_sent_bytes_total", "To"),
            ("etcd_network_peer_received_bytes_total", "From"),
        ] {
            let prefix = format!("{metric}{{{label}=\"");
            let per_peer: Vec<f64> = body
                .lines()
                .filter_map(|l| l.strip_prefix(prefix.as_str()))
                .filter_map(|rest| rest.rsplit_once(' ')?.1.parse().ok())
                .collect();
            assert_eq!(per_peer.len(), 2, "{}: {metric} per peer:\n{body}", m.name);
            assert!(
                per_peer.iter().sum::<f64>() > 0.0,
                "{}: no {metric}:\n{body}",
                m.name
            );
        }
    }
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
                && hashes_agree(&endpoints, rev)
        },
    );
}

/// Kills a follower, writes `writes` keys under `missed/` through the leader, restarts
/// the follower and waits until it has them all and every member's hash agrees. Returns
/// the cluster and the restarted member's index.
fn restart_after_missed_writes(extra: &[&str], writes: usize) -> (Cluster, usize) {
    let extra = [FAST, extra].concat();
    let mut c = Cluster::start(3, &extra);
    let leader = c.leader(Duration::from_secs(10));
    let down = (leader + 1) % 3;
    c.members[down].kill9();
    let leader_ep = c.members[leader].endpoint();
    rt().block_on(async {
        // A few writers at once, so a debug build gets through thousands quickly.
        let writers = 8;
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let ep = leader_ep.clone();
                tokio::spawn(async move {
                    let mut cl = client(ep).await;
                    for i in (w..writes).step_by(writers) {
                        cl.put(format!("missed/{i:05}"), "v", None).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    c.members[down].spawn();
    c.members[down].wait_ready();
    let ep = c.members[down].endpoint();
    eventually(
        Duration::from_secs(30),
        "the restarted member to catch up",
        || serializable_count(ep.clone(), "missed/") == writes as i64,
    );
    let endpoints: Vec<String> = c.members.iter().map(Member::endpoint).collect();
    let rev = rt().block_on(async {
        client(leader_ep)
            .await
            .get("x", None)
            .await
            .unwrap()
            .header()
            .unwrap()
            .revision()
    });
    eventually(Duration::from_secs(10), "equal hashes", || {
        hashes_agree(&endpoints, rev)
    });
    (c, down)
}

#[test]
fn a_member_down_past_the_snapshot_count_catches_up_by_snapshot() {
    let (c, down) = restart_after_missed_writes(
        &[
            "--snapshot-count=100",
            "--experimental-snapshot-catchup-entries=10",
        ],
        400,
    );
    let log = c.members[down].log_since_spawn();
    assert!(
        log.contains("applied a snapshot from the leader"),
        "the member caught up without a snapshot:\n{log}"
    );
}

/// More entries than the leader keeps in memory, fewer than a snapshot: the leader reads
/// the missed entries back from its WAL.
#[test]
fn a_member_down_for_thousands_of_entries_catches_up_from_the_leaders_wal() {
    let (c, down) = restart_after_missed_writes(&[], 3000);
    let log = c.members[down].log_since_spawn();
    assert!(
        !log.contains("applied a snapshot from the leader"),
        "the member needed a snapshot:\n{log}"
    );
}

#[test]
fn learner_is_added_promoted_and_removed_with_etcdctl() {
    let Some(ctlbin) = etcdctl() else { return };
    let mut c = Cluster::start(3, FAST);
    let eps = c.endpoints();
    let mut learner = Member::new(FAST);
    learner.name = "m4".into();
    learner.token = c.token.clone();
    let out = ctl_while_unhealthy(
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

    // Updating peer URLs changes them and nothing else: the learner stays a learner (in
    // the member list and in raft, so it still refuses writes), the voter a voter. The
    // new URLs name the same listeners through another host name.
    let voter_id = member_json(&ctlbin, &eps, "m1")["ID"].as_u64().unwrap();
    for (name, hex_id, port) in [
        ("m4", id.clone(), learner.peer_port),
        ("m1", format!("{voter_id:x}"), c.members[0].peer_port),
    ] {
        let url = format!("http://localhost:{port}");
        let out = ctl_ok(
            &ctlbin,
            &eps,
            &["member", "update", &hex_id, &format!("--peer-urls={url}")],
        );
        // etcdctl pads IDs to 16 columns.
        assert!(
            out.contains("updated in cluster") && out.contains(&hex_id),
            "{out}"
        );
        let m = member_json(&ctlbin, &eps, name);
        assert_eq!(m["peerURLs"], serde_json::json!([url]), "{name}: {m}");
        assert_eq!(is_learner(&m), name == "m4", "{name}: {m}");
    }
    let put = ctl(&ctlbin, &learner.endpoint(), &["put", "to-learner", "x"]);
    assert!(!put.status.success(), "a learner accepted a write");
    let err = String::from_utf8_lossy(&put.stderr);
    assert!(
        err.contains("etcdserver: rpc not supported for learner"),
        "{err}"
    );
    // The voters still have a quorum among themselves over the updated URLs.
    ctl_ok(&ctlbin, &eps, &["put", "after-update", "x"]);

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

    let out = ctl_while_unhealthy(&ctlbin, &eps, &["member", "remove", &id]);
    // etcdctl pads the ID to 16 columns, so an ID with leading zero digits has spaces.
    assert!(
        out.contains(&format!("{id:>16} removed from cluster")),
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

/// `--strict-reconfig-check` (the default), as etcd: with a voter down, the member asked
/// refuses to add (even a learner) or to remove a connected voter, since either could
/// cost the active quorum; removing the down voter is safe and allowed.
#[test]
fn strict_reconfig_check_refuses_changes_that_risk_the_quorum() {
    let Some(ctlbin) = etcdctl() else { return };
    let mut c = Cluster::start(3, FAST);
    // The member asked (`asked`) stays up with one other voter (`up`); `down` is killed.
    let asked = c.leader(Duration::from_secs(10));
    let (up, down) = ((asked + 1) % 3, (asked + 2) % 3);
    let ep = c.members[asked].endpoint();
    let id = |i: usize| {
        let m = member_json(&ctlbin, &ep, &c.members[i].name);
        format!("{:x}", m["ID"].as_u64().unwrap())
    };
    let (up_id, down_id) = (id(up), id(down));
    // Past the health interval, so that only the kill below makes the cluster unhealthy.
    c.wait_reconfigurable();
    let inactive = "peer became inactive";
    let before = c.members[asked].log().matches(inactive).count();
    c.members[down].kill9();
    eventually(
        Duration::from_secs(10),
        "the member asked to see the kill",
        || c.members[asked].log().matches(inactive).count() > before,
    );

    let spare = Member::new(FAST);
    let peer_urls = format!("--peer-urls={}", spare.peer_url());
    for add in [
        vec!["member", "add", "m4", peer_urls.as_str()],
        vec!["member", "add", "m4", "--learner", peer_urls.as_str()],
    ] {
        let out = ctl(&ctlbin, &ep, &add);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{add:?} accepted with a voter down");
        assert!(err.contains(UNHEALTHY), "{add:?}: {err}");
    }
    let out = ctl(&ctlbin, &ep, &["member", "remove", &up_id]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "removed a connected voter with another down"
    );
    assert!(err.contains(UNHEALTHY), "{err}");
    assert!(
        c.members[asked].log().contains(
            "rejecting member remove request; local member has not been connected to all peers"
        ),
        "{}",
        c.members[asked].log()
    );

    // The down member is not part of the active quorum: removing it is safe, and then the
    // two connected voters are the whole cluster again.
    let out = ctl_ok(&ctlbin, &ep, &["member", "remove", &down_id]);
    assert!(out.contains("removed from cluster"), "{out}");
    let out = ctl_ok(&ctlbin, &ep, &["member", "add", "m4", &peer_urls]);
    assert!(out.contains("added to cluster"), "{out}");
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
    // Both sides say why: the members refuse the stranger's requests with 412 and log it,
    // and the stranger logs that its requests were refused.
    eventually(
        Duration::from_secs(20),
        "the cluster-ID mismatch to be logged on both sides",
        || {
            c.members
                .iter()
                .any(|m| m.log().contains("request cluster ID mismatch"))
                && stranger
                    .log()
                    .contains("request sent was ignored due to cluster ID mismatch")
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
        // The server gives up within its request timeout (5 s + 2 x election timeout).
        let put = tokio::time::timeout(Duration::from_secs(15), cl.put("during", "x", None))
            .await
            .expect("the partitioned member never answered a write");
        assert_unavailable("write", put.map(|_| ()));
        let get = tokio::time::timeout(Duration::from_secs(15), cl.get("during", None))
            .await
            .expect("the partitioned member never answered a linearizable read");
        assert_unavailable("linearizable read", get.map(|_| ()));
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
    // And holds exactly what the majority holds.
    let endpoints: Vec<String> = c.members.iter().map(Member::endpoint).collect();
    let rev = r.block_on(async {
        client(endpoints[majority_leader].clone())
            .await
            .get("part/", None)
            .await
            .unwrap()
            .header()
            .unwrap()
            .revision()
    });
    eventually(
        Duration::from_secs(20),
        "equal hashes after healing",
        || hashes_agree(&endpoints, rev),
    );
}

/// Asserts that a request a partitioned member could not serve failed with one of etcd's
/// errors for it, not an arbitrary one.
fn assert_unavailable(what: &str, result: Result<(), etcd_client::Error>) {
    let err = match result {
        Ok(()) => panic!("a partitioned member served a {what}"),
        Err(etcd_client::Error::GRpcStatus(status)) => status.message().to_string(),
        Err(e) => panic!("a {what} on a partitioned member failed with a non-gRPC error: {e}"),
    };
    assert!(
        err.starts_with("etcdserver: request timed out")
            || err == "etcdserver: no leader"
            || err == "etcdserver: leader changed",
        "a {what} on a partitioned member failed with {err:?}, not one of etcd's errors"
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
