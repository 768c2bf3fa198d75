//! The `etcd` binary: parse etcd's flags, start a member, stop it gracefully on SIGTERM or
//! SIGINT.

use std::process::ExitCode;

use etcd_embed::config::{self, ParseOutcome};
use etcd_embed::{logging, start};
use tokio::signal::unix::{SignalKind, signal};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let env: Vec<(String, String)> = std::env::vars().collect();
    let (cfg, notices) = match config::parse(&args, &env) {
        Ok(ParseOutcome::Run { config, notices }) => (config, notices),
        Ok(ParseOutcome::Help(text)) => {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(ParseOutcome::Version) => {
            println!("etcd Version: {}", etcd_server::SERVER_VERSION);
            println!(
                "Git SHA: {}",
                option_env!("GIT_SHA").unwrap_or("Not provided")
            );
            println!("Rust implementation: {}", env!("CARGO_PKG_VERSION"));
            println!(
                "OS/Arch: {}/{}",
                std::env::consts::OS,
                std::env::consts::ARCH
            );
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    if let Err(e) = logging::init(&cfg.log_level, &cfg.log_outputs) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    for n in &notices {
        tracing::info!("{n}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cfg))
}

/// Fault injection for tests: while the file this variable names exists, the member is
/// cut off from every peer.
const BLACKHOLE_ENV: &str = "ETCDRS_FAILPOINT_PEER_BLACKHOLE_FILE";

fn watch_blackhole_file(server: std::sync::Arc<etcd_server::EtcdServer>, path: std::path::PathBuf) {
    tokio::spawn(async move {
        let mut cut = false;
        loop {
            let now = path.exists();
            if now != cut {
                cut = now;
                tracing::warn!(cut, file = %path.display(), "fault injection: peer traffic blackhole");
                server.set_peer_blackhole(cut);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
}

async fn run(cfg: config::Config) -> ExitCode {
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            tracing::error!("cannot install signal handlers");
            return ExitCode::FAILURE;
        }
    };
    let etcd = match start(cfg).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "failed to start etcd");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = std::env::var_os(BLACKHOLE_ENV) {
        watch_blackhole_file(etcd.server.clone(), path.into());
    }
    let code = tokio::select! {
        _ = term.recv() => {
            tracing::info!(signal = "TERM", "received signal; shutting down");
            ExitCode::SUCCESS
        }
        _ = int.recv() => {
            tracing::info!(signal = "INT", "received signal; shutting down");
            ExitCode::SUCCESS
        }
        _ = etcd.stopped() => {
            let reason = etcd.server.fatal_error().unwrap_or_else(|| "stopped".into());
            tracing::error!(error = %reason, "etcd stopped");
            ExitCode::FAILURE
        }
    };
    etcd.close().await;
    tracing::info!("stopped etcd server");
    code
}
