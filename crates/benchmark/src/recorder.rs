//! Per-task latency recording: an HdrHistogram in microseconds for percentiles and the
//! bar chart, exact sums for mean and deviation, and error counts by message.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::Error;

/// Latencies of successful requests and counts of failed ones, for one task or merged.
#[derive(Debug, Clone)]
pub struct Recorder {
    histogram: Histogram<u64>,
    count: u64,
    sum_us: f64,
    sum_sq_us: f64,
    min_us: u64,
    max_us: u64,
    errors: BTreeMap<String, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder; its histogram grows to fit any latency.
    pub fn new() -> Self {
        Self {
            // Three significant digits is a valid constant configuration; `new` only
            // fails for more than five.
            histogram: Histogram::new(3).expect("3 significant digits is a valid precision"),
            count: 0,
            sum_us: 0.0,
            sum_sq_us: 0.0,
            min_us: u64::MAX,
            max_us: 0,
            errors: BTreeMap::new(),
        }
    }

    /// Records one successful request's latency.
    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.record_us(us);
    }

    /// Records one successful request's latency in microseconds.
    pub fn record_us(&mut self, us: u64) {
        // `record` grows the histogram; only values beyond its largest possible range
        // (about 146 years in microseconds) are clamped.
        if self.histogram.record(us).is_err() {
            self.histogram.saturating_record(us);
        }
        self.count += 1;
        let v = us as f64;
        self.sum_us += v;
        self.sum_sq_us += v * v;
        self.min_us = self.min_us.min(us);
        self.max_us = self.max_us.max(us);
    }

    /// Counts `n` failures with the same message.
    pub fn record_errors(&mut self, message: impl Into<String>, n: u64) {
        if n > 0 {
            *self.errors.entry(message.into()).or_default() += n;
        }
    }

    /// Counts one failure.
    pub fn record_error(&mut self, message: impl Into<String>) {
        self.record_errors(message, 1);
    }

    /// Adds another recorder's latencies and errors to this one.
    pub fn merge(&mut self, other: &Recorder) -> Result<(), Error> {
        self.histogram.add(&other.histogram)?;
        self.count += other.count;
        self.sum_us += other.sum_us;
        self.sum_sq_us += other.sum_sq_us;
        self.min_us = self.min_us.min(other.min_us);
        self.max_us = self.max_us.max(other.max_us);
        for (message, n) in &other.errors {
            *self.errors.entry(message.clone()).or_default() += n;
        }
        Ok(())
    }

    /// Number of successful requests.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Number of failed requests.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Failed requests by message.
    pub fn errors(&self) -> &BTreeMap<String, u64> {
        &self.errors
    }

    /// Smallest latency in microseconds (0 when empty).
    pub fn min_us(&self) -> u64 {
        if self.count == 0 { 0 } else { self.min_us }
    }

    /// Largest latency in microseconds (0 when empty).
    pub fn max_us(&self) -> u64 {
        self.max_us
    }

    /// Mean latency in microseconds (0 when empty).
    pub fn mean_us(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_us / self.count as f64
        }
    }

    /// Population standard deviation in microseconds, as etcd's report computes it.
    pub fn stddev_us(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let mean = self.mean_us();
        (self.sum_sq_us / self.count as f64 - mean * mean)
            .max(0.0)
            .sqrt()
    }

    /// The latency at percentile `pct` (0..=100) in microseconds, within the exact
    /// min and max.
    pub fn percentile_us(&self, pct: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        self.histogram
            .value_at_quantile(pct / 100.0)
            .clamp(self.min_us, self.max_us)
    }

    /// Every distinct recorded latency (quantised to the histogram's precision and kept
    /// within min and max) with its count, in increasing order.
    pub fn values_us(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.histogram.iter_recorded().map(|v| {
            let value = self
                .histogram
                .median_equivalent(v.value_iterated_to())
                .clamp(self.min_us, self.max_us);
            (value, v.count_at_value())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_recorder_reports_zeros() {
        let r = Recorder::new();
        assert_eq!(r.count(), 0);
        assert_eq!(r.min_us(), 0);
        assert_eq!(r.max_us(), 0);
        assert_eq!(r.mean_us(), 0.0);
        assert_eq!(r.stddev_us(), 0.0);
        assert_eq!(r.percentile_us(50.0), 0);
        assert_eq!(r.values_us().count(), 0);
    }

    #[test]
    fn exact_statistics() {
        let mut r = Recorder::new();
        for us in [100, 200, 300, 400] {
            r.record(Duration::from_micros(us));
        }
        assert_eq!(r.count(), 4);
        assert_eq!(r.min_us(), 100);
        assert_eq!(r.max_us(), 400);
        assert_eq!(r.mean_us(), 250.0);
        // Population deviation of 100,200,300,400 is sqrt(12500).
        assert!((r.stddev_us() - 12500f64.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn percentiles_follow_the_distribution() {
        let mut r = Recorder::new();
        for us in 1..=1000 {
            r.record_us(us);
        }
        assert_eq!(r.percentile_us(10.0), 100);
        assert_eq!(r.percentile_us(50.0), 500);
        assert_eq!(r.percentile_us(99.0), 990);
        assert_eq!(r.percentile_us(100.0), 1000);
        // Quantised values stay within three significant digits.
        let p999 = r.percentile_us(99.9);
        assert!((998..=1000).contains(&p999), "{p999}");
    }

    #[test]
    fn merge_combines_latencies_and_errors() {
        let mut a = Recorder::new();
        a.record_us(10);
        a.record_error("boom");
        let mut b = Recorder::new();
        b.record_us(30);
        b.record_errors("boom", 2);
        b.record_error("bang");
        b.record_errors("never", 0);
        a.merge(&b).unwrap();
        assert_eq!(a.count(), 2);
        assert_eq!(a.min_us(), 10);
        assert_eq!(a.max_us(), 30);
        assert_eq!(a.mean_us(), 20.0);
        assert_eq!(a.error_count(), 4);
        assert_eq!(a.errors().get("boom"), Some(&3));
        assert_eq!(a.errors().get("bang"), Some(&1));
        assert!(!a.errors().contains_key("never"));
    }

    #[test]
    fn merging_an_empty_recorder_keeps_min() {
        let mut a = Recorder::new();
        a.record_us(42);
        a.merge(&Recorder::new()).unwrap();
        assert_eq!(a.min_us(), 42);
        assert_eq!(a.count(), 1);
    }

    #[test]
    fn values_sum_to_count() {
        let mut r = Recorder::new();
        for us in [9_999_999, 5, 5, 7, 123_456] {
            r.record_us(us);
        }
        let values: Vec<_> = r.values_us().collect();
        assert_eq!(values.iter().map(|(_, n)| n).sum::<u64>(), 5);
        assert_eq!(values[0], (5, 2));
        assert!(values.iter().all(|(v, _)| (5..=9_999_999).contains(v)));
    }
}
