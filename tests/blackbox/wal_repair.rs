//! A WAL with a garbage tail is repaired on start (nothing acknowledged is lost); a WAL
//! corrupted before valid records is refused with a clear message, never skipped.

use std::time::Duration;

use etcd_client::GetOptions;

use crate::support::{Member, rt};

fn write_keys(m: &Member, n: usize) {
    rt().block_on(async {
        let mut c = m.client().await;
        for i in 0..n {
            c.put(format!("w/{i:04}"), format!("value-{i}"), None)
                .await
                .unwrap();
        }
    });
}

fn count_keys(m: &Member) -> usize {
    rt().block_on(async {
        let mut c = m.client().await;
        c.get(
            "w/",
            Some(GetOptions::new().with_prefix().with_count_only()),
        )
        .await
        .unwrap()
        .count() as usize
    })
}

/// Offset just past the last non-zero byte of `data`, rounded up to 8.
fn end_of_written(data: &[u8]) -> usize {
    let last = data
        .iter()
        .rposition(|b| *b != 0)
        .map(|p| p + 1)
        .unwrap_or(0);
    last.div_ceil(8) * 8
}

#[test]
fn garbage_tail_is_repaired() {
    let mut m = Member::start(&[]);
    write_keys(&m, 50);
    assert!(m.terminate().success());

    let seg = m.last_wal_segment();
    let mut data = std::fs::read(&seg).unwrap();
    let end = end_of_written(&data);
    let garbage: Vec<u8> = (0..100u32)
        .map(|i| (i.wrapping_mul(151) % 251 + 1) as u8)
        .collect();
    if data.len() < end + garbage.len() {
        data.resize(end + garbage.len(), 0);
    }
    data[end..end + garbage.len()].copy_from_slice(&garbage);
    std::fs::write(&seg, &data).unwrap();

    m.spawn();
    m.wait_ready();
    assert_eq!(count_keys(&m), 50);
    let log = m.log_since_spawn().to_lowercase();
    assert!(
        log.contains("wal tail is torn"),
        "no repair notice in the log:\n{log}"
    );
    // And it keeps working after the repair, across another restart.
    write_keys(&m, 60);
    assert!(m.terminate().success());
    m.spawn();
    m.wait_ready();
    assert_eq!(count_keys(&m), 60);
}

#[test]
fn corruption_before_valid_records_is_refused() {
    let mut m = Member::start(&[]);
    write_keys(&m, 50);
    assert!(m.terminate().success());

    let seg = m.last_wal_segment();
    let mut data = std::fs::read(&seg).unwrap();
    let end = end_of_written(&data);
    // Flip bytes a third of the way in: valid records follow the damage.
    let at = end / 3;
    for b in &mut data[at..at + 16] {
        *b ^= 0x5a;
    }
    std::fs::write(&seg, &data).unwrap();

    m.spawn();
    let status = m.wait_exit(Duration::from_secs(30));
    assert!(!status.success(), "a corrupt WAL must not be served");
    let log = m.log_since_spawn().to_lowercase();
    assert!(
        log.contains("wal") && log.contains("corrupt"),
        "no clear message:\n{log}"
    );
}
