//! Harness for black-box tests: runs the real `etcd` binary on free ports in a temporary
//! data directory, waits for it the way operators do (its "ready to serve client
//! requests" log line), and drives it with etcdctl and the etcd-client crate.

#![allow(dead_code)]

pub mod cluster;
pub mod pki;
pub mod tls_probe;

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Our binary, built by cargo for this test target.
pub fn etcd_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_etcd"))
}

/// A port nobody listens on right now (the OS picks it).
pub fn free_port() -> u16 {
    etcd_launcher::free_ports(1).expect("no free port")[0]
}

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// etcdctl, or None (and a notice) when it is not installed. CI sets REQUIRE_ETCDCTL=1 so
/// that a missing etcdctl fails instead of skipping.
pub fn etcdctl() -> Option<PathBuf> {
    let found = which("etcdctl");
    if found.is_none() {
        assert!(
            std::env::var_os("REQUIRE_ETCDCTL").is_none(),
            "etcdctl is required (REQUIRE_ETCDCTL is set) but not on PATH"
        );
        eprintln!("skipping: etcdctl is not installed (apt-get install etcd-client)");
    }
    found
}

/// How long a member may take to become ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// One member process.
pub struct Member {
    pub name: String,
    pub dir: TempDir,
    pub client_port: u16,
    pub peer_port: u16,
    pub extra_args: Vec<String>,
    /// Extra environment for the process (ETCD_* variables).
    pub env: Vec<(String, String)>,
    /// Replace the standard flags entirely (e.g. to run from a config file).
    pub args_override: Option<Vec<String>>,
    /// `--initial-cluster` (default: this member alone).
    pub initial_cluster: Option<String>,
    /// `--initial-cluster-state`.
    pub cluster_state: &'static str,
    /// `--initial-cluster-token`.
    pub token: String,
    /// Scheme of the client URLs (`http` or `https`).
    pub client_scheme: &'static str,
    /// Scheme of the peer URLs (`http` or `https`).
    pub peer_scheme: &'static str,
    child: Option<Child>,
    log_offset: u64,
}

impl Member {
    /// A single-member cluster in a fresh data directory (not started).
    pub fn new(extra_args: &[&str]) -> Member {
        Member {
            name: "default".into(),
            dir: tempfile::tempdir().expect("tempdir"),
            client_port: free_port(),
            peer_port: free_port(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            args_override: None,
            initial_cluster: None,
            cluster_state: "new",
            token: "etcd-cluster".into(),
            client_scheme: "http",
            peer_scheme: "http",
            child: None,
            log_offset: 0,
        }
    }

    /// Starts a single member and waits until it serves clients.
    pub fn start(extra_args: &[&str]) -> Member {
        let mut m = Member::new(extra_args);
        m.spawn();
        m.wait_ready();
        m
    }

    /// This member as the shared launcher (`crates/launcher`) lays members out.
    pub fn spec(&self) -> etcd_launcher::MemberSpec {
        etcd_launcher::MemberSpec {
            name: self.name.clone(),
            client_port: self.client_port,
            peer_port: self.peer_port,
            client_scheme: self.client_scheme,
            peer_scheme: self.peer_scheme,
        }
    }

    pub fn endpoint(&self) -> String {
        self.spec().client_url()
    }

    pub fn peer_url(&self) -> String {
        self.spec().peer_url()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("etcd.log")
    }

    /// The flags a member of a one-member cluster runs with.
    pub fn args(&self) -> Vec<String> {
        if let Some(args) = &self.args_override {
            return args.clone();
        }
        let spec = self.spec();
        let initial = self
            .initial_cluster
            .clone()
            .unwrap_or_else(|| etcd_launcher::initial_cluster(std::slice::from_ref(&spec)));
        let mut args = spec.args(&self.data_dir(), &initial, &self.token, self.cluster_state);
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// Starts the process with [`Member::args`]; its stderr is appended to the log file.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "member already running");
        self.log_offset = std::fs::metadata(self.log_path())
            .map(|m| m.len())
            .unwrap_or(0);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let child = Command::new(etcd_bin())
            .args(self.args())
            .current_dir(self.dir.path())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn etcd");
        self.child = Some(child);
    }

    /// Log written since the last spawn.
    pub fn log_since_spawn(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = File::open(self.log_path()) {
            let mut all = Vec::new();
            let _ = f.read_to_end(&mut all);
            let start = (self.log_offset as usize).min(all.len());
            s = String::from_utf8_lossy(&all[start..]).into_owned();
        }
        s
    }

    /// The whole log of this member (every run).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Waits for "ready to serve client requests" in this run's log. Panics with the log
    /// if the process exits or the timeout passes first.
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if self
                .log_since_spawn()
                .contains("ready to serve client requests")
            {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "etcd exited with {status} before it was ready; log:\n{}",
                    self.log_since_spawn()
                );
            }
            assert!(
                Instant::now() < deadline,
                "etcd not ready after {READY_TIMEOUT:?}; log:\n{}",
                self.log_since_spawn()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to exit on its own (for start-up failures).
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("member not running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "etcd still running after {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// kill -9: no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a graceful exit.
    pub fn terminate(&mut self) -> ExitStatus {
        self.stop_with_signal("TERM")
    }

    /// SIGINT (Ctrl-C) and wait for a graceful exit.
    pub fn interrupt(&mut self) -> ExitStatus {
        self.stop_with_signal("INT")
    }

    fn stop_with_signal(&mut self, signal: &str) -> ExitStatus {
        let mut c = self.child.take().expect("member not running");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(c.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = c.try_wait().expect("try_wait") {
                return s;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                panic!(
                    "etcd did not exit within 30s of SIG{signal}; log:\n{}",
                    self.log_since_spawn()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether a process was started and not yet reaped by this harness.
    pub fn has_child(&self) -> bool {
        self.child.is_some()
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// The last WAL segment file (by name) of this member.
    pub fn last_wal_segment(&self) -> PathBuf {
        let wal = self.data_dir().join("member").join("wal");
        let mut segs: Vec<PathBuf> = std::fs::read_dir(&wal)
            .expect("wal dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wal"))
            .collect();
        segs.sort();
        segs.pop().expect("no WAL segment")
    }

    /// An etcd-client connected to this member.
    pub async fn client(&self) -> etcd_client::Client {
        etcd_client::Client::connect([self.endpoint()], None)
            .await
            .expect("connect")
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs etcdctl (API v3) against `endpoint`.
pub fn ctl(etcdctl: &Path, endpoint: &str, args: &[&str]) -> Output {
    Command::new(etcdctl)
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={endpoint}"))
        .args(args)
        .output()
        .expect("run etcdctl")
}

/// Runs etcdctl with `stdin` as its input (for interactive commands such as `txn -i`).
pub fn ctl_stdin(etcdctl: &Path, endpoint: &str, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(etcdctl)
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={endpoint}"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run etcdctl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("etcdctl output")
}

/// etcdctl's stdout, asserting that it succeeded.
pub fn ctl_ok(etcdctl: &Path, endpoint: &str, args: &[&str]) -> String {
    let out = ctl(etcdctl, endpoint, args);
    assert!(
        out.status.success(),
        "etcdctl {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tokio runtime for tests that use the async client.
/// Polls `f` until it returns true or `timeout` passes.
pub fn eventually(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}
