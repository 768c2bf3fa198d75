//! The comparison drawn from the results: medians over rounds per workload and cluster
//! size, ours/reference ratios, the markdown table and the budget lines.

use super::results::{ClusterRun, Results};
use super::systems::{OURS, REFERENCE};

/// Cluster size the budgets are stated for.
pub const BUDGET_SIZE: usize = 3;

/// One system's medians for one workload and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    pub rps: f64,
    pub p99_ms: f64,
    /// Largest member's VmHWM right after the workload (peak so far in its cluster).
    pub rss_kib: Option<f64>,
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub workload: String,
    pub size: usize,
    pub ours: Option<Measure>,
    pub reference: Option<Measure>,
}

impl Row {
    pub fn rps_ratio(&self) -> Option<f64> {
        ratio(self.ours?.rps, self.reference?.rps)
    }

    pub fn p99_ratio(&self) -> Option<f64> {
        ratio(self.ours?.p99_ms, self.reference?.p99_ms)
    }

    pub fn rss_ratio(&self) -> Option<f64> {
        ratio(self.ours?.rss_kib?, self.reference?.rss_kib?)
    }
}

/// What a budget line demands of an ours/reference ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    AtLeast(f64),
    AtMost(f64),
}

/// One of the budget lines with the measured ratio.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub what: &'static str,
    pub goal: Goal,
    /// ours / reference; `None` when either side was not measured.
    pub ratio: Option<f64>,
}

impl Budget {
    /// `None` when not measured.
    pub fn met(&self) -> Option<bool> {
        let r = self.ratio?;
        Some(match self.goal {
            Goal::AtLeast(min) => r >= min,
            Goal::AtMost(max) => r <= max,
        })
    }

    pub fn line(&self) -> String {
        let verdict = match self.met() {
            Some(true) => "met",
            Some(false) => "missed",
            None => "not measured",
        };
        match self.ratio {
            Some(r) => format!("- {}: {r:.2}x -> {verdict}", self.what),
            None => format!("- {}: {verdict}", self.what),
        }
    }
}

/// The comparison of a whole bench.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub rows: Vec<Row>,
    pub budgets: Vec<Budget>,
    /// Failed clusters, failed workloads and failed requests, one line each.
    pub notes: Vec<String>,
}

/// The median; the mean of the middle two for an even count.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// `ours / reference`, when the reference is positive.
pub fn ratio(ours: f64, reference: f64) -> Option<f64> {
    (reference > 0.0).then(|| ours / reference)
}

