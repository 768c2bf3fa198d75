//! etcd's command line: Go-style flags, ETCD_* variables, the YAML config file, usage
//! errors with exit code 2, graceful stop on SIGTERM.

use std::process::Command;
use std::time::Duration;

use etcd_client::{Txn, TxnOp};

use crate::support::{Member, etcd_bin, rt};

fn run_etcd(args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(etcd_bin())
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap()
}

#[test]
fn unknown_flag_is_a_one_line_error_with_exit_code_2() {
    let out = run_etcd(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("flag provided but not defined: -no-such-flag"),
        "{stderr}"
    );
}

#[test]
fn invalid_value_is_a_one_line_error_with_exit_code_2() {
    for args in [["--snapshot-count=abc"], ["--initial-cluster-state=maybe"]] {
        let out = run_etcd(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("invalid value"), "{stderr}");
    }
}

#[test]
fn version_flag_prints_the_version() {
    let out = run_etcd(&["--version"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with(&format!("etcd Version: {}", etcd_server::SERVER_VERSION))
    );
}

/// A txn of two puts: refused when max-txn-ops is 1.
fn two_op_txn_refused(m: &Member) -> bool {
    rt().block_on(async {
        let mut c = m.client().await;
        let txn = Txn::new().and_then([TxnOp::put("a", "1", None), TxnOp::put("b", "2", None)]);
        match c.txn(txn).await {
            Ok(_) => false,
            Err(e) => e.to_string().contains("too many operations in txn request"),
        }
    })
}

#[test]
fn go_style_single_dash_flags_and_env_vars_are_honoured() {
    let mut m = Member::new(&["-max-txn-ops", "1"]);
    m.spawn();
    m.wait_ready();
    assert!(two_op_txn_refused(&m), "-max-txn-ops 1 not applied");

    let mut m = Member::new(&[]);
    m.env.push(("ETCD_MAX_TXN_OPS".into(), "1".into()));
    m.spawn();
    m.wait_ready();
    assert!(two_op_txn_refused(&m), "ETCD_MAX_TXN_OPS=1 not applied");
    assert!(
        m.log().contains("ETCD_MAX_TXN_OPS"),
        "the log does not mention the variable it used"
    );
}

#[test]
fn config_file_configures_the_member() {
    let mut m = Member::new(&[]);
    let yaml = format!(
        "name: cfgmember\ndata-dir: {}\nlisten-client-urls: {}\nadvertise-client-urls: {}\nlisten-peer-urls: {}\n\
         initial-advertise-peer-urls: {}\ninitial-cluster: cfgmember={}\nmax-txn-ops: 1\n",
        m.data_dir().display(),
        m.endpoint(),
        m.endpoint(),
        m.peer_url(),
        m.peer_url(),
        m.peer_url()
    );
    let path = m.dir.path().join("etcd.yaml");
    std::fs::write(&path, yaml).unwrap();
    m.args_override = Some(vec![format!("--config-file={}", path.display())]);
    m.spawn();
    m.wait_ready();
    assert!(two_op_txn_refused(&m));
    let members = rt().block_on(async { m.client().await.member_list().await.unwrap() });
    assert_eq!(members.members()[0].name(), "cfgmember");
}

#[test]
fn sigterm_and_sigint_stop_gracefully_and_data_survives() {
    let mut m = Member::start(&[]);
    rt().block_on(async { m.client().await.put("survivor", "yes", None).await.unwrap() });
    let status = m.terminate();
    assert!(status.success(), "exit status after SIGTERM {status}");
    m.spawn();
    m.wait_ready();
    rt().block_on(async { m.client().await.put("second", "yes", None).await.unwrap() });
    let status = m.interrupt();
    assert!(status.success(), "exit status after SIGINT {status}");
    m.spawn();
    m.wait_ready();
    let r = rt().block_on(async {
        let mut c = m.client().await;
        let first = c.get("survivor", None).await.unwrap();
        let second = c.get("second", None).await.unwrap();
        (first, second)
    });
    assert_eq!(r.0.kvs()[0].value_str().unwrap(), "yes");
    assert_eq!(r.1.kvs()[0].value_str().unwrap(), "yes");
}

#[test]
fn milestone_log_lines_are_etcds_json() {
    let mut m = Member::start(&[]);
    let log = m.log_since_spawn();
    for msg in [
        "starting an etcd server",
        "published local member to cluster through raft",
        "ready to serve client requests",
    ] {
        let line = log
            .lines()
            .find(|l| l.contains(msg))
            .unwrap_or_else(|| panic!("no {msg:?} line in:\n{log}"));
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert_eq!(v["msg"], msg);
        assert_eq!(v["level"], "info");
        assert!(v["ts"].is_string() && v["caller"].is_string());
    }
    // A second member on the same ports cannot start: it must fail cleanly, not hang.
    let mut clash = Member::new(&[]);
    clash.client_port = m.client_port;
    clash.spawn();
    let status = clash.wait_exit(Duration::from_secs(30));
    assert!(!status.success());
    assert!(
        clash.log().contains("address already in use")
            || clash.log().contains("Address already in use"),
        "{}",
        clash.log()
    );
    assert!(m.is_running());
}
