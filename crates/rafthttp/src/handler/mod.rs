//! The peer-port routes of the transport: pipeline, streams, snapshot and probing.

mod check;
mod pipeline;
mod probing;
mod snapshot;
mod stream;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::{get, post};
use hyper::StatusCode;
use hyper::header::{CONTENT_TYPE, HeaderValue};

use crate::error::RaftHttpError;
use crate::shared::Shared;
use crate::transport::Transport;

/// The routes the peer listener serves for raft.
pub(crate) fn router(transport: Arc<Transport>) -> Router {
    Router::new()
        .route("/raft", post(pipeline::handle))
        .route("/raft/stream/{kind}/{from}", get(stream::handle))
        .route("/raft/snapshot", post(snapshot::handle))
        .route(crate::peer::prober::PATH, get(probing::handle))
        .with_state(transport)
}

/// An answer with our identity headers and a one-line text body, as Go's `http.Error`.
pub(crate) fn text(shared: &Shared, status: StatusCode, msg: &str) -> Response {
    let mut resp = Response::new(Body::from(format!("{msg}\n")));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.extend(shared.response_headers().clone());
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// An empty answer with our identity headers.
pub(crate) fn empty(shared: &Shared, status: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp.headers_mut().extend(shared.response_headers().clone());
    resp
}

/// The answer to a message raft refused.
pub(crate) fn process_refusal(shared: &Shared, err: &RaftHttpError) -> Response {
    match err {
        RaftHttpError::MemberRemoved { .. } => text(
            shared,
            StatusCode::GONE,
            "cannot process message from removed member",
        ),
        RaftHttpError::RaftStopped => {
            text(shared, StatusCode::SERVICE_UNAVAILABLE, "raft is stopped")
        }
        other => text(
            shared,
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("error processing raft message: {other}"),
        ),
    }
}
