//! The headers peers exchange on every request and the 412 texts of etcd's rafthttp.

use hyper::HeaderMap;
use hyper::header::{HeaderName, HeaderValue};

use crate::config::TransportConfig;
use crate::id::{Hex, parse_id};

pub(crate) const CLUSTER_ID: HeaderName = HeaderName::from_static("x-etcd-cluster-id");
pub(crate) const SERVER_FROM: HeaderName = HeaderName::from_static("x-server-from");
pub(crate) const SERVER_VERSION: HeaderName = HeaderName::from_static("x-server-version");
pub(crate) const MIN_CLUSTER_VERSION: HeaderName = HeaderName::from_static("x-min-cluster-version");
pub(crate) const RAFT_TO: HeaderName = HeaderName::from_static("x-raft-to");

/// Body of the 412 answer to a request from another cluster (etcd's `errClusterIDMismatch`).
pub(crate) const CLUSTER_ID_MISMATCH: &str = "cluster ID mismatch";
/// Body of the 412 answer to a peer of an incompatible version.
pub(crate) const INCOMPATIBLE_VERSION: &str = "incompatible version";
/// Body of the 412 answer to a request meant for another member.
pub(crate) const TO_MISMATCH: &str = "to field mismatch";

/// The headers every request of this member carries, but `X-Raft-To`.
pub(crate) fn base_request_headers(cfg: &TransportConfig) -> HeaderMap {
    let mut h = HeaderMap::new();
    insert_text(&mut h, CLUSTER_ID, &Hex(cfg.cluster_id).to_string());
    insert_text(&mut h, SERVER_FROM, &Hex(cfg.local_id).to_string());
    insert_text(&mut h, SERVER_VERSION, &cfg.server_version);
    insert_text(&mut h, MIN_CLUSTER_VERSION, &cfg.min_cluster_version);
    h
}

/// The headers every response of this member carries (as etcd's handlers set them).
pub(crate) fn base_response_headers(cfg: &TransportConfig) -> HeaderMap {
    let mut h = HeaderMap::new();
    insert_text(&mut h, CLUSTER_ID, &Hex(cfg.cluster_id).to_string());
    insert_text(&mut h, SERVER_VERSION, &cfg.server_version);
    h
}

/// Sets `X-Raft-To`.
pub(crate) fn set_raft_to(h: &mut HeaderMap, to: u64) {
    insert_text(h, RAFT_TO, &Hex(to).to_string());
}

/// Inserts a header; values that are not valid header text (from configuration) are
/// left out rather than failing every request.
fn insert_text(h: &mut HeaderMap, name: HeaderName, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(v) => {
            h.insert(name, v);
        }
        Err(_) => tracing::warn!(header = %name, value, "value is not valid header text; not sent"),
    }
}

/// A header's text, if present and valid.
pub(crate) fn text<'h>(h: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// A header holding a hex member or cluster ID.
pub(crate) fn id(h: &HeaderMap, name: &HeaderName) -> Option<u64> {
    text(h, name).and_then(parse_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cfg() -> TransportConfig {
        TransportConfig {
            local_id: 0xa,
            cluster_id: 0xc1,
            server_version: "3.5.0".into(),
            min_cluster_version: "3.0.0".into(),
            tls: None,
            dial_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(5),
            snapshot_dir: "snap".into(),
        }
    }

    #[test]
    fn requests_carry_ids_in_hex_and_versions() {
        let mut h = base_request_headers(&cfg());
        set_raft_to(&mut h, 0xb);
        assert_eq!(text(&h, &CLUSTER_ID), Some("c1"));
        assert_eq!(text(&h, &SERVER_FROM), Some("a"));
        assert_eq!(text(&h, &RAFT_TO), Some("b"));
        assert_eq!(text(&h, &SERVER_VERSION), Some("3.5.0"));
        assert_eq!(text(&h, &MIN_CLUSTER_VERSION), Some("3.0.0"));
        assert_eq!(id(&h, &CLUSTER_ID), Some(0xc1));
    }

    #[test]
    fn invalid_header_text_is_left_out() {
        let mut c = cfg();
        c.server_version = "3.5\n".into();
        let h = base_request_headers(&c);
        assert_eq!(text(&h, &SERVER_VERSION), None);
        assert_eq!(text(&h, &CLUSTER_ID), Some("c1"));
    }
}
