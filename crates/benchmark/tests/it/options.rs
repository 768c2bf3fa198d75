//! Connection options: leader targeting and unreachable endpoints.

use std::net::TcpListener;
use std::time::Duration;

use benchmark::{Error, Options, PutOptions, Workload, run};

use crate::etcd::Etcd;

/// An address nothing listens on.
fn dead_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    addr.to_string()
}

fn small_put() -> Workload {
    Workload::Put(PutOptions {
        total: 5,
        ..PutOptions::default()
    })
}

#[tokio::test]
async fn unreachable_endpoint_is_a_setup_error() {
    let options = Options {
        endpoints: vec![dead_endpoint()],
        dial_timeout: Duration::from_secs(2),
        ..Options::default()
    };
    let result = run(&options, &small_put()).await;
    assert!(matches!(result, Err(Error::Connect { .. })), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_leader_skips_dead_endpoints() {
    let Some(etcd) = Etcd::start("target_leader_skips_dead_endpoints").await else {
        return;
    };
    let options = Options {
        endpoints: vec![dead_endpoint(), format!("http://{}", etcd.endpoint)],
        target_leader: true,
        dial_timeout: Duration::from_secs(2),
        ..Options::default()
    };
    let outcome = run(&options, &small_put()).await.expect("put runs");
    assert_eq!((outcome.summary.requests, outcome.summary.errors), (5, 0));

    let only_dead = Options {
        endpoints: vec![dead_endpoint()],
        ..options
    };
    let result = run(&only_dead, &small_put()).await;
    assert!(matches!(result, Err(Error::NoLeader { .. })), "{result:?}");
}
