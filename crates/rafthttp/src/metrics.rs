//! etcd's `etcd_network_*` metrics. Per-peer handles are created once per peer; the
//! handlers, which also hear from peers we do not know, label on the fly.

use std::sync::Once;

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};

use crate::id::Hex;

const SENT_BYTES: &str = "etcd_network_peer_sent_bytes_total";
const RECEIVED_BYTES: &str = "etcd_network_peer_received_bytes_total";
const SENT_FAILURES: &str = "etcd_network_peer_sent_failures_total";
const RECEIVED_FAILURES: &str = "etcd_network_peer_received_failures_total";
const ACTIVE_PEERS: &str = "etcd_network_active_peers";
const DISCONNECTED_PEERS: &str = "etcd_network_disconnected_peers_total";
const ROUND_TRIP_TIME: &str = "etcd_network_peer_round_trip_time_seconds";
const SNAPSHOT_SEND_SUCCESS: &str = "etcd_network_snapshot_send_success";
const SNAPSHOT_SEND_FAILURES: &str = "etcd_network_snapshot_send_failures";
const SNAPSHOT_SEND_SECONDS: &str = "etcd_network_snapshot_send_total_duration_seconds";
const SNAPSHOT_SEND_INFLIGHTS: &str = "etcd_network_snapshot_send_inflights_total";
const SNAPSHOT_RECEIVE_SUCCESS: &str = "etcd_network_snapshot_receive_success";
const SNAPSHOT_RECEIVE_FAILURES: &str = "etcd_network_snapshot_receive_failures";
const SNAPSHOT_RECEIVE_SECONDS: &str = "etcd_network_snapshot_receive_total_duration_seconds";
const SNAPSHOT_RECEIVE_INFLIGHTS: &str = "etcd_network_snapshot_receive_inflights_total";

/// Registers the help texts (etcd's wording); harmless to call again.
pub(crate) fn describe() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        metrics::describe_counter!(SENT_BYTES, "The total number of bytes sent to peers.");
        metrics::describe_counter!(
            RECEIVED_BYTES,
            "The total number of bytes received from peers."
        );
        metrics::describe_counter!(
            SENT_FAILURES,
            "The total number of send failures from peers."
        );
        metrics::describe_counter!(
            RECEIVED_FAILURES,
            "The total number of receive failures from peers."
        );
        metrics::describe_gauge!(
            ACTIVE_PEERS,
            "The current number of active peer connections."
        );
        metrics::describe_counter!(
            DISCONNECTED_PEERS,
            "The total number of disconnected peers."
        );
        metrics::describe_histogram!(ROUND_TRIP_TIME, "Round-Trip-Time histogram between peers");
        metrics::describe_counter!(
            SNAPSHOT_SEND_SUCCESS,
            "Total number of successful snapshot sends"
        );
        metrics::describe_counter!(
            SNAPSHOT_SEND_FAILURES,
            "Total number of snapshot send failures"
        );
        metrics::describe_histogram!(
            SNAPSHOT_SEND_SECONDS,
            "Total latency distributions of v3 snapshot sends"
        );
        metrics::describe_gauge!(
            SNAPSHOT_SEND_INFLIGHTS,
            "Total number of inflight snapshot sends"
        );
        metrics::describe_counter!(
            SNAPSHOT_RECEIVE_SUCCESS,
            "Total number of successful snapshot receives"
        );
        metrics::describe_counter!(
            SNAPSHOT_RECEIVE_FAILURES,
            "Total number of snapshot receive failures"
        );
        metrics::describe_histogram!(
            SNAPSHOT_RECEIVE_SECONDS,
            "Total latency distributions of v3 snapshot receives"
        );
        metrics::describe_gauge!(
            SNAPSHOT_RECEIVE_INFLIGHTS,
            "Total number of inflight snapshot receives"
        );
    });
}

/// The metric handles of one remote peer.
pub(crate) struct PeerMetrics {
    pub(crate) sent_bytes: Counter,
    pub(crate) sent_failures: Counter,
    pub(crate) received_bytes: Counter,
    pub(crate) received_failures: Counter,
    pub(crate) active_peers: Gauge,
    pub(crate) disconnected_peers: Counter,
    pub(crate) round_trip_time: Histogram,
    pub(crate) snapshot_send_success: Counter,
    pub(crate) snapshot_send_failures: Counter,
    pub(crate) snapshot_send_seconds: Histogram,
    pub(crate) snapshot_send_inflights: Gauge,
}

impl PeerMetrics {
    pub(crate) fn new(local: u64, remote: u64) -> PeerMetrics {
        let local = Hex(local).to_string();
        let remote = Hex(remote).to_string();
        PeerMetrics {
            sent_bytes: counter!(SENT_BYTES, "To" => remote.clone()),
            sent_failures: counter!(SENT_FAILURES, "To" => remote.clone()),
            received_bytes: counter!(RECEIVED_BYTES, "From" => remote.clone()),
            received_failures: counter!(RECEIVED_FAILURES, "From" => remote.clone()),
            active_peers: gauge!(ACTIVE_PEERS, "Local" => local.clone(), "Remote" => remote.clone()),
            disconnected_peers: counter!(DISCONNECTED_PEERS, "Local" => local, "Remote" => remote.clone()),
            round_trip_time: histogram!(ROUND_TRIP_TIME, "To" => remote.clone()),
            snapshot_send_success: counter!(SNAPSHOT_SEND_SUCCESS, "To" => remote.clone()),
            snapshot_send_failures: counter!(SNAPSHOT_SEND_FAILURES, "To" => remote.clone()),
            snapshot_send_seconds: histogram!(SNAPSHOT_SEND_SECONDS, "To" => remote.clone()),
            snapshot_send_inflights: gauge!(SNAPSHOT_SEND_INFLIGHTS, "To" => remote),
        }
    }
}

/// The label of a sender seen by a handler: its hex ID, or its address when the request
/// did not say who it is (as etcd labels undecodable requests).
pub(crate) fn from_label(from: Option<u64>) -> String {
    match from {
        Some(id) => Hex(id).to_string(),
        None => "unknown".to_string(),
    }
}

pub(crate) fn received_bytes(from: &str, n: u64) {
    counter!(RECEIVED_BYTES, "From" => from.to_string()).increment(n);
}

pub(crate) fn received_failure(from: &str) {
    counter!(RECEIVED_FAILURES, "From" => from.to_string()).increment(1);
}

pub(crate) fn snapshot_receive_success(from: &str, seconds: f64) {
    counter!(SNAPSHOT_RECEIVE_SUCCESS, "From" => from.to_string()).increment(1);
    histogram!(SNAPSHOT_RECEIVE_SECONDS, "From" => from.to_string()).record(seconds);
}

pub(crate) fn snapshot_receive_failure(from: &str) {
    counter!(SNAPSHOT_RECEIVE_FAILURES, "From" => from.to_string()).increment(1);
}

/// Counts an in-flight snapshot receive until dropped.
pub(crate) struct ReceiveInflight(Gauge);

impl ReceiveInflight {
    pub(crate) fn start(from: &str) -> ReceiveInflight {
        let g = gauge!(SNAPSHOT_RECEIVE_INFLIGHTS, "From" => from.to_string());
        g.increment(1.0);
        ReceiveInflight(g)
    }
}

impl Drop for ReceiveInflight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}
