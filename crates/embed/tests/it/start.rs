//! `etcd_embed::start` when a later step fails: every listener it had already opened is
//! closed again, so a retry (or another process) can bind the same ports at once.

use std::net::TcpListener;

use crate::run;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test]
async fn a_failed_start_closes_the_listeners_it_opened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("m.etcd");
    let peer_port = free_port();
    let metrics_port = free_port();
    // The client port is taken, so the start fails after the peer listener was bound.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client_port = taken.local_addr().expect("addr").port();
    let peer_url = format!("http://127.0.0.1:{peer_port}");
    let client_url = format!("http://127.0.0.1:{client_port}");
    let cfg = run(&[
        "--name",
        "m",
        "--data-dir",
        data_dir.to_str().expect("utf-8 path"),
        "--listen-peer-urls",
        &peer_url,
        "--initial-advertise-peer-urls",
        &peer_url,
        "--initial-cluster",
        &format!("m={peer_url}"),
        "--listen-client-urls",
        &client_url,
        "--advertise-client-urls",
        &client_url,
        "--listen-metrics-urls",
        &format!("http://127.0.0.1:{metrics_port}"),
    ]);
    let err = etcd_embed::start(cfg)
        .await
        .err()
        .expect("start must fail while the client port is taken");
    assert!(
        err.to_string().contains(&client_port.to_string()) || err.to_string().contains("in use"),
        "the error names the failing listener: {err}"
    );
    // The peer listener opened before the failure is closed again.
    TcpListener::bind(("127.0.0.1", peer_port)).expect("the peer port is free again");
    // Nothing after the failing step was opened.
    TcpListener::bind(("127.0.0.1", metrics_port)).expect("the metrics port was never bound");
}
