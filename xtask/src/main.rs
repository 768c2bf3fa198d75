//! Project tasks: `cargo xtask test` (the whole suite, as CI runs it), `cargo xtask lint`.
//! Cluster and benchmark tasks arrive with their issues.

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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}
