//! 100,000 leases: expiry order, the per-call limit and promotion's pile-up spreading.

use std::sync::Arc;
use std::time::Duration;

use etcd_lease::{LeaseId, Lessor, ManualClock};
use etcd_mvcc::WriteBatch;

const N: i64 = 100_000;

fn ttl_of(id: LeaseId) -> i64 {
    5 + (id * 7919) % 3600
}

#[test]
fn hundred_thousand_leases_expire_in_order() {
    let clock = Arc::new(ManualClock::new());
    let lessor = Lessor::with_clock(5, Duration::from_secs(300), clock.clone());
    lessor.promote(Duration::ZERO);
    let mut batch = WriteBatch::default();
    for id in 1..=N {
        lessor.grant(id, ttl_of(id), &mut batch).unwrap();
    }
    assert_eq!(lessor.len(), N as usize);

    let mut seen: Vec<(i64, LeaseId)> = Vec::with_capacity(N as usize);
    let mut elapsed = 0;
    while elapsed < 3700 {
        clock.advance(Duration::from_secs(60));
        elapsed += 60;
        loop {
            let batch = lessor.expired(1000);
            assert!(batch.len() <= 1000);
            if batch.is_empty() {
                break;
            }
            for id in batch {
                assert!(ttl_of(id) <= elapsed, "lease {id} returned early");
                seen.push((ttl_of(id), id));
                // What the server's revoke does once it applies.
                lessor.revoke(id, &mut WriteBatch::default()).unwrap();
            }
        }
    }
    assert_eq!(seen.len(), N as usize, "each lease returned exactly once");
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "earliest expiry first"
    );
    assert!(lessor.expired(1000).is_empty());
}

#[test]
fn promotion_spreads_a_pile_of_expiries() {
    let clock = Arc::new(ManualClock::new());
    let lessor = Lessor::with_clock(5, Duration::from_secs(300), clock.clone());
    let mut batch = WriteBatch::default();
    for id in 1..=5000 {
        lessor.grant(id, 60, &mut batch).unwrap();
    }
    lessor.promote(Duration::from_secs(2));
    clock.advance(Duration::from_secs(62));
    let revoke_all = |ids: &[i64]| {
        for &id in ids {
            lessor.revoke(id, &mut WriteBatch::default()).unwrap();
        }
    };
    let first = lessor.expired(usize::MAX);
    assert_eq!(
        first.len(),
        750,
        "at most 3/4 of the revoke rate in the first second"
    );
    revoke_all(&first);
    let mut total = first.len();
    for _ in 0..10 {
        clock.advance(Duration::from_secs(1));
        let next = lessor.expired(usize::MAX);
        assert!(next.len() <= 751, "{}", next.len());
        revoke_all(&next);
        total += next.len();
    }
    assert_eq!(total, 5000);
    assert!(lessor.is_empty());
}
