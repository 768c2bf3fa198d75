//! The text report, in etcd's words and layout (`Summary:`, `Response time histogram:`,
//! `Latency distribution:`, `Error distribution:`), seconds with four decimals.

use std::fmt::{self, Display, Formatter};

use crate::Summary;

/// Character of the histogram bars, as etcd's report draws them.
const BAR_CHAR: char = '∎';

/// Length of the longest histogram bar.
const BAR_WIDTH: u64 = 40;

fn secs(ms: f64) -> f64 {
    ms / 1000.0
}

impl Display for Summary {
    /// Prints nothing but the error distribution when no request succeeded, as etcd does.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.requests > 0 {
            let l = &self.latency_ms;
            writeln!(f, "\nSummary:")?;
            writeln!(f, "  Total:\t{:4.4} secs.", self.total_secs)?;
            writeln!(f, "  Slowest:\t{:4.4} secs.", secs(l.max))?;
            writeln!(f, "  Fastest:\t{:4.4} secs.", secs(l.min))?;
            writeln!(f, "  Average:\t{:4.4} secs.", secs(l.avg))?;
            writeln!(f, "  Stddev:\t{:4.4} secs.", secs(l.stddev))?;
            writeln!(f, "  Requests/sec:\t{:4.4}", self.rps)?;
            write_histogram(f, self)?;
            write_latencies(f, self)?;
        }
        write_errors(f, self)
    }
}

fn write_histogram(f: &mut Formatter<'_>, s: &Summary) -> fmt::Result {
    writeln!(f, "\nResponse time histogram:")?;
    let max = s.histogram.iter().map(|b| b.count).max().unwrap_or(0);
    for bucket in &s.histogram {
        let bar_len = (bucket.count * BAR_WIDTH).checked_div(max).unwrap_or(0);
        let bar: String = std::iter::repeat_n(BAR_CHAR, bar_len as usize).collect();
        writeln!(f, "  {:4.4} [{}]\t|{bar}", secs(bucket.le_ms), bucket.count)?;
    }
    Ok(())
}

fn write_latencies(f: &mut Formatter<'_>, s: &Summary) -> fmt::Result {
    writeln!(f, "\nLatency distribution:")?;
    for p in s.percentiles_ms.iter().filter(|p| p.ms > 0.0) {
        writeln!(f, "  {}% in {:4.4} secs.", p.pct, secs(p.ms))?;
    }
    Ok(())
}

fn write_errors(f: &mut Formatter<'_>, s: &Summary) -> fmt::Result {
    if s.error_counts.is_empty() {
        return Ok(());
    }
    writeln!(f, "\nError distribution:")?;
    let mut errors: Vec<_> = s.error_counts.iter().collect();
    errors.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    for (message, n) in errors {
        writeln!(f, "  [{n}]\t{message}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::Recorder;

    use super::*;

    fn summary() -> Summary {
        let mut r = Recorder::new();
        for us in [1000, 2000, 2000, 11000] {
            r.record_us(us);
        }
        Summary::new("put", &r, Duration::from_millis(2500))
    }

    #[test]
    fn summary_block_matches_etcd_layout() {
        let text = summary().to_string();
        let head: Vec<&str> = text.lines().take(8).collect();
        assert_eq!(
            head,
            [
                "",
                "Summary:",
                "  Total:\t2.5000 secs.",
                "  Slowest:\t0.0110 secs.",
                "  Fastest:\t0.0010 secs.",
                "  Average:\t0.0040 secs.",
                "  Stddev:\t0.0041 secs.",
                "  Requests/sec:\t1.6000",
            ]
        );
    }

    #[test]
    fn histogram_bars_scale_to_the_fullest_bucket() {
        let text = summary().to_string();
        let lines: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != "Response time histogram:")
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), 11);
        assert_eq!(lines[0], format!("  0.0010 [1]\t|{}", "∎".repeat(20)));
        assert_eq!(lines[1], format!("  0.0020 [2]\t|{}", "∎".repeat(40)));
        assert_eq!(lines[2], "  0.0030 [0]\t|");
        assert_eq!(lines[10], format!("  0.0110 [1]\t|{}", "∎".repeat(20)));
    }

    #[test]
    fn latency_distribution_lists_etcd_percentiles() {
        let text = summary().to_string();
        let lines: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != "Latency distribution:")
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        assert_eq!(
            lines,
            [
                "  10% in 0.0010 secs.",
                "  25% in 0.0010 secs.",
                "  50% in 0.0020 secs.",
                "  75% in 0.0020 secs.",
                "  90% in 0.0110 secs.",
                "  95% in 0.0110 secs.",
                "  99% in 0.0110 secs.",
                "  99.9% in 0.0110 secs.",
            ]
        );
    }

    #[test]
    fn errors_only_when_nothing_succeeded() {
        let mut r = Recorder::new();
        r.record_errors("rpc error: code = Unavailable desc = down", 3);
        r.record_error("other");
        let text = Summary::new("put", &r, Duration::from_secs(1)).to_string();
        assert_eq!(
            text,
            "\nError distribution:\n  [3]\trpc error: code = Unavailable desc = down\n  [1]\tother\n"
        );
    }
}
