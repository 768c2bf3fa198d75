//! The result of one benchmark phase: counts, rate, latency statistics, percentiles and
//! the bucketed histogram, in the shape of etcd's report and of the `--json` output.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Recorder;

/// The percentiles etcd's report lists.
pub const PERCENTILES: [f64; 8] = [10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9];

/// Number of equal-width intervals between the fastest and slowest latency; the
/// histogram has one more mark than this, as etcd's does.
pub const HISTOGRAM_INTERVALS: usize = 10;

/// Statistics of one benchmark phase. Latencies cover successful requests only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Workload or phase name (`put`, `range`, `watch`, `watch-create`, ...).
    pub workload: String,
    /// Wall time of the phase in seconds.
    pub total_secs: f64,
    /// Successful requests (or delivered watch events).
    pub requests: u64,
    /// Failed requests (or undelivered watch events).
    pub errors: u64,
    /// `requests / total_secs`.
    pub rps: f64,
    /// Latency statistics in milliseconds.
    pub latency_ms: LatencyMs,
    /// Latency at each of [`PERCENTILES`], in milliseconds.
    pub percentiles_ms: Vec<Percentile>,
    /// Latency histogram: `HISTOGRAM_INTERVALS + 1` marks from fastest to slowest, each
    /// counting the latencies above the previous mark and up to its own. Empty when no
    /// request succeeded.
    pub histogram: Vec<Bucket>,
    /// Failed requests by error message.
    #[serde(default)]
    pub error_counts: BTreeMap<String, u64>,
}

/// Latency statistics in milliseconds; all zero when no request succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LatencyMs {
    pub min: f64,
    pub avg: f64,
    pub stddev: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// One percentile of the latency distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentile {
    /// Percent, e.g. `99.9`.
    pub pct: f64,
    /// Latency in milliseconds.
    pub ms: f64,
}

/// One mark of the latency histogram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Upper bound of the bucket in milliseconds.
    pub le_ms: f64,
    /// Latencies in `(previous le_ms, le_ms]` (the first bucket: equal to the fastest).
    pub count: u64,
}

fn us_to_ms(us: f64) -> f64 {
    us / 1000.0
}

impl Summary {
    /// Summarises `recorder` for a phase that took `elapsed` of wall time.
    pub fn new(workload: impl Into<String>, recorder: &Recorder, elapsed: Duration) -> Self {
        let total_secs = elapsed.as_secs_f64();
        let requests = recorder.count();
        let rps = if total_secs > 0.0 {
            requests as f64 / total_secs
        } else {
            0.0
        };
        let pct = |p| us_to_ms(recorder.percentile_us(p) as f64);
        let latency_ms = if requests == 0 {
            LatencyMs::default()
        } else {
            LatencyMs {
                min: us_to_ms(recorder.min_us() as f64),
                avg: us_to_ms(recorder.mean_us()),
                stddev: us_to_ms(recorder.stddev_us()),
                p50: pct(50.0),
                p90: pct(90.0),
                p99: pct(99.0),
                p999: pct(99.9),
                max: us_to_ms(recorder.max_us() as f64),
            }
        };
        let percentiles_ms = if requests == 0 {
            Vec::new()
        } else {
            PERCENTILES
                .iter()
                .map(|&p| Percentile { pct: p, ms: pct(p) })
                .collect()
        };
        Self {
            workload: workload.into(),
            total_secs,
            requests,
            errors: recorder.error_count(),
            rps,
            latency_ms,
            percentiles_ms,
            histogram: histogram(recorder),
            error_counts: recorder.errors().clone(),
        }
    }
}

