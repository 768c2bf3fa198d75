//! Ten thousand watchers on one member, first on one stream, then spread over a thousand
//! streams: the server's memory per watcher and per stream is measured (printed, not
//! asserted) and one put must reach every watcher.

use std::path::Path;
use std::time::Duration;

use etcd_client::{EventType, WatchRequestSender, WatchResponseStream, WatchStream};

use super::PATIENCE;
use crate::support::{Member, rt};

const WATCHERS: usize = 10_000;
const STREAMS: usize = 1_000;
const KEY: &str = "scale/k";
/// Time for the server's allocations to settle before reading its RSS (a measurement,
/// not a synchronisation).
const SETTLE: Duration = Duration::from_millis(500);

/// The process running with `--data-dir=<data_dir>`.
fn pid_of(data_dir: &Path) -> u32 {
    let flag = format!("--data-dir={}", data_dir.display());
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|arg| arg == flag.as_bytes()))
        })
        .expect("the member's process")
}

/// VmRSS of `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

async fn settled_rss(pid: u32) -> u64 {
    tokio::time::sleep(SETTLE).await;
    rss(pid)
}

/// Reads responses until `created` created answers and `events` put events arrived.
async fn drain(stream: &mut WatchResponseStream, created: usize, events: usize) {
    let (mut c, mut e) = (0, 0);
    while c < created || e < events {
        let resp = tokio::time::timeout(PATIENCE, stream.message())
            .await
            .expect("watch response in time")
            .expect("watch stream")
            .expect("watch stream open");
        assert!(!resp.canceled(), "{}", resp.cancel_reason());
        c += usize::from(resp.created());
        e += resp
            .events()
            .iter()
            .filter(|ev| ev.event_type() == EventType::Put)
            .count();
    }
    assert_eq!((c, e), (created, events));
}

/// Opens a stream with `n` watchers on [`KEY`]; their creation is answered as they are
/// sent, so sending runs beside the reading.
/// The sender half is returned to keep the stream open.
async fn open(
    client: &mut etcd_client::Client,
    n: usize,
) -> (WatchRequestSender, WatchResponseStream) {
    let stream: WatchStream = client.watch(KEY, None).await.expect("watch");
    let (mut sender, mut responses) = stream.split();
    let send = tokio::spawn(async move {
        for _ in 1..n {
            sender.watch(KEY, None).await.expect("add a watcher");
        }
        sender
    });
    drain(&mut responses, n, 0).await;
    (send.await.expect("sender task"), responses)
}

#[test]
fn ten_thousand_watchers_on_one_stream_and_over_a_thousand_streams() {
    let m = Member::start(&[]);
    let pid = pid_of(&m.data_dir());
    rt().block_on(async {
        let mut c = m.client().await;
        c.put(KEY, "0", None).await.expect("put");
        let base = settled_rss(pid).await;

        let (_one_sender, mut one) = open(&mut c, WATCHERS).await;
        let with_one = settled_rss(pid).await;

        let mut many = Vec::with_capacity(STREAMS);
        for _ in 0..STREAMS {
            many.push(open(&mut c, WATCHERS / STREAMS).await);
        }
        let with_many = settled_rss(pid).await;

        let per_watcher = with_one.saturating_sub(base) as f64 / WATCHERS as f64;
        let per_stream = with_many.saturating_sub(with_one) as f64 / STREAMS as f64;
        eprintln!(
            "watch memory: base RSS {} KiB; {WATCHERS} watchers on 1 stream: +{} KiB = \
             {per_watcher:.0} bytes/watcher; {WATCHERS} more over {STREAMS} streams: +{} KiB \
             = {per_stream:.0} bytes/stream ({:.0} bytes/stream beyond its {} watchers)",
            base / 1024,
            with_one.saturating_sub(base) / 1024,
            with_many.saturating_sub(with_one) / 1024,
            per_stream - per_watcher * (WATCHERS / STREAMS) as f64,
            WATCHERS / STREAMS,
        );

        // One put reaches all 20,000 watchers.
        c.put(KEY, "1", None).await.expect("put");
        drain(&mut one, 0, WATCHERS).await;
        for (_, s) in &mut many {
            drain(s, 0, WATCHERS / STREAMS).await;
        }
    });
}
