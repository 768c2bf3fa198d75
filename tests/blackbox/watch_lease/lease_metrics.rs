//! The watch and lease metrics on /metrics of the client port, under etcd's names, with
//! the values a known sequence of watches and lease calls must leave.

use std::time::{Duration, Instant};

use etcd_client::{LeaseTimeToLiveOptions, WatchOptions};

use super::PATIENCE;
use crate::http_endpoints::{http_get, metric_value as sample};
use crate::support::{Member, rt};

/// Scrapes until every `(name, value)` holds (gauges and counters settle a little after
/// the call that changes them); panics with the last scrape otherwise.
fn expect_samples(port: u16, want: &[(&str, f64)]) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (code, body) = http_get(port, "/metrics");
        assert_eq!(code, 200);
        let wrong: Vec<_> = want
            .iter()
            .filter(|(name, v)| sample(&body, name) != Some(*v))
            .map(|(name, v)| format!("{name}: want {v}, got {:?}", sample(&body, name)))
            .collect();
        if wrong.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "{wrong:?} in:\n{body}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn watch_gauges_and_lease_counters_count_what_happened() {
    let m = Member::start(&[]);
    let port = m.client_port;
    // Nothing expired yet, but the counter is there (etcd registers it at start).
    expect_samples(port, &[("etcd_debugging_server_lease_expired_total", 0.0)]);
    rt().block_on(async {
        let mut c = m.client().await;
        let mut stream = c
            .watch("mx/", Some(WatchOptions::new().with_prefix()))
            .await
            .expect("watch");
        let created = stream.message().await.expect("created").expect("open");
        assert!(created.created());
        expect_samples(
            port,
            &[
                ("etcd_debugging_mvcc_watcher_total", 1.0),
                ("etcd_debugging_mvcc_watch_stream_total", 1.0),
            ],
        );

        // Grant, renew once, revoke.
        let long = c.lease_grant(60, None).await.expect("grant").id();
        // Opening the keep-alive stream sends the first (here: only) renewal and reads
        // its answer (refused if the lease were gone).
        let (keeper, renewals) = c.lease_keep_alive(long).await.expect("keep-alive");
        drop((keeper, renewals));
        c.lease_revoke(long).await.expect("revoke");
        // A lease nobody renews: granted, expired, revoked by the leader.
        let short = c.lease_grant(2, None).await.expect("grant").id();
        let deadline = Instant::now() + PATIENCE;
        while c
            .lease_time_to_live(short, Some(LeaseTimeToLiveOptions::new()))
            .await
            .expect("time to live")
            .ttl()
            != -1
        {
            assert!(Instant::now() < deadline, "the short lease never expired");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        expect_samples(
            port,
            &[
                ("etcd_debugging_lease_granted_total", 2.0),
                ("etcd_debugging_lease_revoked_total", 2.0),
                ("etcd_debugging_lease_renewed_total", 1.0),
                ("etcd_debugging_server_lease_expired_total", 1.0),
                ("etcd_debugging_lease_ttl_total_count", 2.0),
                ("etcd_debugging_lease_ttl_total_sum", 62.0),
                ("etcd_debugging_mvcc_watcher_total", 1.0),
            ],
        );

        // etcd's buckets (1 s doubling), not a summary: both TTLs (2 s, 60 s) are <= 64 s.
        let (_, body) = http_get(port, "/metrics");
        assert!(
            body.contains("etcd_debugging_lease_ttl_total_bucket{le=\"64\"} 2"),
            "{body}"
        );
        assert!(
            body.contains("etcd_debugging_lease_ttl_total_bucket{le=\"2\"} 1"),
            "{body}"
        );

        // The watch goes away with its stream.
        drop(stream);
        drop(c);
        expect_samples(
            port,
            &[
                ("etcd_debugging_mvcc_watcher_total", 0.0),
                ("etcd_debugging_mvcc_watch_stream_total", 0.0),
            ],
        );
    });
}
