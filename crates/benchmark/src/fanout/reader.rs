//! Reading one watch stream during a fan-out run: timing each delivered event and
//! stopping once every event the writer's successful puts owe this stream has arrived.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use etcd_api::etcdserverpb::WatchResponse;
use etcd_api::mvccpb::event::EventType;
use indicatif::ProgressBar;
use tokio::sync::watch;
use tokio::time::Instant;

use super::Origin;
use super::payload::{Clock, decode};
use super::streams::OpenStream;
use crate::Recorder;
use crate::failure::describe;

/// Successful puts per key index, published by the writer when it is done.
pub(crate) type FinalCounts = watch::Receiver<Option<Arc<Vec<u64>>>>;

/// Error message for events that never arrived.
pub(crate) const UNDELIVERED: &str = "watch events not delivered";

/// What the reader needs besides its stream.
#[derive(Debug, Clone)]
pub(crate) struct ReadContext {
    pub clock: Clock,
    pub origin: Origin,
    pub progress: ProgressBar,
    /// How long to wait for further events once the writer is done.
    pub idle_timeout: Duration,
}

/// One event delivered, for latencies computed after the run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrival {
    pub index: u64,
    pub sent_ns: u64,
    pub at_ns: u64,
}

/// The results of one stream.
#[derive(Debug, Default)]
pub(crate) struct StreamTally {
    /// Latencies from send (for [`Origin::PutSent`]) and errors.
    pub recorder: Recorder,
    /// Deliveries, kept for [`Origin::PutAcked`].
    pub arrivals: Vec<Arrival>,
    pub received: u64,
    pub last_event_ns: u64,
}

impl StreamTally {
    /// Accounts the benchmark's put events of one response; returns how many there were.
    fn on_response(&mut self, response: WatchResponse, ctx: &ReadContext) -> u64 {
        if response.canceled {
            self.recorder
                .record_error(format!("watch canceled: {}", response.cancel_reason));
        }
        let now = ctx.clock.now_ns();
        let mut count = 0;
        for event in response.events {
            if event.r#type != EventType::Put as i32 {
                continue;
            }
            let Some((index, sent_ns)) = event.kv.as_ref().and_then(|kv| decode(&kv.value)) else {
                continue;
            };
            count += 1;
            match ctx.origin {
                Origin::PutSent => self.recorder.record_us(now.saturating_sub(sent_ns) / 1000),
                Origin::PutAcked => self.arrivals.push(Arrival {
                    index,
                    sent_ns,
                    at_ns: now,
                }),
            }
        }
        if count > 0 {
            self.received += count;
            self.last_event_ns = now;
            ctx.progress.inc(count);
        }
        count
    }
}

fn owed(watchers_per_key: &BTreeMap<usize, u64>, successes: &[u64]) -> u64 {
    watchers_per_key
        .iter()
        .map(|(&k, &n)| n * successes.get(k).copied().unwrap_or(0))
        .sum()
}

/// Reads `stream` until every owed event arrived, the stream fails, or no event came for
/// `idle_timeout` after the writer finished; events still owed are counted as errors.
pub(crate) async fn read(
    stream: OpenStream,
    mut final_counts: FinalCounts,
    ctx: ReadContext,
) -> StreamTally {
    let OpenStream {
        requests: _keep_open,
        mut responses,
        watchers_per_key,
        ..
    } = stream;
    let mut tally = StreamTally::default();
    let mut expected: Option<u64> = None;
    let mut last_activity = Instant::now();
    loop {
        if expected.is_none() {
            let counts = final_counts.borrow_and_update().clone();
            if let Some(counts) = counts {
                expected = Some(owed(&watchers_per_key, &counts));
                last_activity = Instant::now();
            }
        }
        if expected.is_some_and(|e| tally.received >= e) {
            break;
        }
        let idle_deadline = last_activity + ctx.idle_timeout;
        tokio::select! {
            message = responses.message() => match message {
                Ok(Some(response)) => {
                    if tally.on_response(response, &ctx) > 0 {
                        last_activity = Instant::now();
                    }
                }
                Ok(None) => {
                    tally.recorder.record_error("watch stream closed by the server");
                    break;
                }
                Err(status) => {
                    tally.recorder.record_error(describe(&status));
                    break;
                }
            },
            changed = final_counts.changed(), if expected.is_none() => {
                if changed.is_err() {
                    // The writer is gone without a result; nothing more is owed.
                    break;
                }
            }
            () = tokio::time::sleep_until(idle_deadline), if expected.is_some() => break,
        }
    }
    if expected.is_none() {
        let counts = final_counts
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|c| c.clone());
        expected = counts.map(|c| owed(&watchers_per_key, &c));
    }
    if let Some(e) = expected {
        tally
            .recorder
            .record_errors(UNDELIVERED, e.saturating_sub(tally.received));
    }
    tally
}

#[cfg(test)]
mod tests {
    use etcd_api::mvccpb::{Event, KeyValue};

    use super::super::payload::encode;
    use super::*;

    fn put_event(value: bytes::Bytes) -> Event {
        Event {
            r#type: EventType::Put as i32,
            kv: Some(KeyValue {
                value,
                ..KeyValue::default()
            }),
            prev_kv: None,
        }
    }

    fn ctx(origin: Origin) -> ReadContext {
        ReadContext {
            clock: Clock::new(),
            origin,
            progress: ProgressBar::hidden(),
            idle_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn owed_events_follow_watchers_and_successes() {
        let per_key = BTreeMap::from([(0, 2), (2, 3)]);
        assert_eq!(owed(&per_key, &[5, 7, 1]), 2 * 5 + 3);
        assert_eq!(owed(&per_key, &[5]), 10);
    }

    #[test]
    fn counts_only_benchmark_put_events() {
        let ctx = ctx(Origin::PutAcked);
        let mut tally = StreamTally::default();
        let response = WatchResponse {
            events: vec![
                put_event(encode(3, 0, b"")),
                put_event(bytes::Bytes::from_static(b"foreign")),
                Event {
                    r#type: EventType::Delete as i32,
                    ..Event::default()
                },
                put_event(encode(4, 0, b"xx")),
            ],
            ..WatchResponse::default()
        };
        assert_eq!(tally.on_response(response, &ctx), 2);
        assert_eq!(tally.received, 2);
        let indices: Vec<u64> = tally.arrivals.iter().map(|a| a.index).collect();
        assert_eq!(indices, [3, 4]);
        assert_eq!(tally.recorder.count(), 0);
    }

    #[test]
    fn put_sent_origin_records_latency_immediately() {
        let ctx = ctx(Origin::PutSent);
        let mut tally = StreamTally::default();
        let response = WatchResponse {
            events: vec![put_event(encode(0, 0, b""))],
            ..WatchResponse::default()
        };
        tally.on_response(response, &ctx);
        assert_eq!(tally.recorder.count(), 1);
        assert!(tally.arrivals.is_empty());
    }

    #[test]
    fn cancellation_is_an_error() {
        let mut tally = StreamTally::default();
        let response = WatchResponse {
            canceled: true,
            cancel_reason: "gone".into(),
            ..WatchResponse::default()
        };
        assert_eq!(tally.on_response(response, &ctx(Origin::PutSent)), 0);
        assert_eq!(
            tally.recorder.errors().get("watch canceled: gone"),
            Some(&1)
        );
    }
}
