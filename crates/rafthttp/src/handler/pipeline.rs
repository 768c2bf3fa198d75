//! `POST /raft`: one raft message per request, answered 204 once raft has it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use hyper::{HeaderMap, StatusCode};

use crate::codec::{self, MAX_MESSAGE_BYTES};
use crate::handler::{check::check, empty, process_refusal, text};
use crate::id::Hex;
use crate::metrics;
use crate::transport::Transport;

pub(crate) async fn handle(
    State(transport): State<Arc<Transport>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let shared = transport.shared();
    let from = match check(shared, &headers) {
        Ok(from) => from,
        Err(resp) => return resp,
    };
    let label = metrics::from_label(from);
    // Bounded by MAX_MESSAGE_BYTES (512 MiB), which fits usize on every target we build.
    let bytes = match axum::body::to_bytes(body, MAX_MESSAGE_BYTES as usize).await {
        Ok(b) => b,
        Err(err) => {
            metrics::received_failure(&label);
            tracing::warn!(
                "local-member-id" = %Hex(shared.local_id()),
                "remote-peer-id" = %label,
                error = %err,
                "failed to read Raft message"
            );
            return text(
                shared,
                StatusCode::BAD_REQUEST,
                "error reading raft message",
            );
        }
    };
    metrics::received_bytes(&label, bytes.len() as u64);
    let msg = match codec::decode(&bytes) {
        Ok(m) => m,
        Err(err) => {
            metrics::received_failure(&label);
            tracing::warn!(
                "local-member-id" = %Hex(shared.local_id()),
                "remote-peer-id" = %label,
                error = %err,
                "failed to unmarshal Raft message"
            );
            return text(
                shared,
                StatusCode::BAD_REQUEST,
                "error unmarshalling raft message",
            );
        }
    };
    match shared.raft.process(msg) {
        Ok(()) => empty(shared, StatusCode::NO_CONTENT),
        Err(err) => {
            metrics::received_failure(&label);
            tracing::warn!(
                "local-member-id" = %Hex(shared.local_id()),
                "remote-peer-id" = %label,
                error = %err,
                "failed to process Raft message"
            );
            process_refusal(shared, &err)
        }
    }
}
