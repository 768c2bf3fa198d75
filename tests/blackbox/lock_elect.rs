//! The Lock and Election services as users see them: `etcdctl lock` and `etcdctl elect`
//! checked on their output (recorded from etcd 3.4), and through the etcd-client crate
//! etcd's errors (all gRPC code Unknown, etcd's message) and the withdrawal of a waiting
//! lock or campaign whose client gives up.

use std::path::Path;
use std::time::{Duration, Instant};

use etcd_client::{Client, LeaderKey, LockOptions, ProclaimOptions, ResignOptions};

use crate::support::{Member, ctl_ok, etcdctl, rt};
use crate::watch_lease::{LiveCtl, PATIENCE};

/// Keys under `prefix`, as etcdctl lists them.
fn keys_under(ctl: &Path, ep: &str, prefix: &str) -> Vec<String> {
    ctl_ok(ctl, ep, &["get", "--prefix", "--keys-only", prefix])
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn wait_keys(ctl: &Path, ep: &str, prefix: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let keys = keys_under(ctl, ep, prefix);
        if keys.len() == n {
            return keys;
        }
        assert!(Instant::now() < deadline, "{prefix}: {keys:?}, wanted {n}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `<name>/<lease in hex>`.
fn assert_candidate_key(key: &str, name: &str) {
    let hex = key
        .strip_prefix(&format!("{name}/"))
        .unwrap_or_else(|| panic!("{key} is not under {name}/"));
    assert!(
        !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{key}"
    );
}

#[test]
fn etcdctl_lock_has_one_holder_at_a_time() {
    let Some(ctlbin) = etcdctl() else { return };
    let m = Member::start(&[]);
    let ep = m.endpoint();

    // The holder prints its key (and the key's empty value) and holds until stopped.
    let mut a = LiveCtl::spawn(&ctlbin, &ep, &["lock", "mylock"]);
    let a_out = a.wait_for("the lock key", |s| s.ends_with("\n\n"));
    let a_key = a_out.trim_end();
    assert_candidate_key(a_key, "mylock");
    assert_eq!(a_out, format!("{a_key}\n\n"));

    // The second one queues behind it and runs its command only once it holds the lock.
    let mut b = LiveCtl::spawn(&ctlbin, &ep, &["lock", "mylock", "echo", "b-holds-it"]);
    let queued = wait_keys(&ctlbin, &ep, "mylock/", 2);
    assert!(queued.contains(&a_key.to_string()), "{queued:?}");
    assert!(!b.has_exited(), "the second holder did not wait");
    assert_eq!(b.stdout(), "");

    a.terminate();
    assert!(b.wait_exit().success(), "{}", b.stderr());
    assert_eq!(b.stdout(), "b-holds-it\n");
    // Both sessions ended: nothing left queued.
    assert_eq!(keys_under(&ctlbin, &ep, "mylock/"), Vec::<String>::new());
}

#[test]
fn etcdctl_elect_campaigns_and_observers_follow_the_leader() {
    let Some(ctlbin) = etcdctl() else { return };
    let m = Member::start(&[]);
    let ep = m.endpoint();

    let observer = LiveCtl::spawn(&ctlbin, &ep, &["elect", "-l", "myelect"]);
    let mut a = LiveCtl::spawn(&ctlbin, &ep, &["elect", "myelect", "p1"]);
    let a_out = a.wait_for("the leader key", |s| s.ends_with("\np1\n"));
    assert_candidate_key(a_out.trim_end_matches("\np1\n"), "myelect");
    observer.expect_stdout(&a_out);

    let mut b = LiveCtl::spawn(&ctlbin, &ep, &["elect", "myelect", "p2"]);
    wait_keys(&ctlbin, &ep, "myelect/", 2);
    assert!(!b.has_exited());
    assert_eq!(b.stdout(), "", "the second candidate is not leader yet");

    // The leader quits: the second candidate leads and the observer sees the change.
    a.terminate();
    let b_out = b.wait_for("the new leader key", |s| s.ends_with("\np2\n"));
    let b_key = b_out.trim_end_matches("\np2\n");
    assert_candidate_key(b_key, "myelect");
    assert_ne!(b_out, a_out);
    observer.expect_stdout(&format!("{a_out}{b_out}"));
    b.terminate();
}

/// The gRPC code and message of a failed call.
fn status<T: std::fmt::Debug>(r: Result<T, etcd_client::Error>) -> (String, String) {
    match r {
        Err(etcd_client::Error::GRpcStatus(s)) => {
            (format!("{:?}", s.code()), s.message().to_string())
        }
        other => panic!("expected a gRPC error, got {other:?}"),
    }
}

async fn key_exists(c: &mut Client, key: &[u8]) -> bool {
    c.get(key, None).await.expect("get").count() == 1
}

async fn wait_gone(c: &mut Client, key: &[u8]) {
    let deadline = Instant::now() + PATIENCE;
    while key_exists(c, key).await {
        assert!(
            Instant::now() < deadline,
            "{} is still there",
            String::from_utf8_lossy(key)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn lock_and_election_errors_are_etcds() {
    let m = Member::start(&[]);
    rt().block_on(async {
        let mut c = m.client().await;
        let unknown = |msg: &str| ("Unknown".to_string(), msg.to_string());
        let r = c
            .lock("l", Some(LockOptions::new().with_lease(0x1234)))
            .await;
        assert_eq!(status(r), unknown("etcdserver: requested lease not found"));
        assert_eq!(
            status(c.unlock("").await),
            unknown("etcdserver: key is not provided")
        );
        assert_eq!(
            status(c.leader("nobody").await),
            unknown("election: no leader")
        );
        let r = c.campaign("e", "v", 0x1234).await;
        assert_eq!(status(r), unknown("etcdserver: requested lease not found"));

        let lease = c.lease_grant(60, None).await.expect("grant").id();
        let won = c.campaign("e", "v1", lease).await.expect("campaign");
        let leader = won.leader().expect("leader key").clone();
        assert_eq!(leader.key_str().expect("key"), format!("e/{lease:x}"));
        assert_eq!(leader.rev(), won.header().expect("header").revision());
        let got = c.leader("e").await.expect("leader");
        assert_eq!(got.kv().expect("kv").value(), b"v1");

        let stale = leader.clone().with_rev(leader.rev() + 1000);
        let r = c
            .proclaim(
                "v2",
                Some(ProclaimOptions::new().with_leader(stale.clone())),
            )
            .await;
        assert_eq!(status(r), unknown("election: not leader"));
        let r = c.proclaim("v2", None).await;
        assert_eq!(status(r), unknown("\"leader\" field must be provided"));
        assert_eq!(
            status(c.resign(None).await),
            unknown("\"leader\" field must be provided")
        );
        // A stale resignation is no error and changes nothing.
        c.resign(Some(ResignOptions::new().with_leader(stale)))
            .await
            .expect("stale resign");
        c.proclaim(
            "v2",
            Some(ProclaimOptions::new().with_leader(leader.clone())),
        )
        .await
        .expect("proclaim");
        let got = c.leader("e").await.expect("leader");
        assert_eq!(got.kv().expect("kv").value(), b"v2");
        c.resign(Some(ResignOptions::new().with_leader(leader)))
            .await
            .expect("resign");
        assert_eq!(status(c.leader("e").await), unknown("election: no leader"));
    });
}

#[test]
fn a_waiter_whose_client_gives_up_withdraws() {
    let m = Member::start(&[]);
    rt().block_on(async {
        let mut c = m.client().await;
        let a = c.lease_grant(60, None).await.expect("grant").id();
        let b = c.lease_grant(60, None).await.expect("grant").id();

        let held = c
            .lock("wl", Some(LockOptions::new().with_lease(a)))
            .await
            .expect("lock");
        let b_key = format!("wl/{b:x}");
        // b waits; the client gives up (the call is dropped, which cancels the stream).
        let mut waiting = c.clone();
        let waiter = tokio::spawn(async move {
            waiting
                .lock("wl", Some(LockOptions::new().with_lease(b)))
                .await
        });
        let deadline = Instant::now() + PATIENCE;
        while !key_exists(&mut c, b_key.as_bytes()).await {
            assert!(Instant::now() < deadline, "b never queued");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        waiter.abort();
        wait_gone(&mut c, b_key.as_bytes()).await;
        assert!(
            key_exists(&mut c, held.key()).await,
            "a still holds the lock"
        );
        c.unlock(held.key()).await.expect("unlock");
        let again = c
            .lock("wl", Some(LockOptions::new().with_lease(b)))
            .await
            .expect("lock after unlock");
        assert_eq!(again.key(), b_key.as_bytes());

        // The same for a campaign: giving up resigns.
        let won = c.campaign("we", "a", a).await.expect("campaign");
        let mut waiting = c.clone();
        let waiter = tokio::spawn(async move { waiting.campaign("we", "b", b).await });
        let b_key = format!("we/{b:x}");
        let deadline = Instant::now() + PATIENCE;
        while !key_exists(&mut c, b_key.as_bytes()).await {
            assert!(Instant::now() < deadline, "b never campaigned");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        waiter.abort();
        wait_gone(&mut c, b_key.as_bytes()).await;
        let leader = c.leader("we").await.expect("leader");
        assert_eq!(
            leader.kv().expect("kv").key(),
            won.leader().expect("leader key").key()
        );
    });
}

#[test]
fn observe_streams_the_leader_and_each_change() {
    let m = Member::start(&[]);
    rt().block_on(async {
        let mut c = m.client().await;
        let mut observer = c.observe("oe").await.expect("observe");
        let a = c.lease_grant(60, None).await.expect("grant").id();
        let b = c.lease_grant(60, None).await.expect("grant").id();
        let won = c.campaign("oe", "a1", a).await.expect("campaign");
        let leader: LeaderKey = won.leader().expect("leader key").clone();

        let mut next = async || {
            let r = tokio::time::timeout(PATIENCE, observer.message())
                .await
                .expect("observed in time")
                .expect("observe stream")
                .expect("observe stream open");
            let kv = r.kv().expect("kv");
            (
                kv.key_str().expect("key").to_string(),
                kv.value_str().expect("value").to_string(),
            )
        };
        let a_key = format!("oe/{a:x}");
        assert_eq!(next().await, (a_key.clone(), "a1".to_string()));
        c.proclaim(
            "a2",
            Some(ProclaimOptions::new().with_leader(leader.clone())),
        )
        .await
        .expect("proclaim");
        assert_eq!(next().await, (a_key, "a2".to_string()));
        let mut waiting = c.clone();
        let b_wins = tokio::spawn(async move { waiting.campaign("oe", "b1", b).await });
        c.resign(Some(ResignOptions::new().with_leader(leader)))
            .await
            .expect("resign");
        assert_eq!(next().await, (format!("oe/{b:x}"), "b1".to_string()));
        b_wins.await.expect("task").expect("b campaign");
    });
}