fn sizes(results: &Results) -> Vec<usize> {
    let mut sizes: Vec<usize> = results.clusters.iter().map(|c| c.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// Medians over the rounds of `system` for `workload` at `size`.
fn measure(results: &Results, system: &str, workload: &str, size: usize) -> Option<Measure> {
    let runs: Vec<_> = results
        .clusters
        .iter()
        .filter(|c| c.system == system && c.size == size)
        .flat_map(|c| c.workloads.iter().filter(|w| w.workload == workload))
        .filter_map(|w| w.outcome.as_ref().map(|o| (o, w.peak_rss_kib())))
        .collect();
    Some(Measure {
        rps: median(runs.iter().map(|(o, _)| o.summary.rps).collect())?,
        p99_ms: median(runs.iter().map(|(o, _)| o.summary.latency_ms.p99).collect())?,
        rss_kib: median(
            runs.iter()
                .filter_map(|(_, rss)| rss.map(|kib| kib as f64))
                .collect(),
        ),
    })
}

/// Median over the rounds of the largest member's peak over the whole cluster run.
fn cluster_peak(results: &Results, system: &str, size: usize) -> Option<f64> {
    median(
        results
            .clusters
            .iter()
            .filter(|c| c.system == system && c.size == size && c.error.is_none())
            .filter_map(ClusterRun::peak_rss_kib)
            .map(|kib| kib as f64)
            .collect(),
    )
}

fn notes(results: &Results) -> Vec<String> {
    let mut notes = Vec::new();
    for c in &results.clusters {
        let at = format!("{} {} member(s), round {}", c.system, c.size, c.round);
        if let Some(e) = &c.error {
            notes.push(format!("{at}: cluster failed: {e}"));
        }
        if !c.killed.is_empty() {
            notes.push(format!("{at}: SIGKILLed {}", c.killed.join(", ")));
        }
        for w in &c.workloads {
            if let Some(e) = &w.error {
                notes.push(format!("{at}, {}: failed: {e}", w.workload));
            }
            let Some(o) = &w.outcome else { continue };
            for s in o.phases.iter().chain([&o.summary]) {
                if s.errors == 0 {
                    continue;
                }
                let first = s.error_counts.keys().next().cloned().unwrap_or_default();
                notes.push(format!(
                    "{at}, {} ({}): {} of {} requests failed, e.g. {first}",
                    w.workload,
                    s.workload,
                    s.errors,
                    s.errors + s.requests
                ));
            }
        }
    }
    notes
}

impl Report {
    pub fn new(results: &Results) -> Self {
        let mut rows = Vec::new();
        for spec in &results.workloads {
            for &size in &sizes(results) {
                rows.push(Row {
                    workload: spec.name.clone(),
                    size,
                    ours: measure(results, OURS, &spec.name, size),
                    reference: measure(results, REFERENCE, &spec.name, size),
                });
            }
        }
        let row = |name: &str| {
            rows.iter()
                .find(|r| r.workload == name && r.size == BUDGET_SIZE)
        };
        let memory = cluster_peak(results, OURS, BUDGET_SIZE)
            .zip(cluster_peak(results, REFERENCE, BUDGET_SIZE))
            .and_then(|(ours, reference)| ratio(ours, reference));
        let budgets = vec![
            Budget {
                what: "put-256 req/s >= 2x reference (3 members)",
                goal: Goal::AtLeast(2.0),
                ratio: row("put-256").and_then(Row::rps_ratio),
            },
            Budget {
                what: "put-256 p99 no worse than reference (3 members)",
                goal: Goal::AtMost(1.0),
                ratio: row("put-256").and_then(Row::p99_ratio),
            },
            Budget {
                what: "range-l-256 req/s >= 2x reference (3 members)",
                goal: Goal::AtLeast(2.0),
                ratio: row("range-l-256").and_then(Row::rps_ratio),
            },
            Budget {
                what: "put-1 req/s >= 1.2x reference (3 members)",
                goal: Goal::AtLeast(1.2),
                ratio: row("put-1").and_then(Row::rps_ratio),
            },
            Budget {
                what: "peak memory <= 1/3 of reference (3 members)",
                goal: Goal::AtMost(1.0 / 3.0),
                ratio: memory,
            },
        ];
        Self {
            rows,
            budgets,
            notes: notes(results),
        }
    }

    /// The markdown table, columns padded so it also reads well in a terminal.
    pub fn table(&self) -> String {
        let header = [
            "workload",
            "size",
            "ours req/s",
            "ref req/s",
            "ratio",
            "ours p99 ms",
            "ref p99 ms",
            "ours peak RSS MiB",
            "ref peak RSS MiB",
            "ratio",
        ]
        .map(String::from);
        let mut lines = vec![header.to_vec()];
        for r in &self.rows {
            lines.push(vec![
                r.workload.clone(),
                r.size.to_string(),
                cell(r.ours.map(|m| m.rps), 0),
                cell(r.reference.map(|m| m.rps), 0),
                times(r.rps_ratio()),
                cell(r.ours.map(|m| m.p99_ms), 2),
                cell(r.reference.map(|m| m.p99_ms), 2),
                cell(r.ours.and_then(|m| m.rss_kib).map(mib), 1),
                cell(r.reference.and_then(|m| m.rss_kib).map(mib), 1),
                times(r.rss_ratio()),
            ]);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|i| lines.iter().map(|l| l[i].len()).max().unwrap_or(0))
            .collect();
        let render = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, &w))| {
                    if i == 0 {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect();
            format!("| {} |", padded.join(" | "))
        };
        let rule: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                if i == 0 {
                    format!(":{}", "-".repeat(w.saturating_sub(1)))
                } else {
                    format!("{}:", "-".repeat(w.saturating_sub(1)))
                }
            })
            .collect();
        let mut out = vec![render(&lines[0]), render(&rule)];
        out.extend(lines[1..].iter().map(|l| render(l)));
        out.join("\n") + "\n"
    }

    /// The budget lines, one per line.
    pub fn budget_lines(&self) -> String {
        let lines: Vec<String> = self.budgets.iter().map(Budget::line).collect();
        lines.join("\n") + "\n"
    }
}

fn mib(kib: f64) -> f64 {
    kib / 1024.0
}

fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

