//! Small HTTP/1.1 requests to another member's peer port (member list, forwarded
//! promotions and lease requests), over the same dialer and TLS as the raft transport.

use std::time::Duration;

use etcd_transport::TlsInfo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// Status, headers (lower-cased names) and body of a response.
#[derive(Debug)]
pub struct PeerResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl PeerResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses an HTTP/1.1 response read to EOF (plain or chunked body).
fn parse_response(raw: &[u8]) -> Option<PeerResponse> {
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
    Some(PeerResponse {
        status,
        headers,
        body,
    })
}

/// Sends one request (`Connection: close`) and reads the whole response.
pub async fn request(
    peer: &Url,
    method: &str,
    path: &str,
    body: &[u8],
    tls: Option<&TlsInfo>,
    timeout: Duration,
) -> Result<PeerResponse, String> {
    let exchange = async {
        let mut conn = etcd_transport::dial(peer, timeout, Some(timeout), Some(timeout), tls)
            .await
            .map_err(|e| e.to_string())?;
        let host = peer.host_str().unwrap_or("localhost");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/protobuf\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        conn.write_all(body).await.map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        conn.read_to_end(&mut raw)
            .await
            .map_err(|e| e.to_string())?;
        parse_response(&raw).ok_or_else(|| "malformed HTTP response".to_string())
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("{method} {path}: timed out"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_responses() {
        let raw = b"HTTP/1.1 200 OK\r\nX-Etcd-Cluster-ID: ab\r\ncontent-length: 2\r\n\r\n[]";
        let r = parse_response(raw).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-etcd-cluster-id"), Some("ab"));
        assert_eq!(r.body, b"[]");
        let raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n";
        assert_eq!(parse_response(raw).unwrap().body, b"[]");
        assert!(parse_response(b"garbage").is_none());
    }
}
