//! Progress: on request (stream-wide, only once every watcher is caught up) and
//! periodic for idle watchers that asked for it.

use std::time::Duration;

use etcd_mvcc::watch::{UpdateKind, WatchOptions};

use super::*;

#[test]
fn a_requested_progress_follows_every_event_it_covers() {
    let ws = store_with(2);
    let s = ws.new_stream();
    // No watchers: answered at once.
    s.request_progress();
    let u = next(&s);
    assert_eq!(
        (u.watch_id, u.revision, u.kind),
        (-1, 1, UpdateKind::Progress)
    );

    let id = s.watch(opts("k", "")).unwrap();
    let mut last = 0;
    for i in 0..10 {
        last = put(&ws, "k", &i.to_string());
    }
    assert_eq!(ws.unsynced_count(), 1);
    s.request_progress();
    s.request_progress(); // answered by the same notification
    assert_eq!(created(&s), id);
    let mut seen = Vec::new();
    loop {
        let u = next(&s);
        match u.kind {
            UpdateKind::Events { events, .. } => seen.extend(revisions(&events)),
            UpdateKind::Progress => {
                assert_eq!((u.watch_id, u.revision), (-1, last));
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        seen,
        (2..=last).collect::<Vec<_>>(),
        "progress came before its events"
    );
    assert_quiet(&s);
    // Synced: answered at once with the current revision.
    s.request_progress();
    let u = next(&s);
    assert_eq!(
        (u.watch_id, u.revision, u.kind),
        (-1, last, UpdateKind::Progress)
    );
}

#[test]
fn idle_watchers_that_asked_get_periodic_progress() {
    let ws = store();
    let rev = put(&ws, "other", "v");
    let s = ws.new_stream();
    let wants = s
        .watch(WatchOptions {
            progress_notify: true,
            ..opts("k", "")
        })
        .unwrap();
    let quiet = ws.new_stream();
    quiet.watch(opts("k", "")).unwrap();
    created(&s);
    created(&quiet);
    ws.set_progress_interval(Duration::from_millis(20));
    assert_eq!(ws.progress_interval(), Duration::from_millis(20));
    let u = next(&s);
    assert_eq!(
        (u.watch_id, u.revision, u.kind),
        (wants, rev, UpdateKind::Progress)
    );
    // Events count as activity; after they stop, progress resumes at the new revision.
    let rev = put(&ws, "k", "v");
    let mut after_event = false;
    loop {
        let u = next(&s);
        match u.kind {
            UpdateKind::Events { .. } => after_event = true,
            UpdateKind::Progress if after_event => {
                assert_eq!((u.watch_id, u.revision), (wants, rev));
                break;
            }
            UpdateKind::Progress => {}
            other => panic!("{other:?}"),
        }
    }
    let u = next(&quiet);
    assert!(matches!(u.kind, UpdateKind::Events { .. }), "{u:?}");
    assert_quiet(&quiet);
}
