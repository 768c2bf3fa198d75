//! The server's own routes on the peer port (beside the raft transport's): the member
//! list that joining members fetch, and the version.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;

use crate::error::ServerError;
use crate::ids::id_hex;
use crate::membership::Member;
use crate::server::{CLUSTER_VERSION, EtcdServer, SERVER_VERSION};

/// Routes for `/members` and `/version` on the peer listener.
pub fn peer_routes(server: Arc<EtcdServer>) -> Router {
    Router::new()
        .route("/members", get(members))
        .route("/members/promote/{id}", post(promote))
        .route(crate::lease_ops::LEASES_PATH, post(lease_keepalive))
        .route(
            crate::lease_ops::LEASES_INTERNAL_PATH,
            post(lease_time_to_live),
        )
        .route("/version", get(version))
        .with_state(server)
}

/// A member as etcd's `/members` lists it.
pub fn member_json(m: &Member) -> serde_json::Value {
    json!({
        "id": m.id,
        "name": m.name,
        "peerURLs": m.peer_urls,
        "clientURLs": m.client_urls,
        "isLearner": m.is_learner,
    })
}

/// Parses a `/members` body back into members.
pub fn parse_members(body: &[u8]) -> Option<Vec<Member>> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let strings = |x: &serde_json::Value| -> Vec<String> {
        x.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    v.as_array()?
        .iter()
        .map(|m| {
            Some(Member {
                id: m.get("id")?.as_u64()?,
                name: m
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_string(),
                peer_urls: strings(m.get("peerURLs")?),
                client_urls: m.get("clientURLs").map(strings).unwrap_or_default(),
                is_learner: m
                    .get("isLearner")
                    .and_then(|b| b.as_bool())
                    .unwrap_or(false),
            })
        })
        .collect()
}

async fn members(State(server): State<Arc<EtcdServer>>) -> impl IntoResponse {
    let body: Vec<serde_json::Value> = server
        .membership()
        .members()
        .iter()
        .map(member_json)
        .collect();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&id_hex(server.cluster_id())) {
        headers.insert("X-Etcd-Cluster-ID", v);
    }
    (headers, serde_json::Value::Array(body).to_string())
}

/// A promotion forwarded by a follower: only the leader can judge the learner's progress.
async fn promote(
    State(server): State<Arc<EtcdServer>>,
    Path(id): Path<String>,
) -> impl IntoResponse {
    let Ok(id) = u64::from_str_radix(&id, 16) else {
        return (
            StatusCode::BAD_REQUEST,
            json!({ "error": "bad-id" }).to_string(),
        );
    };
    match server.member_promote(id).await {
        Ok(members) => {
            let body: Vec<serde_json::Value> = members.iter().map(member_json).collect();
            (StatusCode::OK, serde_json::Value::Array(body).to_string())
        }
        Err(e) => (
            StatusCode::PRECONDITION_FAILED,
            json!({ "error": promote_error_kind(&e) }).to_string(),
        ),
    }
}

/// A keep-alive forwarded by a follower (body and answer: protobuf). 409 when this
/// member is no longer the leader.
async fn lease_keepalive(
    State(server): State<Arc<EtcdServer>>,
    body: axum::body::Bytes,
) -> impl IntoResponse {
    use prost::Message as _;
    let Ok(req) = etcd_api::etcdserverpb::LeaseKeepAliveRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, Vec::new());
    };
    if server.leader() != server.member_id() {
        return (StatusCode::CONFLICT, Vec::new());
    }
    match server.renew_locally(req.id).await {
        Ok(ttl) => {
            let resp = etcd_api::etcdserverpb::LeaseKeepAliveResponse {
                header: None,
                id: req.id,
                ttl,
            };
            (StatusCode::OK, resp.encode_to_vec())
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Vec::new()),
    }
}

/// A time-to-live request forwarded by a follower.
async fn lease_time_to_live(
    State(server): State<Arc<EtcdServer>>,
    body: axum::body::Bytes,
) -> impl IntoResponse {
    use prost::Message as _;
    let Ok(req) = etcd_api::etcdserverpb::LeaseTimeToLiveRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, Vec::new());
    };
    if server.leader() != server.member_id() {
        return (StatusCode::CONFLICT, Vec::new());
    }
    (
        StatusCode::OK,
        server.time_to_live_locally(&req).await.encode_to_vec(),
    )
}

/// How a refused promotion travels back to the follower that forwarded it.
pub fn promote_error_kind(e: &ServerError) -> &'static str {
    match e {
        ServerError::LearnerNotReady => "learner-not-ready",
        ServerError::MemberNotLearner => "not-learner",
        ServerError::MemberNotFound => "not-found",
        ServerError::NotLeader => "not-leader",
        _ => "timeout",
    }
}

pub fn promote_error_from_kind(kind: &str) -> ServerError {
    match kind {
        "learner-not-ready" => ServerError::LearnerNotReady,
        "not-learner" => ServerError::MemberNotLearner,
        "not-found" => ServerError::MemberNotFound,
        "not-leader" => ServerError::NotLeader,
        _ => ServerError::Timeout,
    }
}

async fn version() -> impl IntoResponse {
    let body = json!({ "etcdserver": SERVER_VERSION, "etcdcluster": CLUSTER_VERSION });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_json_round_trips() {
        let m = Member {
            id: u64::MAX - 3,
            name: "a".into(),
            peer_urls: vec!["http://p:1".into()],
            client_urls: vec!["http://c:2".into()],
            is_learner: true,
        };
        let body = serde_json::Value::Array(vec![member_json(&m)]).to_string();
        assert_eq!(parse_members(body.as_bytes()), Some(vec![m]));
        assert_eq!(parse_members(b"not json"), None);
    }
}
