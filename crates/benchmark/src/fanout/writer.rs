//! The single writer of a fan-out run: puts cycling over the watched keys, paced to
//! `--put-rate`, each value stamped with its number and send time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use etcd_api::etcdserverpb::PutRequest;
use etcd_api::etcdserverpb::kv_client::KvClient;
use tokio::sync::watch;
use tonic::transport::Channel;

use super::payload::{Clock, HEADER_LEN, encode};
use crate::Recorder;
use crate::failure::describe;
use crate::keys::random_value;

/// What the writer is to do.
#[derive(Debug)]
pub(crate) struct WritePlan<'a> {
    pub keys: &'a [Bytes],
    pub put_total: u64,
    /// Puts per second; 0 for back to back.
    pub put_rate: u64,
    pub value_size: usize,
}

/// The writer's results.
#[derive(Debug)]
pub(crate) struct Written {
    pub recorder: Recorder,
    pub elapsed: Duration,
    /// Clock time of the first put.
    pub start_ns: u64,
    /// Clock time each put was acknowledged; `None` if it failed.
    pub acked_ns: Vec<Option<u64>>,
}

/// Put number `i` goes to key `i % keys.len()`.
fn key_index(put: u64, keys: usize) -> usize {
    (put % keys.max(1) as u64) as usize
}

/// When put number `i` is due, relative to the first.
fn due(put: u64, rate: u64) -> Duration {
    if rate == 0 {
        Duration::ZERO
    } else {
        Duration::from_secs_f64(put as f64 / rate as f64)
    }
}

/// Runs the puts, then publishes the successful puts per key on `done`.
pub(crate) async fn write(
    mut kv: KvClient<Channel>,
    plan: WritePlan<'_>,
    clock: Clock,
    done: watch::Sender<Option<Arc<Vec<u64>>>>,
) -> Written {
    let padding = random_value(plan.value_size.saturating_sub(HEADER_LEN));
    let mut recorder = Recorder::new();
    let mut acked_ns = Vec::with_capacity(usize::try_from(plan.put_total).unwrap_or(0));
    let mut successes = vec![0u64; plan.keys.len()];
    let start = Instant::now();
    let start_ns = clock.now_ns();
    for i in 0..plan.put_total {
        if plan.put_rate > 0 {
            tokio::time::sleep_until((start + due(i, plan.put_rate)).into()).await;
        }
        let k = key_index(i, plan.keys.len());
        let request = PutRequest {
            key: plan.keys.get(k).cloned().unwrap_or_default(),
            value: encode(i, clock.now_ns(), &padding),
            ..PutRequest::default()
        };
        let sent = Instant::now();
        match kv.put(request).await {
            Ok(_) => {
                recorder.record(sent.elapsed());
                acked_ns.push(Some(clock.now_ns()));
                if let Some(n) = successes.get_mut(k) {
                    *n += 1;
                }
            }
            Err(status) => {
                recorder.record_error(describe(&status));
                acked_ns.push(None);
            }
        }
    }
    let elapsed = start.elapsed();
    // Readers may all be gone already; then nobody needs the counts.
    let _ = done.send(Some(Arc::new(successes)));
    Written {
        recorder,
        elapsed,
        start_ns,
        acked_ns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puts_cycle_over_keys() {
        let got: Vec<usize> = (0..7).map(|i| key_index(i, 3)).collect();
        assert_eq!(got, [0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn pacing() {
        assert_eq!(due(5, 0), Duration::ZERO);
        assert_eq!(due(0, 100), Duration::ZERO);
        assert_eq!(due(50, 100), Duration::from_millis(500));
        assert_eq!(due(3, 1), Duration::from_secs(3));
    }
}
