//! `GET /raft/probing`: a small JSON health answer peers time their round trips with.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use hyper::StatusCode;
use hyper::header::{CONTENT_TYPE, HeaderValue};

use crate::handler::text;
use crate::peer::prober::health_body;
use crate::transport::Transport;

pub(crate) async fn handle(State(transport): State<Arc<Transport>>) -> Response {
    let shared = transport.shared();
    if shared.is_closed() {
        return text(
            shared,
            StatusCode::SERVICE_UNAVAILABLE,
            "raft transport is not accepting traffic",
        );
    }
    let mut resp = Response::new(Body::from(health_body(SystemTime::now())));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}
