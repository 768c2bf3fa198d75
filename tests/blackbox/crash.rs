//! kill -9 in the middle of a sequential write loop, again and again: every write the
//! server acknowledged must be there after the restart, and revisions never go backwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use etcd_client::GetOptions;

use crate::support::{Member, rt};

const ROUNDS: u64 = 20;

fn key(n: i64) -> String {
    format!("crash/{n:08}")
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    // A small snapshot count makes snapshots and WAL segment release happen between
    // kills, so a kill also lands in the middle of those.
    let mut m = Member::new(&["--snapshot-count", "100"]);
    let rt = rt();
    // Highest n acknowledged so far (-1: none) and the revision of that acknowledgement.
    let acked = Arc::new(AtomicI64::new(-1));
    let acked_rev = Arc::new(AtomicI64::new(0));
    for round in 0..ROUNDS {
        m.spawn();
        m.wait_ready();
        rt.block_on(async {
            let mut c = m.client().await;
            // Everything acknowledged before the kill is there, with its value.
            let last = acked.load(Ordering::SeqCst);
            let r = c
                .get("crash/", Some(GetOptions::new().with_prefix()))
                .await
                .unwrap();
            let rev_now = r.header().unwrap().revision();
            assert!(
                rev_now >= acked_rev.load(Ordering::SeqCst),
                "round {round}: revision went backwards: {rev_now} < {}",
                acked_rev.load(Ordering::SeqCst)
            );
            let present: Vec<i64> = r
                .kvs()
                .iter()
                .map(|kv| kv.value_str().unwrap().parse().unwrap())
                .collect();
            for n in 0..=last {
                assert!(
                    present.binary_search(&n).is_ok(),
                    "round {round}: acknowledged write {n} lost (last acked {last})"
                );
            }
            for kv in r.kvs() {
                assert_eq!(
                    kv.key_str().unwrap(),
                    key(kv.value_str().unwrap().parse().unwrap())
                );
            }
        });

        // Write sequentially until killed.
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (acked, acked_rev, stop) = (acked.clone(), acked_rev.clone(), stop.clone());
            let endpoint = m.endpoint();
            rt.spawn(async move {
                let Ok(mut c) = etcd_client::Client::connect([endpoint], None).await else {
                    return;
                };
                let mut n = acked.load(Ordering::SeqCst) + 1;
                while !stop.load(Ordering::SeqCst) {
                    match c.put(key(n), n.to_string(), None).await {
                        Ok(r) => {
                            let rev = r.header().map(|h| h.revision()).unwrap_or(0);
                            assert!(
                                rev > acked_rev.load(Ordering::SeqCst),
                                "revision did not increase"
                            );
                            acked_rev.store(rev, Ordering::SeqCst);
                            acked.store(n, Ordering::SeqCst);
                            n += 1;
                        }
                        Err(_) => break, // the server is gone
                    }
                }
            })
        };
        // Vary where in the stream of writes the kill lands.
        std::thread::sleep(Duration::from_millis(60 + (round * 53) % 400));
        m.kill9();
        stop.store(true, Ordering::SeqCst);
        rt.block_on(writer).unwrap();
    }
    assert!(
        acked.load(Ordering::SeqCst) > ROUNDS as i64,
        "the loop wrote almost nothing"
    );
}
