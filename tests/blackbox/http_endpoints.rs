//! The plain-HTTP endpoints on the client port, as curl and monitoring see them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::{Member, eventually};

/// A minimal HTTP/1.1 GET: (status code, body).
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("http response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

#[test]
fn version_health_and_metrics() {
    let m = Member::start(&[]);
    let (code, body) = http_get(m.client_port, "/version");
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["etcdserver"], etcd_server::SERVER_VERSION);
    assert_eq!(v["etcdcluster"], etcd_server::CLUSTER_VERSION);

    let (code, body) = http_get(m.client_port, "/health");
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["health"], "true");

    let (code, body) = http_get(m.client_port, "/metrics");
    assert_eq!(code, 200);
    for needle in [
        "etcd_server_has_leader 1",
        "etcd_server_is_leader 1",
        "etcd_disk_wal_fsync_duration_seconds_bucket",
        "etcd_server_proposals_committed_total",
        "etcd_server_proposals_applied_total",
        "etcd_server_proposals_pending",
        "etcd_mvcc_db_total_size_in_bytes",
    ] {
        assert!(body.contains(needle), "/metrics lacks {needle}:\n{body}");
    }
}

/// The value of an unlabelled sample `name` in a Prometheus text exposition.
pub fn metric_value(exposition: &str, name: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let (n, v) = line.split_once(' ')?;
        (n == name).then(|| v.trim().parse().ok()).flatten()
    })
}

#[test]
fn proposal_metrics_count_what_raft_did() {
    let m = Member::start(&[]);
    let (_, before) = http_get(m.client_port, "/metrics");
    // Exported from the start, as etcd does, so alerts on its rate see a zero.
    assert_eq!(
        metric_value(&before, "etcd_server_proposals_failed_total"),
        Some(0.0),
        "{before}"
    );
    let applied_before =
        metric_value(&before, "etcd_server_proposals_applied_total").expect("applied");
    crate::support::rt().block_on(async {
        let mut c = m.client().await;
        for i in 0..10 {
            c.put(format!("k{i}"), "v", None).await.expect("put");
        }
        // Refused at apply time: a request error, not a failed proposal.
        let opts = etcd_client::PutOptions::new().with_lease(0x1234);
        let err = c.put("leased", "v", Some(opts)).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("etcdserver: requested lease not found"),
            "{err}"
        );
    });
    // The apply loop answers each request before it publishes the batch's applied index.
    let mut after = String::new();
    eventually(Duration::from_secs(5), "11 more applied proposals", || {
        after = http_get(m.client_port, "/metrics").1;
        metric_value(&after, "etcd_server_proposals_applied_total")
            .is_some_and(|applied| applied >= applied_before + 11.0)
    });
    let applied = metric_value(&after, "etcd_server_proposals_applied_total").expect("applied");
    let committed =
        metric_value(&after, "etcd_server_proposals_committed_total").expect("committed");
    assert!(
        committed >= applied,
        "committed {committed} < applied {applied}"
    );
    assert_eq!(
        metric_value(&after, "etcd_server_proposals_pending"),
        Some(0.0)
    );
    assert_eq!(
        metric_value(&after, "etcd_server_proposals_failed_total"),
        Some(0.0),
        "an apply-time error is not a failed proposal"
    );
}
