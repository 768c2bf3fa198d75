//! Joining a running cluster (`--initial-cluster-state existing` without a data
//! directory): the members and the cluster ID are fetched from a peer's `/members`, as
//! etcd's GetClusterFromRemotePeers does.

use std::time::Duration;

use etcd_server::{JoinCluster, parse_members, peer_request};
use etcd_transport::TlsInfo;
use url::Url;

use crate::config::url_string;
use crate::error::EmbedError;

const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

async fn fetch_members(peer: &Url, tls: Option<&TlsInfo>) -> Result<JoinCluster, String> {
    let resp = peer_request(peer, "GET", "/members", b"", tls, FETCH_TIMEOUT).await?;
    if resp.status != 200 {
        return Err(format!("GET /members answered {}", resp.status));
    }
    let cluster_id = resp
        .header("x-etcd-cluster-id")
        .and_then(|v| u64::from_str_radix(v, 16).ok())
        .ok_or("no X-Etcd-Cluster-ID header")?;
    let members = parse_members(&resp.body).ok_or("undecodable member list")?;
    Ok(JoinCluster {
        cluster_id,
        members,
    })
}

/// The cluster this member joins, from the first peer that answers.
pub async fn fetch_cluster(
    peers: &[(String, Vec<Url>)],
    own_urls: &[Url],
    tls: Option<&TlsInfo>,
) -> Result<JoinCluster, EmbedError> {
    let own: Vec<String> = own_urls.iter().map(url_string).collect();
    let mut errors = Vec::new();
    for (name, urls) in peers {
        for u in urls {
            if own.contains(&url_string(u)) {
                continue;
            }
            match fetch_members(u, tls).await {
                Ok(c) => return Ok(c),
                Err(e) => errors.push(format!("{name} ({}): {e}", url_string(u))),
            }
        }
    }
    Err(EmbedError::Join(format!(
        "could not retrieve cluster information from the given URLs: {}",
        errors.join("; ")
    )))
}
