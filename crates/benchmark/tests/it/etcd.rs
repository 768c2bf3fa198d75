//! A throwaway single-member reference etcd on free ports in a temporary directory.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use benchmark::Options;
use etcd_api::etcdserverpb::StatusRequest;
use etcd_api::etcdserverpb::maintenance_client::MaintenanceClient;
use tempfile::TempDir;

const READY_TIMEOUT: Duration = Duration::from_secs(20);
const START_ATTEMPTS: usize = 3;

/// A running etcd, killed on drop.
pub struct Etcd {
    child: Child,
    dir: TempDir,
    /// `127.0.0.1:port` of the client listener.
    pub endpoint: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

fn etcd_on_path() -> bool {
    Command::new("etcd")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Etcd {
    /// Starts etcd and waits until it answers `Status` with a leader; `None` (after
    /// printing a notice) when there is no `etcd` binary.
    pub async fn start(test: &str) -> Option<Etcd> {
        if !etcd_on_path() {
            eprintln!("skipping {test}: no `etcd` binary on PATH");
            return None;
        }
        for _ in 0..START_ATTEMPTS {
            if let Some(etcd) = Self::try_start().await {
                return Some(etcd);
            }
        }
        panic!("etcd did not start after {START_ATTEMPTS} attempts");
    }

    /// One attempt; `None` if etcd exited early (e.g. a port was taken meanwhile).
    async fn try_start() -> Option<Etcd> {
        let dir = tempfile::tempdir().expect("temp dir");
        let client = format!("http://127.0.0.1:{}", free_port());
        let peer = format!("http://127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.path().join("etcd.log")).expect("log file");
        let child = Command::new("etcd")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &format!("default={peer}")])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn etcd");
        let endpoint = client.trim_start_matches("http://").to_owned();
        let mut etcd = Etcd {
            child,
            dir,
            endpoint,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if etcd.child.try_wait().ok().flatten().is_some() {
                return None;
            }
            if etcd.has_leader().await {
                return Some(etcd);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(etcd.dir.path().join("etcd.log")).unwrap_or_default();
        panic!("etcd not ready within {READY_TIMEOUT:?}; log:\n{log}");
    }

    async fn has_leader(&self) -> bool {
        let Ok(mut client) = MaintenanceClient::connect(self.uri()).await else {
            return false;
        };
        client
            .status(StatusRequest {})
            .await
            .is_ok_and(|s| s.into_inner().leader != 0)
    }

    /// `http://127.0.0.1:port`, for direct clients.
    pub fn uri(&self) -> String {
        format!("http://{}", self.endpoint)
    }

    /// Benchmark options pointing at this etcd.
    pub fn options(&self, conns: usize, clients: usize) -> Options {
        Options {
            endpoints: vec![self.endpoint.clone()],
            conns,
            clients,
            ..Options::default()
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
