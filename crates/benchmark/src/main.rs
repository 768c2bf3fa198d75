//! The `benchmark` binary: parse etcd benchmark's flags, run one workload, print the
//! summary (text, or one JSON object with `--json`).

use std::io::{ErrorKind, IsTerminal, Write};

use benchmark::cli::Cli;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let invocation = Cli::parse().into_invocation(std::io::stdout().is_terminal())?;
    let outcome = benchmark::run(&invocation.options, &invocation.workload).await?;
    let text = if invocation.json {
        format!("{}\n", outcome.to_json()?)
    } else {
        outcome.to_string()
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
