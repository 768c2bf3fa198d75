//! Past changes read back as watch events.

use etcd_api::mvccpb::Event;
use etcd_mvcc::MvccError;

use crate::support::*;

for_each_backend!(events_replay_what_commits_reported);

fn events_replay_what_commits_reported(fx: Fixture) {
    let store = fx.open();
    let mut reported: Vec<Event> = Vec::new();
    for i in 0..40 {
        let (_, events) = apply(&store, |t| {
            t.put(&put_req(&format!("k{}", i % 6), &i.to_string()))
                .unwrap();
            if i % 7 == 3 {
                t.delete_range(&del_req("k", "l")).unwrap();
                t.put(&put_req("k0", "again")).unwrap();
            }
        });
        reported.extend(events);
    }
    // Deleting nothing adds no events.
    delete(&store, "nothing", "");
    for e in &mut reported {
        e.prev_kv = None;
    }
    assert_eq!(store.events(0, 0).unwrap(), reported);
    let from_10: Vec<Event> = reported
        .iter()
        .filter(|e| e.kv.as_ref().unwrap().mod_revision >= 10)
        .cloned()
        .collect();
    assert_eq!(store.events(10, 0).unwrap(), from_10);
    let window: Vec<Event> = reported
        .iter()
        .filter(|e| (10..=12).contains(&e.kv.as_ref().unwrap().mod_revision))
        .cloned()
        .collect();
    assert_eq!(store.events(10, 12).unwrap(), window);
    assert!(
        store
            .events(store.current_revision() + 1, 0)
            .unwrap()
            .is_empty()
    );

    apply(&store, |t| t.compact(20)).0.unwrap().wait();
    assert!(matches!(store.events(19, 0), Err(MvccError::Compacted)));
    let from_21: Vec<Event> = reported
        .iter()
        .filter(|e| e.kv.as_ref().unwrap().mod_revision >= 21)
        .cloned()
        .collect();
    assert_eq!(store.events(21, 0).unwrap(), from_21);
}
