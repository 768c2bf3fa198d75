//! `GET /raft/stream/{kind}/{from}`: a peer's reader asks for our messages to it; the
//! response stays open and that peer's stream writer writes into it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::BytesMut;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{HeaderMap, StatusCode};

use crate::body::ChannelBody;
use crate::codec::{self, link_heartbeat};
use crate::handler::{check::check, text};
use crate::headers::{self, RAFT_TO, TO_MISMATCH};
use crate::id::{Hex, parse_id};
use crate::peer::stream_writer::STREAM_BODY_BUFFER;
use crate::stream_kind::StreamKind;
use crate::transport::Transport;

pub(crate) async fn handle(
    State(transport): State<Arc<Transport>>,
    Path((kind, from)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let shared = transport.shared();
    if let Err(resp) = check(shared, &headers) {
        return resp;
    }
    let Some(kind) = StreamKind::parse(&kind) else {
        return text(shared, StatusCode::NOT_FOUND, "invalid stream type");
    };
    let Some(from) = parse_id(&from) else {
        return text(shared, StatusCode::NOT_FOUND, "invalid from");
    };
    if shared.raft.is_id_removed(from) {
        return text(shared, StatusCode::GONE, "removed member");
    }
    let Some(peer) = transport.peer(from) else {
        tracing::debug!(
            "local-member-id" = %Hex(shared.local_id()),
            "remote-peer-id" = %Hex(from),
            "failed to find remote peer in cluster"
        );
        return text(shared, StatusCode::NOT_FOUND, "error sender not found");
    };
    // Unlike the other routes, a stream must name its target.
    if headers::id(&headers, &RAFT_TO) != Some(shared.local_id()) {
        return text(shared, StatusCode::PRECONDITION_FAILED, TO_MISMATCH);
    }

    let (tx, body) = ChannelBody::new(STREAM_BODY_BUFFER);
    // A first frame gets the response head to the reader at once.
    let mut hello = BytesMut::new();
    if codec::encode_frame(&link_heartbeat(), &mut hello).is_ok() {
        let _ = tx.try_send(Ok(hello.freeze()));
    }
    if !peer.attach(kind, tx) {
        return text(shared, StatusCode::NOT_FOUND, "error sender not found");
    }
    let mut resp = Response::new(Body::new(body));
    let h = resp.headers_mut();
    h.extend(shared.response_headers().clone());
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    resp
}
