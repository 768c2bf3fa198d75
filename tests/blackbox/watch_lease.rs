//! Watch and Lease with etcd's guarantees, as users see them: etcdctl `watch` (prefix,
//! history replay, prev-kv, interactive) and the `lease` commands checked on their
//! output (recorded from etcd 3.4), expiry and revocation as a watcher sees them. The
//! submodules run them through a leader failure and at ten thousand watchers, check
//! progress notifications at a configured interval, and the watch and lease metrics.

mod cluster;
mod lease_metrics;
mod live_ctl;
mod progress;
mod scale;

use std::time::{Duration, Instant};

use etcd_client::{EventType, LeaseGrantOptions, LeaseTimeToLiveOptions, PutOptions, WatchOptions};

use crate::support::{Member, ctl, ctl_ok, etcdctl, rt};
pub(crate) use live_ctl::LiveCtl;

/// Long enough that only a bug makes a wait for output time out.
pub(crate) const PATIENCE: Duration = Duration::from_secs(15);

#[test]
fn etcdctl_watch_prefix_history_prev_kv_and_interactive() {
    let Some(ctlbin) = etcdctl() else { return };
    let m = Member::start(&[]);
    let ep = m.endpoint();
    let run = |args: &[&str]| ctl_ok(&ctlbin, &ep, args);
    run(&["put", "foo", "bar"]); // rev 2
    run(&["put", "foo2", "baz"]); // rev 3
    run(&["put", "zoo", "1"]); // rev 4
    run(&["put", "foo", "bar2"]); // rev 5
    assert_eq!(run(&["del", "foo2"]), "1\n"); // rev 6

    // History replay of a prefix; a delete prints the key and an empty value.
    let w = LiveCtl::spawn(&ctlbin, &ep, &["watch", "--prefix", "foo", "--rev=1"]);
    w.expect_stdout("PUT\nfoo\nbar\nPUT\nfoo2\nbaz\nPUT\nfoo\nbar2\nDELETE\nfoo2\n\n");
    drop(w);

    // From the next revision: only the prefix's changes. Starting at a given revision
    // makes the watch see the writes even if they land before it is created.
    let w = LiveCtl::spawn(&ctlbin, &ep, &["watch", "--prefix", "foo", "--rev=7"]);
    run(&["put", "zoo", "2"]); // rev 7
    run(&["put", "foo", "live"]); // rev 8
    w.expect_stdout("PUT\nfoo\nlive\n");
    drop(w);

    // --prev-kv prints the previous pair before the new one.
    let w = LiveCtl::spawn(
        &ctlbin,
        &ep,
        &["watch", "--prefix", "foo", "--rev=1", "--prev-kv"],
    );
    w.expect_stdout(concat!(
        "PUT\nfoo\nbar\n",
        "PUT\nfoo2\nbaz\n",
        "PUT\nfoo\nbar\nfoo\nbar2\n",
        "DELETE\nfoo2\nbaz\nfoo2\n\n",
        "PUT\nfoo\nbar2\nfoo\nlive\n",
    ));
    drop(w);

    // A single key.
    let w = LiveCtl::spawn(&ctlbin, &ep, &["watch", "foo", "--rev=1"]);
    w.expect_stdout("PUT\nfoo\nbar\nPUT\nfoo\nbar2\nPUT\nfoo\nlive\n");
    drop(w);

    // Interactive: watch commands on stdin (kept open: etcdctl 3.4 quits on its end).
    let mut w = LiveCtl::spawn(&ctlbin, &ep, &["watch", "-i"]);
    w.write_stdin("watch foo\n");
    // The watch exists once a put shows up; every put from the first one seen on
    // follows, in order.
    let deadline = Instant::now() + PATIENCE;
    let mut last_put = 0;
    let first = loop {
        run(&["put", "foo", &format!("v{last_put}")]);
        if let Some(first) = first_value(&w.stdout()) {
            break first;
        }
        assert!(Instant::now() < deadline, "interactive watch saw nothing");
        std::thread::sleep(Duration::from_millis(50));
        last_put += 1;
    };
    run(&["put", "foo", "last"]);
    let mut expected: String = (first..=last_put)
        .map(|i| format!("PUT\nfoo\nv{i}\n"))
        .collect();
    expected.push_str("PUT\nfoo\nlast\n");
    w.expect_stdout(&expected);
    // A second watcher on the same session, replaying history.
    let before = w.stdout();
    w.write_stdin("watch zoo --rev=1\n");
    w.expect_stdout(&(before + "PUT\nzoo\n1\nPUT\nzoo\n2\n"));
}

