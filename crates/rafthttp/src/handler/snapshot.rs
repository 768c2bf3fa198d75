//! `POST /raft/snapshot`: a framed MsgSnapshot followed by the database bytes, streamed
//! to disk; raft gets the message once the file is durable in place.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::{HeaderMap, StatusCode};
use raft::eraftpb::{Message, MessageType};

use crate::codec::{self, FrameDecoder};
use crate::error::RaftHttpError;
use crate::handler::{check::check, empty, process_refusal, text};
use crate::id::Hex;
use crate::metrics::{self, ReceiveInflight};
use crate::snapshot_file::save_db_from;
use crate::transport::Transport;

pub(crate) async fn handle(
    State(transport): State<Arc<Transport>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let start = Instant::now();
    let shared = transport.shared();
    let from = match check(shared, &headers) {
        Ok(from) => from,
        Err(resp) => return resp,
    };
    let mut label = metrics::from_label(from);
    let mut body = body;
    let (msg, rest, head_len) = match read_message(&mut body).await {
        Ok(parts) => parts,
        Err(err) => {
            metrics::received_failure(&label);
            metrics::snapshot_receive_failure(&label);
            tracing::warn!(
                "local-member-id" = %Hex(shared.local_id()),
                "remote-peer-id" = %label,
                error = %err,
                "failed to decode Raft message"
            );
            return text(
                shared,
                StatusCode::BAD_REQUEST,
                &format!("failed to decode raft message ({err})"),
            );
        }
    };
    if from.is_none() {
        label = Hex(msg.from).to_string();
    }
    metrics::received_bytes(&label, head_len);
    if msg.get_msg_type() != MessageType::MsgSnapshot {
        metrics::snapshot_receive_failure(&label);
        tracing::warn!(
            "local-member-id" = %Hex(shared.local_id()),
            "remote-peer-id" = %label,
            "message-type" = ?msg.get_msg_type(),
            "unexpected Raft message type"
        );
        return text(shared, StatusCode::BAD_REQUEST, "wrong raft message type");
    }

    let _inflight = ReceiveInflight::start(&label);
    let index = msg.get_snapshot().get_metadata().index;
    tracing::info!(
        "local-member-id" = %Hex(shared.local_id()),
        "remote-snapshot-sender-id" = %label,
        "incoming-snapshot-index" = index,
        "receiving database snapshot"
    );
    let size = match save_db_from(&shared.cfg.snapshot_dir, index, rest, body).await {
        Ok(n) => n,
        Err(err) => {
            metrics::snapshot_receive_failure(&label);
            tracing::warn!(
                "local-member-id" = %Hex(shared.local_id()),
                "remote-snapshot-sender-id" = %label,
                "incoming-snapshot-index" = index,
                error = %err,
                "failed to save KV snapshot"
            );
            return text(
                shared,
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("failed to save KV snapshot ({err})"),
            );
        }
    };
    metrics::received_bytes(&label, size);
    tracing::info!(
        "local-member-id" = %Hex(shared.local_id()),
        "remote-snapshot-sender-id" = %label,
        "incoming-snapshot-index" = index,
        "incoming-snapshot-size" = size,
        "received and saved database snapshot"
    );
    if let Err(err) = shared.raft.process(msg) {
        metrics::snapshot_receive_failure(&label);
        tracing::warn!(
            "local-member-id" = %Hex(shared.local_id()),
            "remote-snapshot-sender-id" = %label,
            error = %err,
            "failed to process Raft message"
        );
        return process_refusal(shared, &err);
    }
    metrics::snapshot_receive_success(&label, start.elapsed().as_secs_f64());
    // 204 only after raft has the message, so the sender can report Finish.
    empty(shared, StatusCode::NO_CONTENT)
}

/// Reads the leading frame; returns the message, the database bytes already received
/// after it, and the frame's size on the wire.
async fn read_message(body: &mut Body) -> Result<(Message, Bytes, u64), RaftHttpError> {
    let mut dec = FrameDecoder::default();
    loop {
        if let Some(payload) = dec.next_frame()? {
            let msg = codec::decode(&payload)?;
            let head_len = (codec::FRAME_HEADER_BYTES + payload.len()) as u64;
            return Ok((msg, dec.into_remainder().freeze(), head_len));
        }
        match body.frame().await {
            None => return Err(RaftHttpError::Truncated),
            Some(Err(err)) => {
                return Err(RaftHttpError::ReceiveBody {
                    reason: err.to_string(),
                });
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    dec.push(&data);
                }
            }
        }
    }
}
