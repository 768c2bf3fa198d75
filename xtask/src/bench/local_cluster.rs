//! A throwaway cluster of one etcd binary for one benchmark round: members on free ports,
//! data and logs in a temporary directory that is deleted when the cluster is dropped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use etcd_api::etcdserverpb::StatusRequest;
use etcd_api::etcdserverpb::maintenance_client::MaintenanceClient;
use tempfile::TempDir;

use super::rss;
use etcd_launcher::plan;

/// How long every member has to answer `Status` with a leader.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one `Status` probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Time between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// Grace period between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Fresh ports are tried this often: a picked port may be taken before etcd binds it.
const START_ATTEMPTS: usize = 3;
/// Lines of a member's log quoted when it fails to start.
const LOG_TAIL_LINES: usize = 20;

struct Member {
    name: String,
    /// `http://127.0.0.1:port` of the client listener.
    endpoint: String,
    child: Child,
    log: PathBuf,
}

/// A running cluster. Invariant: every member process is reaped before the data
/// directory is removed (`stop`, or `Drop` on error paths, kills what is left first).
pub struct LocalCluster {
    members: Vec<Member>,
    dir: TempDir,
}

impl LocalCluster {
    /// Starts `size` members of `binary` with data under a new directory in `parent`, and
    /// waits until every member answers `Status` and knows a leader.
    pub async fn start(binary: &Path, size: usize, parent: &Path) -> Result<Self> {
        let mut failure = None;
        for attempt in 1..=START_ATTEMPTS {
            match Self::try_start(binary, size, parent).await {
                Ok(cluster) => return Ok(cluster),
                Err(e) => {
                    eprintln!("bench: cluster start attempt {attempt} failed: {e:#}");
                    failure = Some(e);
                }
            }
        }
        Err(failure.unwrap_or_else(|| anyhow::anyhow!("no start attempt was made")))
    }

    async fn try_start(binary: &Path, size: usize, parent: &Path) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("cluster-")
            .tempdir_in(parent)
            .with_context(|| format!("create a data directory in {}", parent.display()))?;
        let token = dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bench".to_owned());
        let (specs, initial) = plan(size)?;
        let mut cluster = Self {
            members: Vec::with_capacity(size),
            dir,
        };
        for spec in &specs {
            let log = cluster.dir.path().join(format!("{}.log", spec.name));
            let out = File::create(&log).with_context(|| format!("create {}", log.display()))?;
            let err = out.try_clone()?;
            let data = cluster.dir.path().join(&spec.name);
            let child = Command::new(binary)
                .args(spec.args(&data, &initial, &token, "new"))
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .with_context(|| format!("start {}", binary.display()))?;
            cluster.members.push(Member {
                name: spec.name.clone(),
                endpoint: spec.client_url(),
                child,
                log,
            });
        }
        cluster.wait_ready().await?;
        Ok(cluster)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            for m in &mut self.members {
                if let Some(status) = m.child.try_wait()? {
                    bail!(
                        "{} exited with {status} before it was ready; log tail:\n{}",
                        m.name,
                        log_tail(&m.log)
                    );
                }
            }
            let mut ready = true;
            for m in &self.members {
                ready &= knows_leader(&m.endpoint).await;
            }
            if ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let tails: Vec<String> = self
                    .members
                    .iter()
                    .map(|m| format!("[{}]\n{}", m.name, log_tail(&m.log)))
                    .collect();
                bail!(
                    "members not ready within {READY_TIMEOUT:?}; log tails:\n{}",
                    tails.join("\n")
                );
            }
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
    }

    /// Client URLs of the members, in member order.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(|m| m.endpoint.clone()).collect()
    }

    /// Each member's peak RSS so far in KiB (`None` for a member that has exited).
    pub fn peak_rss_kib(&mut self) -> Vec<Option<u64>> {
        self.members
            .iter_mut()
            .map(|m| match m.child.try_wait() {
                Ok(None) => rss::peak_rss_kib(m.child.id()),
                _ => None,
            })
            .collect()
    }

    /// SIGTERM to every member, SIGKILL to those still running after the grace period;
    /// then the data is deleted. Returns the names of members that had to be killed.
    pub async fn stop(mut self) -> Vec<String> {
        for m in &self.members {
            // `kill` keeps this crate free of unsafe signal calls.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(m.child.id().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline
            && self
                .members
                .iter_mut()
                .any(|m| matches!(m.child.try_wait(), Ok(None)))
        {
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
        let mut killed = Vec::new();
        for m in &mut self.members {
            if matches!(m.child.try_wait(), Ok(None)) {
                killed.push(m.name.clone());
            }
        }
        killed
        // Drop kills and reaps the stragglers, then removes the directory.
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for m in &mut self.members {
            if matches!(m.child.try_wait(), Ok(None)) {
                let _ = m.child.kill();
            }
            let _ = m.child.wait();
        }
    }
}

/// Whether the member at `endpoint` answers `Status` and reports a leader.
async fn knows_leader(endpoint: &str) -> bool {
    let probe = async {
        let mut client = MaintenanceClient::connect(endpoint.to_owned()).await.ok()?;
        let status = client.status(StatusRequest {}).await.ok()?.into_inner();
        Some(status.leader != 0)
    };
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, probe).await,
        Ok(Some(true))
    )
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}
