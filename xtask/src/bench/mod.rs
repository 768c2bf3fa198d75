//! `cargo xtask bench`: our etcd against the reference etcd on the standard workloads,
//! in fresh clusters of 1 and 3 members, rounds interleaved (ours, reference, ours, ...);
//! writes `results.json`, `report.md` and `chart.png` and prints the table.

mod chart;
mod local_cluster;
mod report;
mod results;
mod rss;
mod systems;
mod workloads;

use std::path::Path;

use anyhow::{Context, Result};

use local_cluster::LocalCluster;
use report::Report;
use results::{ClusterRun, Results, WorkloadRun, WorkloadSpec};
use systems::System;
use workloads::Standard;

/// Cluster sizes, each a fresh cluster per system and round.
const SIZES: [usize; 2] = [1, 3];

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Smaller totals, for a quick check that everything works.
    #[arg(long)]
    pub quick: bool,
    /// Run only this workload (put-256, put-1, range-l-256, range-s-256, txn-put-64,
    /// watch-1000, lease-keepalive).
    #[arg(long)]
    pub only: Option<String>,
    /// Rounds of ours and reference, interleaved; the report shows medians.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
}

/// Runs the bench with our binary `ours`, writing into `out_dir`.
pub fn run(args: &BenchArgs, ours: &Path, out_dir: &Path) -> Result<()> {
    let workloads = workloads::select(args.only.as_deref(), args.quick)?;
    let mut systems = vec![systems::ours(ours)?];
    match systems::reference(&systems[0].binary) {
        Ok(reference) => systems.push(reference),
        Err(notice) => eprintln!("bench: {notice}"),
    }
    for s in &systems {
        println!("{}: {} ({})", s.name, s.binary.display(), s.version);
    }
    std::fs::create_dir_all(out_dir).with_context(|| format!("create {}", out_dir.display()))?;
    let out_dir = &out_dir.canonicalize()?;
    let runtime = tokio::runtime::Runtime::new().context("start the tokio runtime")?;
    let mut results = Results {
        quick: args.quick,
        rounds: args.rounds,
        systems: systems.clone(),
        workloads: workloads
            .iter()
            .map(|w| WorkloadSpec {
                name: w.name.to_owned(),
                command: w.command_line(),
            })
            .collect(),
        clusters: Vec::new(),
    };
    let results_path = out_dir.join("results.json");
    for round in 1..=args.rounds {
        for size in SIZES {
            for system in &systems {
                let run = runtime.block_on(bench_cluster(system, size, round, &workloads, out_dir));
                results.clusters.push(run);
                results.save(&results_path)?;
            }
        }
    }
    let report = Report::new(&results);
    let table = report.table();
    let budgets = report.budget_lines();
    std::fs::write(
        out_dir.join("report.md"),
        markdown(&results, &table, &budgets, &report.notes),
    )
    .context("write report.md")?;
    if let Err(e) = chart::draw(&report.rows, &out_dir.join("chart.png")) {
        eprintln!("bench: could not draw chart.png: {e:#}");
    }
    println!("\n{table}\nBudgets (issue \"Benchmark tool\"):\n{budgets}");
    for note in &report.notes {
        println!("note: {note}");
    }
    println!(
        "\nwritten: {}/{{results.json,report.md,chart.png}}",
        out_dir.display()
    );
    Ok(())
}

/// One fresh cluster of `system` with every workload run against it. Failures are
/// recorded in the run, not returned, so the bench goes on.
async fn bench_cluster(
    system: &System,
    size: usize,
    round: u32,
    workloads: &[Standard],
    out_dir: &Path,
) -> ClusterRun {
    let mut run = ClusterRun {
        round,
        system: system.name.to_owned(),
        size,
        error: None,
        members_peak_rss_kib: Vec::new(),
        killed: Vec::new(),
        workloads: Vec::new(),
    };
    let at = format!("round {round}: {:<9} x{size}", system.name);
    let mut cluster = match LocalCluster::start(&system.binary, size, out_dir).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{at}: cluster failed to start: {e:#}");
            run.error = Some(format!("{e:#}"));
            return run;
        }
    };
    let endpoints = cluster.endpoints();
    for w in workloads {
        let outcome = w.run(&endpoints).await;
        let rss = cluster.peak_rss_kib();
        let wr = WorkloadRun {
            workload: w.name.to_owned(),
            error: outcome.as_ref().err().map(|e| format!("{e:#}")),
            outcome: outcome.ok(),
            members_peak_rss_kib: rss,
        };
        match (&wr.outcome, &wr.error) {
            (Some(o), _) => println!(
                "{at}: {:<16} {:>9.0} req/s  p99 {:>8.2} ms  errors {}  peak RSS {:.1} MiB",
                w.name,
                o.summary.rps,
                o.summary.latency_ms.p99,
                o.summary.errors,
                wr.peak_rss_kib().unwrap_or(0) as f64 / 1024.0
            ),
            (None, Some(e)) => eprintln!("{at}: {} failed: {e}", w.name),
            (None, None) => {}
        }
        run.workloads.push(wr);
    }
    run.members_peak_rss_kib = cluster.peak_rss_kib();
    run.killed = cluster.stop().await;
    run
}

/// The content of `report.md`.
fn markdown(results: &Results, table: &str, budgets: &str, notes: &[String]) -> String {
    let mut md = String::from("# Benchmark: our etcd against the reference etcd\n\n");
    for s in &results.systems {
        md.push_str(&format!(
            "- {}: `{}` ({})\n",
            s.name,
            s.binary.display(),
            s.version
        ));
    }
    md.push_str(&format!(
        "- {} round(s), median shown; {} totals; clusters of {:?} members, fsync on\n\n",
        results.rounds,
        if results.quick { "quick" } else { "full" },
        SIZES
    ));
    md.push_str(table);
    md.push_str(
        "\nPeak RSS: the largest member's VmHWM right after the workload (workloads share \
         one cluster per system, size and round, in the order below).\n\n## Budgets\n\n",
    );
    md.push_str(budgets);
    if !notes.is_empty() {
        md.push_str("\n## Notes\n\n");
        for n in notes {
            md.push_str(&format!("- {n}\n"));
        }
    }
    md.push_str("\n## Workloads\n\n");
    for w in &results.workloads {
        md.push_str(&format!("- {}: `benchmark {}`\n", w.name, w.command));
    }
    md
}
