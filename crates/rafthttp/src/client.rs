//! The dialing side of HTTP: one HTTP/1.1 connection per caller over our own sockets,
//! request building, and reading a peer's refusal.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Incoming};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::task::JoinHandle;
use url::Url;

use crate::error::RaftHttpError;
use crate::headers::{self, CLUSTER_ID_MISMATCH, INCOMPATIBLE_VERSION};
use crate::shared::Shared;

/// How much of a refusal's body we read (they are one line of text).
const REFUSAL_BODY_LIMIT: usize = 4096;

/// Aborts the connection's driver task when dropped, closing the socket.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An HTTP/1.1 connection to a peer; dropping it closes the connection.
pub(crate) struct PeerConn<B> {
    sender: SendRequest<B>,
    _driver: AbortOnDrop,
}

impl<B> PeerConn<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// Dials `url` within the dial timeout; writes pending longer than the write
    /// timeout fail the connection.
    pub(crate) async fn connect(shared: &Shared, url: &Url) -> Result<PeerConn<B>, RaftHttpError> {
        // `https` peers get a TLS handshake configured by `cfg.tls`; `http` ignores it.
        let conn = etcd_transport::dial(
            url,
            shared.cfg.dial_timeout,
            None,
            Some(shared.cfg.write_timeout),
            shared.cfg.tls.as_ref(),
        )
        .await?;
        let (sender, connection) =
            http1::handshake(TokioIo::new(conn))
                .await
                .map_err(|source| RaftHttpError::Http {
                    action: "handshake with",
                    url: url.to_string(),
                    source,
                })?;
        let driver = tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, "peer connection ended with an error");
            }
        });
        Ok(PeerConn {
            sender,
            _driver: AbortOnDrop(driver),
        })
    }

    /// False once the peer closed the connection; it cannot carry another request.
    pub(crate) fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }

    /// Sends one request and waits for the response head.
    pub(crate) async fn send(
        &mut self,
        req: Request<B>,
    ) -> Result<Response<Incoming>, hyper::Error> {
        self.sender.ready().await?;
        self.sender.send_request(req).await
    }
}

/// `scheme://host:port` followed by `path`, for logs and errors.
pub(crate) fn endpoint(url: &Url, path: &str) -> String {
    format!("{}{}", url.as_str().trim_end_matches('/'), path)
}

/// A request to `path` on the peer at `url` with our headers for peer `to`.
pub(crate) fn build_request<B>(
    shared: &Shared,
    method: Method,
    url: &Url,
    path: &str,
    to: u64,
    content_type: Option<&'static str>,
    body: B,
) -> Result<Request<B>, RaftHttpError> {
    let host = match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) if h.contains(':') => format!("[{h}]:{p}"),
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        // unix sockets have no host.
        (None, _) => "localhost".to_string(),
    };
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, host)
        .body(body)
        .map_err(|err| RaftHttpError::InvalidUrl {
            url: url.to_string(),
            reason: err.to_string(),
        })?;
    let h = req.headers_mut();
    h.extend(shared.request_headers(to));
    if let Some(ct) = content_type {
        h.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    Ok(req)
}

/// Reads a refusal's body as text (best effort, bounded).
pub(crate) async fn read_text(body: Incoming) -> String {
    match Limited::new(body, REFUSAL_BODY_LIMIT).collect().await {
        Ok(c) => String::from_utf8_lossy(&c.to_bytes())
            .trim_end()
            .to_string(),
        Err(_) => String::new(),
    }
}

/// Drains a (small) body so the connection can be reused.
pub(crate) async fn drain(body: Incoming) -> Bytes {
    match Limited::new(body, REFUSAL_BODY_LIMIT).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    }
}

/// Turns a non-success answer of peer `peer` into an error, as etcd's
/// `checkPostResponse`: 410/403 mean we were removed, 412 carries the reason.
pub(crate) async fn refusal(
    shared: &Shared,
    peer: u64,
    action: &'static str,
    url: String,
    resp: Response<Incoming>,
) -> RaftHttpError {
    let status = resp.status();
    let remote_cluster = headers::text(resp.headers(), &headers::CLUSTER_ID)
        .unwrap_or("")
        .to_string();
    let text = read_text(resp.into_body()).await;
    classify(
        shared.local_id(),
        shared.cfg.cluster_id,
        peer,
        action,
        url,
        status,
        &text,
        remote_cluster,
    )
}

#[allow(clippy::too_many_arguments)]
fn classify(
    local: u64,
    cluster: u64,
    peer: u64,
    action: &'static str,
    url: String,
    status: StatusCode,
    text: &str,
    remote_cluster: String,
) -> RaftHttpError {
    match status {
        StatusCode::GONE | StatusCode::FORBIDDEN => RaftHttpError::RemovedFromCluster { by: peer },
        StatusCode::PRECONDITION_FAILED if text == CLUSTER_ID_MISMATCH => {
            RaftHttpError::ClusterIdMismatch {
                local: cluster,
                remote: remote_cluster,
            }
        }
        StatusCode::PRECONDITION_FAILED if text == INCOMPATIBLE_VERSION => {
            RaftHttpError::IncompatibleVersion
        }
        StatusCode::NOT_FOUND if action == "dialing stream" => {
            RaftHttpError::UnknownToPeer { peer, local }
        }
        _ => RaftHttpError::UnexpectedStatus {
            status: status.as_u16(),
            action,
            url,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: StatusCode, text: &str, action: &'static str) -> RaftHttpError {
        classify(
            1,
            0xc1,
            2,
            action,
            "http://x/raft".into(),
            status,
            text,
            "c2".into(),
        )
    }

    #[test]
    fn refusals_map_like_etcd() {
        assert!(matches!(
            run(StatusCode::GONE, "removed member", "posting to"),
            RaftHttpError::RemovedFromCluster { by: 2 }
        ));
        assert!(matches!(
            run(StatusCode::FORBIDDEN, "", "posting to"),
            RaftHttpError::RemovedFromCluster { by: 2 }
        ));
        match run(
            StatusCode::PRECONDITION_FAILED,
            CLUSTER_ID_MISMATCH,
            "posting to",
        ) {
            RaftHttpError::ClusterIdMismatch { local, remote } => {
                assert_eq!(local, 0xc1);
                assert_eq!(remote, "c2");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            run(
                StatusCode::PRECONDITION_FAILED,
                INCOMPATIBLE_VERSION,
                "posting to"
            ),
            RaftHttpError::IncompatibleVersion
        ));
        assert!(matches!(
            run(
                StatusCode::NOT_FOUND,
                "error sender not found",
                "dialing stream"
            ),
            RaftHttpError::UnknownToPeer { peer: 2, local: 1 }
        ));
        assert!(matches!(
            run(StatusCode::SERVICE_UNAVAILABLE, "", "posting to"),
            RaftHttpError::UnexpectedStatus { status: 503, .. }
        ));
    }
}
