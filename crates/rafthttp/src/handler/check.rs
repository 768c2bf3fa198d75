//! The checks every raft request passes first: not blackholed, a compatible version,
//! our cluster, a sender that was not removed, and addressed to us.

use axum::response::Response;
use hyper::{HeaderMap, StatusCode};

use crate::handler::text;
use crate::headers::{
    self, CLUSTER_ID, CLUSTER_ID_MISMATCH, INCOMPATIBLE_VERSION, MIN_CLUSTER_VERSION, RAFT_TO,
    SERVER_FROM, SERVER_VERSION, TO_MISMATCH,
};
use crate::id::Hex;
use crate::shared::Shared;
use crate::version;

/// Runs the checks; returns the sender's ID (from `X-Server-From`) if it gave one, or
/// the answer to send instead. `X-Raft-To` is checked when present.
pub(crate) fn check(shared: &Shared, h: &HeaderMap) -> Result<Option<u64>, Response> {
    if shared.is_closed() {
        return Err(text(
            shared,
            StatusCode::SERVICE_UNAVAILABLE,
            "raft transport is not accepting traffic",
        ));
    }
    let from = headers::id(h, &SERVER_FROM);
    let remote_version = headers::text(h, &SERVER_VERSION);
    if !version::compatible(
        &shared.cfg.server_version,
        &shared.cfg.min_cluster_version,
        remote_version,
        headers::text(h, &MIN_CLUSTER_VERSION),
    ) {
        tracing::warn!(
            "local-member-id" = %Hex(shared.local_id()),
            "local-member-server-version" = %shared.cfg.server_version,
            "local-member-min-cluster-version" = %shared.cfg.min_cluster_version,
            "remote-peer-id" = ?from.map(Hex),
            "remote-peer-server-version" = ?remote_version,
            "remote-peer-min-cluster-version" = ?headers::text(h, &MIN_CLUSTER_VERSION),
            "failed to check version compatibility"
        );
        return Err(text(
            shared,
            StatusCode::PRECONDITION_FAILED,
            INCOMPATIBLE_VERSION,
        ));
    }
    let cluster = headers::id(h, &CLUSTER_ID);
    if cluster != Some(shared.cfg.cluster_id) {
        tracing::error!(
            "local-member-id" = %Hex(shared.local_id()),
            "local-member-cluster-id" = %Hex(shared.cfg.cluster_id),
            "local-member-server-version" = %shared.cfg.server_version,
            "remote-peer-id" = ?from.map(Hex),
            "remote-peer-cluster-id" = ?headers::text(h, &CLUSTER_ID),
            "remote-peer-server-version" = ?remote_version,
            "request cluster ID mismatch"
        );
        return Err(text(
            shared,
            StatusCode::PRECONDITION_FAILED,
            CLUSTER_ID_MISMATCH,
        ));
    }
    if let Some(from) = from
        && shared.raft.is_id_removed(from)
    {
        tracing::warn!(
            "local-member-id" = %Hex(shared.local_id()),
            "remote-peer-id" = %Hex(from),
            "rejected request from removed member"
        );
        return Err(text(shared, StatusCode::GONE, "removed member"));
    }
    if let Some(to) = headers::text(h, &RAFT_TO)
        && crate::id::parse_id(to) != Some(shared.local_id())
    {
        tracing::warn!(
            "local-member-id" = %Hex(shared.local_id()),
            "remote-peer-id" = ?from.map(Hex),
            "x-raft-to" = to,
            "request sent to another member"
        );
        return Err(text(shared, StatusCode::PRECONDITION_FAILED, TO_MISMATCH));
    }
    Ok(from)
}