/// The number in the first whole "PUT foo v<n>" event of an interactive watch.
fn first_value(out: &str) -> Option<u32> {
    let rest = out.strip_prefix("PUT\nfoo\nv")?;
    let (n, _) = rest.split_once('\n')?;
    n.parse().ok()
}

/// The lease ID in "lease 694d7a0c1f8ecc0b granted with TTL(60s)".
fn granted_id(out: &str) -> String {
    let id = out
        .strip_prefix("lease ")
        .and_then(|s| s.split(' ').next())
        .unwrap_or_default();
    assert_eq!(out, format!("lease {id} granted with TTL(60s)\n"));
    id.to_string()
}

#[test]
fn etcdctl_lease_grant_keep_alive_time_to_live_revoke_list() {
    let Some(ctlbin) = etcdctl() else { return };
    let m = Member::start(&[]);
    let ep = m.endpoint();
    let run = |args: &[&str]| ctl_ok(&ctlbin, &ep, args);

    let id = granted_id(&run(&["lease", "grant", "60"]));
    assert_eq!(run(&["lease", "list"]), format!("found 1 leases\n{id}\n"));
    assert_eq!(run(&["put", "--lease", &id, "lk1", "v1"]), "OK\n");
    assert_eq!(run(&["put", "--lease", &id, "lk2", "v2"]), "OK\n");

    let ttl = run(&["lease", "timetolive", &id]);
    let prefix = format!("lease {id} granted with TTL(60s), remaining(");
    assert!(ttl.starts_with(&prefix) && ttl.ends_with("s)\n"), "{ttl}");
    let remaining: i64 = ttl[prefix.len()..ttl.len() - 3].parse().expect("remaining");
    assert!((55..=60).contains(&remaining), "{ttl}");
    // Attached keys come in no particular order (etcd's come from a map).
    let with_keys = run(&["lease", "timetolive", "--keys", &id]);
    assert!(with_keys.starts_with(&prefix), "{with_keys}");
    assert!(
        with_keys.ends_with("attached keys([lk1 lk2])\n")
            || with_keys.ends_with("attached keys([lk2 lk1])\n"),
        "{with_keys}"
    );

    // keep-alive runs until stopped, printing each renewal.
    let mut ka = LiveCtl::spawn(&ctlbin, &ep, &["lease", "keep-alive", &id]);
    ka.expect_stdout(&format!("lease {id} keepalived with TTL(60)\n"));
    ka.terminate();
    assert_eq!(
        run(&["lease", "keep-alive", "--once", &id]),
        format!("lease {id} keepalived with TTL(60)\n")
    );

    // Overwritten without the lease, lk2 leaves it (the previous lease is known without
    // reading the previous value).
    assert_eq!(run(&["put", "lk2", "v2b"]), "OK\n");
    assert!(
        run(&["lease", "timetolive", "--keys", &id]).ends_with("attached keys([lk1])\n"),
        "lk2 detached"
    );

    assert_eq!(
        run(&["lease", "revoke", &id]),
        format!("lease {id} revoked\n")
    );
    assert_eq!(
        run(&["lease", "timetolive", &id]),
        format!("lease {id} already expired\n")
    );
    assert_eq!(
        run(&["get", "--prefix", "lk"]),
        "lk2\nv2b\n",
        "revoke deletes the keys still attached"
    );
    assert_eq!(run(&["lease", "list"]), "found 0 leases\n");

    let out = ctl(&ctlbin, &ep, &["lease", "revoke", &id]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Error: failed to revoke lease (etcdserver: requested lease not found)"),
        "{err}"
    );
    let out = ctl(&ctlbin, &ep, &["put", "--lease", "1234", "x", "y"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Error: etcdserver: requested lease not found"),
        "{err}"
    );
}

/// Reads watch responses until `n` events arrived; returns them grouped by response.
async fn events_by_response(
    stream: &mut etcd_client::WatchStream,
    n: usize,
) -> Vec<Vec<(EventType, String, i64)>> {
    let mut out = Vec::new();
    let mut seen = 0;
    while seen < n {
        let resp = tokio::time::timeout(PATIENCE, stream.message())
            .await
            .expect("watch response in time")
            .expect("watch stream")
            .expect("watch stream open");
        if resp.events().is_empty() {
            continue;
        }
        let evs: Vec<_> = resp
            .events()
            .iter()
            .map(|e| {
                let kv = e.kv().expect("event kv");
                (
                    e.event_type(),
                    kv.key_str().expect("utf-8 key").to_string(),
                    kv.mod_revision(),
                )
            })
            .collect();
        seen += evs.len();
        out.push(evs);
    }
    out
}

#[test]
fn revoke_and_expiry_delete_all_keys_of_a_lease_in_one_revision() {
    let m = Member::start(&[]);
    rt().block_on(async {
        let mut c = m.client().await;
        let mut stream = c
            .watch("lx/", Some(WatchOptions::new().with_prefix()))
            .await
            .expect("watch");
        let created = stream.message().await.expect("created").expect("open");
        assert!(created.created());

        let short = c.lease_grant(2, None).await.expect("grant").id();
        let long = c
            .lease_grant(60, Some(LeaseGrantOptions::new()))
            .await
            .expect("grant")
            .id();
        for (key, lease) in [
            ("lx/b1", long),
            ("lx/b2", long),
            ("lx/b3", long),
            ("lx/s1", short),
            ("lx/s2", short),
        ] {
            c.put(key, "v", Some(PutOptions::new().with_lease(lease)))
                .await
                .expect("put");
        }
        let puts: Vec<_> = events_by_response(&mut stream, 5).await.concat();
        assert!(puts.iter().all(|e| e.0 == EventType::Put), "{puts:?}");

        // Revocation: the three deletes in one response, at the revision revoke answered.
        let revoked_at = c
            .lease_revoke(long)
            .await
            .expect("revoke")
            .header()
            .expect("header")
            .revision();
        let got = events_by_response(&mut stream, 3).await;
        assert_eq!(got.len(), 1, "one response: {got:?}");
        let mut keys: Vec<_> = got[0]
            .iter()
            .map(|(t, k, rev)| {
                assert_eq!((*t, *rev), (EventType::Delete, revoked_at));
                k.clone()
            })
            .collect();
        keys.sort();
        assert_eq!(keys, ["lx/b1", "lx/b2", "lx/b3"]);

        // Expiry: the same, without anyone asking.
        let got = events_by_response(&mut stream, 2).await;
        assert_eq!(got.len(), 1, "one response: {got:?}");
        let rev = got[0][0].2;
        assert!(rev > revoked_at);
        assert!(
            got[0]
                .iter()
                .all(|(t, _, r)| *t == EventType::Delete && *r == rev),
            "{got:?}"
        );
        let ttl = c
            .lease_time_to_live(short, Some(LeaseTimeToLiveOptions::new()))
            .await
            .expect("time to live");
        assert_eq!(ttl.ttl(), -1, "an expired lease is gone");
        let left = c
            .get("lx/", Some(etcd_client::GetOptions::new().with_prefix()))
            .await
            .expect("get");
        assert_eq!(left.count(), 0);
    });
}
