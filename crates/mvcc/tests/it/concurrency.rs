//! Readers never see half of a write txn, and reads at old revisions survive compaction
//! running concurrently (or fail with Compacted, never with a missing revision).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use etcd_api::etcdserverpb::RangeRequest;
use etcd_mvcc::{KvStore, MvccError};

use crate::support::*;

for_each_backend!(readers_see_whole_txns, old_reads_race_compaction_safely);

fn readers_see_whole_txns(fx: Fixture) {
    let store = Arc::new(fx.open());
    let stop = Arc::new(AtomicBool::new(false));
    let checks_of: Arc<[AtomicUsize; 2]> = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let readers: Vec<_> = (0..2)
        .map(|reader| {
            let (store, stop, counts) = (store.clone(), stop.clone(), checks_of.clone());
            std::thread::spawn(move || {
                let mut checks = 0;
                while !stop.load(Ordering::Relaxed) {
                    let r = store.range(&rr("a", "\0")).unwrap();
                    let values: Vec<_> = r.kvs.iter().map(|kv| kv.value.clone()).collect();
                    assert!(
                        values.windows(2).all(|w| w[0] == w[1]),
                        "torn read {values:?}"
                    );
                    assert!(values.is_empty() || values.len() == 3);
                    assert!(
                        r.kvs
                            .iter()
                            .all(|kv| kv.mod_revision <= r.header.unwrap().revision)
                    );
                    checks += 1;
                    counts[reader].fetch_add(1, Ordering::Relaxed);
                }
                checks
            })
        })
        .collect();
    // At least 300 txns, and on until EACH reader has checked a few times (the writes can
    // be done before a reader thread first runs, or one reader can be starved meanwhile).
    let mut i = 0;
    let least_checks = || checks_of.iter().map(|c| c.load(Ordering::Relaxed)).min();
    while i < 300 || least_checks() < Some(20) {
        let t = txn_req(
            vec![],
            vec![
                op_put("a", &i.to_string()),
                op_put("b", &i.to_string()),
                op_put("c", &i.to_string()),
            ],
            vec![],
        );
        txn(&store, &t).unwrap();
        if i % 50 == 49 {
            apply(&store, |t| t.compact(store.current_revision() - 10))
                .0
                .unwrap();
        }
        i += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
}

fn old_reads_race_compaction_safely(fx: Fixture) {
    let store: Arc<KvStore> = Arc::new(fx.open());
    for i in 0..200 {
        put(&store, &format!("k{}", i % 10), &i.to_string());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut ok, mut compacted) = (0, 0);
            while !stop.load(Ordering::Relaxed) || ok + compacted < 50 {
                let rev = store.compact_revision().max(1) + 3;
                match store.range(&RangeRequest {
                    revision: rev,
                    ..rr("k", "\0")
                }) {
                    Ok(r) => {
                        assert!(r.kvs.iter().all(|kv| kv.mod_revision <= rev));
                        ok += 1;
                    }
                    Err(MvccError::Compacted) => compacted += 1,
                    Err(e) => panic!("unexpected {e}"),
                }
                match store.hash_kv(rev) {
                    Ok(_) | Err(MvccError::Compacted) => {}
                    Err(e) => panic!("unexpected {e}"),
                }
            }
            (ok, compacted)
        })
    };
    let mut waiters = Vec::new();
    for c in (10..190).step_by(10) {
        put(&store, "k0", "more");
        waiters.push(apply(&store, |t| t.compact(c)).0.unwrap());
    }
    for w in waiters {
        w.wait();
    }
    stop.store(true, Ordering::Relaxed);
    let (ok, compacted) = reader.join().unwrap();
    assert!(ok + compacted >= 50);
    let c = store.compact_revision();
    let r = store
        .range(&RangeRequest {
            revision: c,
            ..rr("k", "\0")
        })
        .unwrap();
    assert_eq!(r.count, 10);
}
