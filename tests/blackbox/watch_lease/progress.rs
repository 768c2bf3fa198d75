//! `--experimental-watch-progress-notify-interval` reaches the watchers: an idle watcher
//! created with progress_notify is told the current revision about once an interval.

use std::time::{Duration, Instant};

use etcd_client::WatchOptions;

use crate::support::{Member, rt};

#[test]
fn an_idle_progress_notify_watcher_gets_progress_within_a_few_intervals() {
    const INTERVAL: Duration = Duration::from_millis(200);
    let m = Member::start(&["--experimental-watch-progress-notify-interval=200ms"]);
    rt().block_on(async {
        let mut c = m.client().await;
        let rev = c
            .put("pn/k", "v", None)
            .await
            .expect("put")
            .header()
            .expect("header")
            .revision();
        let mut stream = c
            .watch(
                "pn/",
                Some(WatchOptions::new().with_prefix().with_progress_notify()),
            )
            .await
            .expect("watch");
        let created = stream.message().await.expect("created").expect("open");
        assert!(created.created());
        let id = created.watch_id();
        let started = Instant::now();

        // Two notifications, each empty and at the current revision: the first within a
        // few intervals of the watch (the ticks are the store's, not the watcher's), the
        // second about one interval after the first.
        let mut at = Vec::new();
        for n in 0..2 {
            let resp = tokio::time::timeout(INTERVAL * 10, stream.message())
                .await
                .unwrap_or_else(|_| panic!("no progress notification {n} within 10 intervals"))
                .expect("watch stream")
                .expect("watch stream open");
            assert_eq!(resp.watch_id(), id);
            assert!(!resp.created() && !resp.canceled(), "{resp:?}");
            assert!(resp.events().is_empty(), "{resp:?}");
            assert_eq!(resp.header().expect("header").revision(), rev);
            at.push(started.elapsed());
        }
        assert!(at[0] <= INTERVAL * 3, "first progress after {:?}", at[0]);
        let gap = at[1] - at[0];
        assert!(
            gap >= INTERVAL / 2 && gap <= INTERVAL * 3,
            "progress notifications {gap:?} apart with a {INTERVAL:?} interval"
        );
    });
}

#[test]
fn a_zero_watch_progress_notify_interval_is_refused_as_etcd_does() {
    let mut m = Member::new(&["--experimental-watch-progress-notify-interval=0s"]);
    m.spawn();
    let status = m.wait_exit(Duration::from_secs(15));
    assert!(!status.success());
    let log = m.log();
    assert!(
        log.contains("--experimental-watch-progress-notify-interval must be >0 (set to 0s)"),
        "{log}"
    );
}
