//! Joining a running cluster (`--initial-cluster-state existing` without a data
//! directory): the members and the cluster ID are fetched from a peer's `/members`, as
//! etcd's GetClusterFromRemotePeers does.

use std::time::Duration;

use etcd_server::{JoinCluster, parse_members};
use etcd_transport::TlsInfo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use crate::config::url_string;
use crate::error::EmbedError;

const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

/// Status, headers (lower-cased names) and body of an HTTP/1.1 response.
type Response = (u16, Vec<(String, String)>, Vec<u8>);

/// Parses an HTTP/1.1 response read to EOF.
fn parse_response(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
    {
        let mut out = Vec::new();
        let mut rest = body.as_slice();
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).ok()?.trim(), 16)
                    .ok()?;
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
        body = out;
    }
    Some((status, headers, body))
}

async fn fetch_members(peer: &Url, tls: Option<&TlsInfo>) -> Result<JoinCluster, String> {
    let mut conn = etcd_transport::dial(
        peer,
        FETCH_TIMEOUT,
        Some(FETCH_TIMEOUT),
        Some(FETCH_TIMEOUT),
        tls,
    )
    .await
    .map_err(|e| e.to_string())?;
    let host = peer.host_str().unwrap_or("localhost");
    let request = format!("GET /members HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    conn.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw)
        .await
        .map_err(|e| e.to_string())?;
    let (status, headers, body) = parse_response(&raw).ok_or("malformed HTTP response")?;
    if status != 200 {
        return Err(format!("GET /members answered {status}"));
    }
    let cluster_id = headers
        .iter()
        .find(|(k, _)| k == "x-etcd-cluster-id")
        .and_then(|(_, v)| u64::from_str_radix(v, 16).ok())
        .ok_or("no X-Etcd-Cluster-ID header")?;
    let members = parse_members(&body).ok_or("undecodable member list")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_responses() {
        let raw = b"HTTP/1.1 200 OK\r\nX-Etcd-Cluster-ID: ab\r\ncontent-length: 2\r\n\r\n[]";
        let (status, headers, body) = parse_response(raw).unwrap();
        assert_eq!(status, 200);
        assert!(headers.contains(&("x-etcd-cluster-id".into(), "ab".into())));
        assert_eq!(body, b"[]");
        let raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n";
        assert_eq!(parse_response(raw).unwrap().2, b"[]");
    }
}