/// etcd's histogram: marks at fastest + i * (slowest - fastest) / 10 and at slowest;
/// each latency counts in the first mark not below it.
fn histogram(recorder: &Recorder) -> Vec<Bucket> {
    if recorder.count() == 0 {
        return Vec::new();
    }
    let fastest = recorder.min_us() as f64;
    let slowest = recorder.max_us() as f64;
    let width = (slowest - fastest) / HISTOGRAM_INTERVALS as f64;
    let mut marks: Vec<f64> = (0..HISTOGRAM_INTERVALS)
        .map(|i| fastest + width * i as f64)
        .collect();
    marks.push(slowest);
    let mut counts = vec![0u64; marks.len()];
    let mut bucket = 0;
    for (value, n) in recorder.values_us() {
        let value = value as f64;
        while bucket < marks.len() - 1 && value > marks[bucket] {
            bucket += 1;
        }
        counts[bucket] += n;
    }
    marks
        .into_iter()
        .zip(counts)
        .map(|(mark, count)| Bucket {
            le_ms: us_to_ms(mark),
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder(values_us: impl IntoIterator<Item = u64>) -> Recorder {
        let mut r = Recorder::new();
        for v in values_us {
            r.record_us(v);
        }
        r
    }

    #[test]
    fn rate_and_counts() {
        let mut r = recorder([1000; 50]);
        r.record_error("e");
        let s = Summary::new("put", &r, Duration::from_secs(2));
        assert_eq!(s.workload, "put");
        assert_eq!(s.requests, 50);
        assert_eq!(s.errors, 1);
        assert_eq!(s.rps, 25.0);
        assert_eq!(s.total_secs, 2.0);
        assert_eq!(s.latency_ms.min, 1.0);
        assert_eq!(s.latency_ms.max, 1.0);
        assert_eq!(s.latency_ms.stddev, 0.0);
        assert_eq!(s.error_counts.get("e"), Some(&1));
    }

    #[test]
    fn percentiles_in_milliseconds() {
        let s = Summary::new("x", &recorder(1..=1000), Duration::from_secs(1));
        let pcts: Vec<f64> = s.percentiles_ms.iter().map(|p| p.pct).collect();
        assert_eq!(pcts, PERCENTILES);
        assert_eq!(s.percentiles_ms[0].ms, 0.1);
        assert_eq!(s.latency_ms.p50, 0.5);
        assert_eq!(s.latency_ms.p90, 0.9);
        assert_eq!(s.latency_ms.p99, 0.99);
        assert!((s.latency_ms.avg - 0.5005).abs() < 1e-12);
    }

    #[test]
    fn histogram_has_eleven_marks_and_counts_everything() {
        let s = Summary::new("x", &recorder(0..=100), Duration::from_secs(1));
        assert_eq!(s.histogram.len(), HISTOGRAM_INTERVALS + 1);
        assert_eq!(s.histogram.iter().map(|b| b.count).sum::<u64>(), 101);
        let marks: Vec<f64> = s.histogram.iter().map(|b| b.le_ms).collect();
        assert_eq!(marks[0], 0.0);
        assert_eq!(marks[1], 0.01);
        assert_eq!(marks[10], 0.1);
        // First mark holds only the fastest; each other holds (prev, mark]: 10 values.
        assert_eq!(s.histogram[0].count, 1);
        assert!(s.histogram[1..].iter().all(|b| b.count == 10));
    }

    #[test]
    fn histogram_of_equal_latencies_lands_in_first_mark() {
        let s = Summary::new("x", &recorder([7; 3]), Duration::from_secs(1));
        assert_eq!(s.histogram[0].count, 3);
        assert!(s.histogram[1..].iter().all(|b| b.count == 0));
    }

    #[test]
    fn empty_summary() {
        let mut r = Recorder::new();
        r.record_error("down");
        let s = Summary::new("range", &r, Duration::ZERO);
        assert_eq!(s.requests, 0);
        assert_eq!(s.errors, 1);
        assert_eq!(s.rps, 0.0);
        assert!(s.histogram.is_empty());
        assert!(s.percentiles_ms.is_empty());
        assert_eq!(s.latency_ms, LatencyMs::default());
    }
}
