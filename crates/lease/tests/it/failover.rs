//! A leader and a follower apply the same entries; after the leader's checkpoints, the
//! follower takes over (also after a restart from its backend) and expires leases on
//! the remaining TTL instead of the full one.

use std::sync::Arc;
use std::time::Duration;

use etcd_lease::{LeaseError, Lessor, ManualClock};
use etcd_mvcc::{Backend, KvStore, MemBackend, WriteBatch};

const SEC: Duration = Duration::from_secs(1);

struct Member {
    lessor: Lessor,
    backend: Arc<dyn Backend>,
}

impl Member {
    fn new(clock: &Arc<ManualClock>) -> Member {
        Member {
            lessor: Lessor::with_clock(5, Duration::from_secs(60), clock.clone()),
            backend: Arc::new(MemBackend::new()),
        }
    }
}

/// Applies one entry on every member, each writing its own backend.
fn apply(members: &[&Member], f: impl Fn(&Lessor, &mut WriteBatch)) {
    for m in members {
        let mut batch = WriteBatch::default();
        f(&m.lessor, &mut batch);
        m.backend.write(batch).unwrap();
    }
}

#[test]
fn a_new_primary_resumes_checkpointed_ttls() {
    let clock = Arc::new(ManualClock::new());
    let (a, b) = (Member::new(&clock), Member::new(&clock));
    apply(&[&a, &b], |l, batch| {
        l.grant(1, 600, batch).unwrap();
        l.grant(2, 600, batch).unwrap();
    });
    a.lessor.promote(Duration::ZERO);

    // Lease 2 is kept alive; lease 1 is left to run down while checkpoints are applied.
    for _ in 0..5 {
        clock.advance(SEC * 60);
        a.lessor.renew(2).unwrap();
        let due = a.lessor.checkpoints_due(100);
        apply(&[&a, &b], |l, batch| {
            for &(id, rem) in &due {
                l.checkpoint(id, rem, batch).unwrap();
            }
        });
    }
    assert_eq!(b.lessor.time_to_live(1, false).unwrap().remaining, 300);
    assert_eq!(b.lessor.time_to_live(2, false).unwrap().remaining, 600);

    // a fails; b restarts from its backend and becomes the leader.
    a.lessor.demote();
    let store = KvStore::open(b.backend.clone()).unwrap();
    let restarted = Lessor::with_clock(5, Duration::from_secs(60), clock.clone());
    restarted.recover(&*b.backend, &store).unwrap();
    assert!(matches!(restarted.renew(1), Err(LeaseError::NotPrimary)));
    restarted.promote(SEC * 2);
    clock.advance(SEC * 301);
    assert!(restarted.expired(10).is_empty());
    clock.advance(SEC);
    assert_eq!(restarted.expired(10), vec![1], "300 s + 2 s, not 600 s");
    assert_eq!(restarted.time_to_live(2, false).unwrap().remaining, 300);
}
