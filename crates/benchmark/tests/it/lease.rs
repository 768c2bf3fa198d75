//! `lease-keepalive` against etcd: every round trip renews a live lease.

use benchmark::{LeaseKeepaliveOptions, Workload, run};
use etcd_api::etcdserverpb::LeaseLeasesRequest;
use etcd_api::etcdserverpb::lease_client::LeaseClient;

use crate::etcd::Etcd;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalives_round_trip_and_leases_are_revoked() {
    let Some(etcd) = Etcd::start("keepalives_round_trip_and_leases_are_revoked").await else {
        return;
    };
    let keepalive = Workload::LeaseKeepalive(LeaseKeepaliveOptions { total: 30 });
    let outcome = run(&etcd.options(2, 3), &keepalive)
        .await
        .expect("lease-keepalive runs");
    let s = &outcome.summary;
    assert_eq!(
        (s.workload.as_str(), s.requests, s.errors),
        ("lease-keepalive", 30, 0)
    );
    let leases = LeaseClient::connect(etcd.uri())
        .await
        .expect("connect")
        .lease_leases(LeaseLeasesRequest {})
        .await
        .expect("lease leases")
        .into_inner()
        .leases;
    assert!(
        leases.is_empty(),
        "benchmark leases left behind: {leases:?}"
    );
}
