//! The plain-HTTP endpoints served beside gRPC: `/health`, `/version`, `/metrics`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use etcd_server::{CLUSTER_VERSION, EtcdServer, SERVER_VERSION, metrics as m};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The process-wide Prometheus recorder (installed once; every member in the process
/// shares it, as etcd's default registry is shared).
pub fn metrics_handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let mut b = PrometheusBuilder::new();
            for (name, buckets) in m::histogram_buckets() {
                b = match b.set_buckets_for_metric(Matcher::Full(name.to_string()), &buckets) {
                    Ok(b) => b,
                    Err(_) => return None,
                };
            }
            match b.install_recorder() {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot install the metrics recorder; /metrics will be empty");
                    None
                }
            }
        })
        .as_ref()
}

/// The HTTP routes every client (and metrics) listener serves.
pub fn routes(server: Arc<EtcdServer>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/health", get(health))
        .route("/livez", get(livez))
        .route("/readyz", get(health))
        .route("/metrics", get(metrics))
        .with_state(server)
}

pub async fn version() -> impl IntoResponse {
    let body = serde_json::json!({ "etcdserver": SERVER_VERSION, "etcdcluster": CLUSTER_VERSION });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
}

async fn livez() -> impl IntoResponse {
    "ok"
}

/// Healthy when a leader exists and a linearizable read completes in time (etcd's check).
async fn health(State(server): State<Arc<EtcdServer>>) -> impl IntoResponse {
    let reason = if server.leader() == 0 {
        Some("RAFT NO LEADER")
    } else {
        match tokio::time::timeout(Duration::from_secs(1), server.linearizable_read_notify()).await
        {
            Ok(Ok(())) => None,
            _ => Some("QGET ERROR"),
        }
    };
    let (status, health) = match reason {
        None => (StatusCode::OK, "true"),
        Some(_) => (StatusCode::SERVICE_UNAVAILABLE, "false"),
    };
    let body = serde_json::json!({ "health": health, "reason": reason.unwrap_or("") });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
}

async fn metrics(State(server): State<Arc<EtcdServer>>) -> impl IntoResponse {
    let backend = server.store().backend();
    metrics::gauge!(m::DB_TOTAL_SIZE).set(backend.size_bytes() as f64);
    metrics::gauge!(m::DB_TOTAL_SIZE_IN_USE).set(backend.size_in_use_bytes() as f64);
    let body = metrics_handle().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
