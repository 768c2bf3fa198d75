//! Project tasks: `cargo xtask test` (the whole suite, as CI runs it), `cargo xtask lint`,
//! `cargo xtask cluster --size N` (a local cluster of our etcd), `cargo xtask bench` (ours
//! against the reference etcd).

mod bench;
mod cluster;

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "Project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run the whole test suite (what CI runs after formatting and lint checks).
    Test,
    /// cargo fmt --check and clippy with warnings denied.
    Lint,
    /// Start a local cluster on free ports; Ctrl-C stops it.
    Cluster {
        #[arg(long, default_value_t = 3)]
        size: usize,
        /// Where the members keep their data (default: a new directory under the temp dir).
        #[arg(long)]
        data_dir: Option<std::path::PathBuf>,
    },
    /// Benchmark our etcd against the reference etcd; results under target/bench.
    Bench(bench::BenchArgs),
}

fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .status()
        .with_context(|| format!("running {cargo}"))?;
    if !status.success() {
        bail!("cargo {} failed with {status}", args.join(" "));
    }
    Ok(())
}

/// The workspace's target directory (xtask runs from the workspace root).
fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        })
}

fn main() -> ExitCode {
    let result = match Cli::parse().task {
        Task::Test => cargo(&["test", "--workspace"]),
        Task::Lint => cargo(&["fmt", "--all", "--", "--check"]).and_then(|_| {
            cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
        }),
        Task::Cluster { size, data_dir } => cargo(&["build", "--release", "-p", "etcd"])
            .and_then(|_| cluster::run(&target_dir().join("release").join("etcd"), size, data_dir)),
        Task::Bench(args) => cargo(&["build", "--release", "-p", "etcd"]).and_then(|_| {
            bench::run(
                &args,
                &target_dir().join("release").join("etcd"),
                &target_dir().join("bench"),
            )
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}
