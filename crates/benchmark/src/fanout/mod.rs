//! The watch fan-out engine behind `watch` and `watch-latency`: create the watchers over
//! several streams, let one writer put to the watched keys, and time each delivery.

mod payload;
mod reader;
mod streams;
mod writer;

use std::time::{Duration, Instant};

use bytes::Bytes;
use etcd_api::etcdserverpb::kv_client::KvClient;
use futures::future::try_join_all;
use tokio::sync::watch;

use crate::connect::Connections;
use crate::{Error, Options, Outcome, Recorder, Summary, progress};

use payload::Clock;
pub(crate) use payload::HEADER_LEN;
use reader::{ReadContext, StreamTally};
use writer::{WritePlan, Written};

/// Where an event's latency is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// From the moment the writer sent the put (stamped in the value).
    PutSent,
    /// From the moment the put's response arrived, as etcd's watch-latency measures;
    /// events that beat the response count as zero.
    PutAcked,
}

/// A fan-out run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Name of the main summary.
    pub name: &'static str,
    pub keys: Vec<Bytes>,
    /// Key index of each watcher; watcher `w` lives on stream `w % streams`.
    pub watcher_keys: Vec<usize>,
    pub streams: usize,
    pub put_total: u64,
    pub put_rate: u64,
    pub value_size: usize,
    pub origin: Origin,
    /// How long readers wait for missing events after the writer is done.
    pub idle_timeout: Duration,
}

impl Plan {
    /// Key indices of the watchers of each non-empty stream.
    fn streams(&self) -> Vec<Vec<usize>> {
        let count = self.streams.max(1);
        let mut streams = vec![Vec::new(); count];
        for (w, &k) in self.watcher_keys.iter().enumerate() {
            streams[w % count].push(k);
        }
        streams.retain(|s| !s.is_empty());
        streams
    }

    /// Events the run should deliver if every put succeeds.
    fn planned_events(&self) -> u64 {
        let keys = self.keys.len().max(1) as u64;
        let puts_to = |k: usize| {
            let k = k as u64;
            self.put_total / keys + u64::from(k < self.put_total % keys)
        };
        self.watcher_keys.iter().map(|&k| puts_to(k)).sum()
    }
}

/// Runs `plan`: phases `watch-create` and `put`, main summary of event deliveries.
pub(crate) async fn run(
    plan: Plan,
    options: &Options,
    conns: &Connections,
) -> Result<Outcome, Error> {
    let clock = Clock::new();
    let create_start = Instant::now();
    let opened = try_join_all(
        plan.streams()
            .iter()
            .enumerate()
            .map(|(s, keys)| streams::open(conns.for_client(s), &plan.keys, keys)),
    )
    .await?;
    let create_elapsed = create_start.elapsed();
    let mut created = Recorder::new();
    for stream in &opened {
        created.merge(&stream.created)?;
    }

    let bar = progress::bar(options.progress, plan.planned_events());
    let (done, final_counts) = watch::channel(None);
    let ctx = ReadContext {
        clock,
        origin: plan.origin,
        progress: bar.clone(),
        idle_timeout: plan.idle_timeout,
    };
    let readers: Vec<_> = opened
        .into_iter()
        .map(|stream| tokio::spawn(reader::read(stream, final_counts.clone(), ctx.clone())))
        .collect();
    drop(final_counts);
    let write_plan = WritePlan {
        keys: &plan.keys,
        put_total: plan.put_total,
        put_rate: plan.put_rate,
        value_size: plan.value_size,
    };
    let written = writer::write(KvClient::new(conns.for_client(0)), write_plan, clock, done).await;
    let mut tallies = Vec::with_capacity(readers.len());
    for reader in readers {
        tallies.push(reader.await?);
    }
    bar.finish_and_clear();

    let events = events_summary(plan.name, plan.origin, &tallies, &written)?;
    Ok(Outcome {
        summary: events,
        phases: vec![
            Summary::new("watch-create", &created, create_elapsed),
            Summary::new("put", &written.recorder, written.elapsed),
        ],
    })
}

/// Merges the streams' results; wall time runs from the first put to the last event.
fn events_summary(
    name: &str,
    origin: Origin,
    tallies: &[StreamTally],
    written: &Written,
) -> Result<Summary, Error> {
    let mut events = Recorder::new();
    let mut last_event_ns = 0;
    for tally in tallies {
        events.merge(&tally.recorder)?;
        last_event_ns = last_event_ns.max(tally.last_event_ns);
        if origin == Origin::PutAcked {
            for arrival in &tally.arrivals {
                let from = usize::try_from(arrival.index)
                    .ok()
                    .and_then(|i| written.acked_ns.get(i).copied().flatten())
                    .unwrap_or(arrival.sent_ns);
                events.record_us(arrival.at_ns.saturating_sub(from) / 1000);
            }
        }
    }
    let wall = if events.count() > 0 {
        Duration::from_nanos(last_event_ns.saturating_sub(written.start_ns))
    } else {
        written.elapsed
    };
    Ok(Summary::new(name, &events, wall))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(keys: usize, watchers: usize, streams: usize, put_total: u64) -> Plan {
        Plan {
            name: "watch",
            keys: (0..keys).map(|i| Bytes::from(vec![i as u8])).collect(),
            watcher_keys: (0..watchers).map(|w| w % keys).collect(),
            streams,
            put_total,
            put_rate: 0,
            value_size: HEADER_LEN,
            origin: Origin::PutSent,
            idle_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn watchers_spread_round_robin_over_streams() {
        let streams = plan(2, 5, 2, 1).streams();
        assert_eq!(streams, [vec![0, 0, 0], vec![1, 1]]);
        // More streams than watchers: empty streams are not opened.
        assert_eq!(plan(1, 2, 4, 1).streams().len(), 2);
    }

    #[test]
    fn planned_events_count_each_watchers_puts() {
        // 10 puts over 3 keys: 4, 3, 3; watchers on keys 0,1,2,0 see 4+3+3+4.
        assert_eq!(plan(3, 4, 2, 10).planned_events(), 14);
        assert_eq!(plan(1, 6, 2, 10).planned_events(), 60);
        assert_eq!(plan(4, 4, 1, 0).planned_events(), 0);
    }

    #[test]
    fn acked_origin_measures_from_the_response() {
        let tally = StreamTally {
            arrivals: vec![
                reader::Arrival {
                    index: 0,
                    sent_ns: 1_000,
                    at_ns: 9_000,
                },
                // Arrived before the response: counts as zero.
                reader::Arrival {
                    index: 1,
                    sent_ns: 2_000,
                    at_ns: 3_000,
                },
                // Put failed (no ack): measured from the send.
                reader::Arrival {
                    index: 2,
                    sent_ns: 4_000,
                    at_ns: 10_000,
                },
            ],
            received: 3,
            last_event_ns: 10_000,
            ..StreamTally::default()
        };
        let written = Written {
            recorder: Recorder::new(),
            elapsed: Duration::from_micros(5),
            start_ns: 0,
            acked_ns: vec![Some(5_000), Some(4_000), None],
        };
        let s = events_summary("watch-latency", Origin::PutAcked, &[tally], &written).unwrap();
        assert_eq!(s.requests, 3);
        assert_eq!(s.latency_ms.min, 0.0);
        assert_eq!(s.latency_ms.max, 0.006);
        assert_eq!(s.total_secs, 10e-6);
    }
}
