//! Everything a bench measured, as written to `results.json`: one record per cluster run
//! (system, size, round) with each workload's outcome and the members' peak memory.

use std::path::Path;

use anyhow::{Context, Result};
use benchmark::Outcome;
use serde::Serialize;

use super::systems::System;

/// The whole bench.
#[derive(Debug, Serialize)]
pub struct Results {
    pub quick: bool,
    pub rounds: u32,
    pub systems: Vec<System>,
    /// Workload names with the equivalent `benchmark` command lines, in run order.
    pub workloads: Vec<WorkloadSpec>,
    /// Cluster runs in the order they ran.
    pub clusters: Vec<ClusterRun>,
}

#[derive(Debug, Serialize)]
pub struct WorkloadSpec {
    pub name: String,
    pub command: String,
}

/// One fresh cluster of one system, with every workload run against it.
#[derive(Debug, Serialize)]
pub struct ClusterRun {
    /// 1-based.
    pub round: u32,
    /// The system's name ([`super::systems::OURS`] or [`super::systems::REFERENCE`]).
    pub system: String,
    /// Number of members.
    pub size: usize,
    /// Why the cluster could not be started, if it could not.
    pub error: Option<String>,
    /// Each member's VmHWM (KiB) after the last workload: its peak over the whole run.
    pub members_peak_rss_kib: Vec<Option<u64>>,
    /// Members that ignored SIGTERM for the grace period and were killed.
    pub killed: Vec<String>,
    pub workloads: Vec<WorkloadRun>,
}

/// One workload against one cluster.
#[derive(Debug, Serialize)]
pub struct WorkloadRun {
    pub workload: String,
    pub outcome: Option<Outcome>,
    /// Why the workload could not run (setup failure), if it could not.
    pub error: Option<String>,
    /// Each member's VmHWM (KiB) right after this workload: the peak so far in this
    /// cluster, since workloads share it.
    pub members_peak_rss_kib: Vec<Option<u64>>,
}

impl ClusterRun {
    /// The largest member peak after the last workload, in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        max_member(&self.members_peak_rss_kib)
    }
}

impl WorkloadRun {
    /// The largest member peak right after this workload, in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        max_member(&self.members_peak_rss_kib)
    }
}

fn max_member(peaks: &[Option<u64>]) -> Option<u64> {
    peaks.iter().flatten().copied().max()
}

impl Results {
    /// Writes the results as pretty JSON (rewritten after every cluster run, so an
    /// interrupted bench keeps what it measured).
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(path, json + "\n").with_context(|| format!("write {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_take_the_largest_reporting_member() {
        let run = WorkloadRun {
            workload: "put-1".into(),
            outcome: None,
            error: None,
            members_peak_rss_kib: vec![Some(10), None, Some(30)],
        };
        assert_eq!(run.peak_rss_kib(), Some(30));
        assert_eq!(max_member(&[None, None]), None);
    }
}