fn times(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}x"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use benchmark::{Outcome, Recorder, Summary};

    use super::super::results::{WorkloadRun, WorkloadSpec};
    use super::*;

    #[test]
    fn median_of_odd_even_and_none() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(vec![7.0]), Some(7.0));
        assert_eq!(median(Vec::new()), None);
    }

    #[test]
    fn ratio_needs_a_positive_reference() {
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
        assert_eq!(ratio(3.0, 0.0), None);
    }

    #[test]
    fn budget_verdicts() {
        let b = |goal, ratio| Budget {
            what: "x",
            goal,
            ratio,
        };
        assert_eq!(b(Goal::AtLeast(2.0), Some(2.0)).met(), Some(true));
        assert_eq!(b(Goal::AtLeast(2.0), Some(1.99)).met(), Some(false));
        assert_eq!(b(Goal::AtMost(1.0 / 3.0), Some(0.5)).met(), Some(false));
        assert_eq!(b(Goal::AtMost(1.0), Some(0.9)).line(), "- x: 0.90x -> met");
        assert_eq!(b(Goal::AtMost(1.0), None).line(), "- x: not measured");
    }

    /// An outcome of `requests` in one second, all with latency `latency_us`.
    fn outcome(requests: u64, latency_us: u64) -> Outcome {
        let mut r = Recorder::new();
        for _ in 0..requests {
            r.record_us(latency_us);
        }
        Outcome::single(Summary::new("put", &r, Duration::from_secs(1)))
    }

    fn cluster(
        system: &str,
        size: usize,
        round: u32,
        rps: u64,
        p99_us: u64,
        kib: u64,
    ) -> ClusterRun {
        ClusterRun {
            round,
            system: system.into(),
            size,
            error: None,
            members_peak_rss_kib: vec![Some(kib), Some(kib / 2)],
            killed: Vec::new(),
            workloads: vec![WorkloadRun {
                workload: "put-256".into(),
                outcome: Some(outcome(rps, p99_us)),
                error: None,
                members_peak_rss_kib: vec![Some(kib / 2), Some(kib)],
            }],
        }
    }

    fn results(clusters: Vec<ClusterRun>) -> Results {
        Results {
            quick: true,
            rounds: 2,
            systems: Vec::new(),
            workloads: vec![WorkloadSpec {
                name: "put-256".into(),
                command: "put".into(),
            }],
            clusters,
        }
    }

    #[test]
    fn rows_take_medians_over_rounds_and_ratios() {
        let report = Report::new(&results(vec![
            cluster(OURS, 3, 1, 3000, 2000, 10240),
            cluster(REFERENCE, 3, 1, 1000, 4000, 61440),
            cluster(OURS, 3, 2, 5000, 4000, 20480),
            cluster(REFERENCE, 3, 2, 1000, 4000, 61440),
        ]));
        assert_eq!(report.rows.len(), 1);
        let row = &report.rows[0];
        let ours = row.ours.unwrap();
        assert_eq!(ours.rps, 4000.0);
        assert_eq!(ours.p99_ms, 3.0);
        assert_eq!(ours.rss_kib, Some(15360.0));
        assert_eq!(row.rps_ratio(), Some(4.0));
        assert_eq!(row.p99_ratio(), Some(0.75));
        assert_eq!(row.rss_ratio(), Some(0.25));
        let verdicts: Vec<Option<bool>> = report.budgets.iter().map(Budget::met).collect();
        // put-256 rps, put-256 p99, range-l (absent), put-1 (absent), memory.
        assert_eq!(verdicts, [Some(true), Some(true), None, None, Some(true)]);
        let table = report.table();
        let line = table.lines().nth(2).unwrap();
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        assert_eq!(
            cells[1..11],
            [
                "put-256", "3", "4000", "1000", "4.00x", "3.00", "4.00", "15.0", "60.0", "0.25x"
            ]
        );
        assert!(report.notes.is_empty());
    }

    #[test]
    fn missing_reference_and_failures_show() {
        let mut failed = cluster(OURS, 1, 1, 10, 1000, 1024);
        failed.workloads[0].error = Some("benchmark put-256: no leader".into());
        failed.workloads[0].outcome = None;
        let report = Report::new(&results(vec![failed, cluster(OURS, 3, 1, 10, 1000, 1024)]));
        assert_eq!(report.rows.len(), 2);
        assert_eq!(report.rows[0].ours, None);
        assert_eq!(report.rows[1].reference, None);
        assert!(report.rows[1].rps_ratio().is_none());
        assert!(report.table().contains("| put-256  |    1 |"));
        assert_eq!(report.notes.len(), 1);
        assert!(report.notes[0].contains("no leader"), "{:?}", report.notes);
        assert!(report.budgets.iter().all(|b| b.met().is_none()));
    }
}
