//! Serving HTTP/1.1 and HTTP/2 (gRPC) on our own listeners: one accept loop per listener,
//! one TLS handshake and hyper connection per client (in the connection's own task),
//! the client certificate's common name on every request, graceful drain on shutdown.

use std::time::Duration;

use axum::Router;
use etcd_transport::{Accepted, Listener};
use hyper::body::Incoming;
use hyper::service::{Service, service_fn};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::authority_fix_stream::AuthorityFixStream;
use crate::write_coalescing::WriteCoalescing;

/// How long open connections get to finish their requests on shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A request extension on every request the serve loop hands to a router: the common
/// name of the client certificate of the request's connection.
///
/// `Some` only when the client presented a certificate and its chain verified (a TLS
/// listener with a trusted CA); `None` on plaintext connections and for clients without
/// a certificate. In tonic handlers: `request.extensions().get::<PeerCommonName>()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerCommonName(pub Option<String>);

/// HTTP/2 settings for gRPC clients, as etcd's grpc server uses them.
fn builder() -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1().timer(TokioTimer::new());
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(u32::MAX)
        // Fixed windows: adaptive windows make hyper send BDP pings, which grpc-go clients
        // of etcd 3.4 answer by resetting the stream.
        .initial_stream_window_size(4 << 20)
        .initial_connection_window_size(16 << 20)
        .keep_alive_interval(Some(Duration::from_secs(2 * 60 * 60)))
        .keep_alive_timeout(Duration::from_secs(20));
    b
}

/// Runs the connection's handshake; a failure is logged as etcd logs it and closes the
/// connection.
async fn handshake(accepted: Accepted) -> Option<(etcd_transport::Conn, PeerCommonName)> {
    let remote = accepted.peer_addr();
    match accepted.handshake().await {
        Ok(conn) => {
            let name = PeerCommonName(conn.peer_common_name());
            Some((conn, name))
        }
        Err(e) => {
            tracing::warn!(
                "remote-addr" = %remote.map(|a| a.to_string()).unwrap_or_default(),
                error = %e,
                "rejected connection"
            );
            None
        }
    }
}

/// The router as a hyper service that stamps `name` on every request of one connection.
fn with_common_name(
    router: Router,
    name: PeerCommonName,
) -> impl Service<
    http::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send,
> + Clone {
    let svc = TowerToHyperService::new(router);
    service_fn(move |mut req: http::Request<Incoming>| {
        req.extensions_mut().insert(name.clone());
        svc.call(req)
    })
}

/// Serves `router` on `listener` until `shutdown` turns true, then drains connections.
pub fn serve(
    listener: Listener,
    router: Router,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let mut shutdown_rx = shutdown.clone();
    let stop = async move {
        let _ = shutdown_rx.wait_for(|s| *s).await;
    };
    tokio::spawn(async move {
        tokio::pin!(stop);
        let graceful = GracefulShutdown::new();
        let builder = builder();
        loop {
            tokio::select! {
                conn = listener.accept() => match conn {
                    Ok(accepted) => {
                        let (router, builder, watcher) = (router.clone(), builder.clone(), graceful.watcher());
                        // The TLS handshake runs in the connection's task, not the accept loop.
                        tokio::spawn(async move {
                            let Some((conn, name)) = handshake(accepted).await else {
                                return;
                            };
                            let conn = builder.serve_connection_with_upgrades(TokioIo::new(AuthorityFixStream::new(WriteCoalescing::new(conn))), with_common_name(router, name)).into_owned();
                            if let Err(e) = watcher.watch(conn).await {
                                tracing::debug!(error = %e, "connection ended with an error");
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, address = %listener.bound_url(), "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
                _ = &mut stop => break,
            }
        }
        drop(listener);
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use axum::Extension;
    use axum::routing::get;
    use etcd_transport::{ListenOptions, TlsInfo, dial};
    use rcgen::{
        CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use url::Url;

    use super::*;

    const PATIENCE: Duration = Duration::from_secs(5);

    fn params(cn: &str, sans: &[&str]) -> CertificateParams {
        let mut p =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, cn);
        p
    }

    /// Writes a CA, a server certificate for 127.0.0.1 and a client certificate for
    /// `alice` into `dir`; returns (ca, server cert, server key, client cert, client key).
    fn pki(dir: &Path) -> [PathBuf; 5] {
        let mut ca = params("test CA", &[]);
        ca.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let mut files = vec![(ca.pem(), "ca.pem".to_string())];
        for (cn, name) in [("127.0.0.1", "server"), ("alice", "client")] {
            let key = KeyPair::generate().unwrap();
            let cert = params(cn, &["127.0.0.1"]).signed_by(&key, &ca).unwrap();
            files.push((cert.pem(), format!("{name}.pem")));
            files.push((key.serialize_pem(), format!("{name}-key.pem")));
        }
        let paths: Vec<PathBuf> = files
            .into_iter()
            .map(|(pem, name)| {
                let path = dir.join(name);
                std::fs::write(&path, pem).unwrap();
                path
            })
            .collect();
        paths.try_into().unwrap()
    }

    /// Serves a router answering `/cn` with the request's [`PeerCommonName`].
    async fn serve_cn(url: &str, tls: Option<TlsInfo>) -> (Url, watch::Sender<bool>) {
        let opts = ListenOptions {
            tls,
            ..ListenOptions::default()
        };
        let listener = Listener::bind(&Url::parse(url).unwrap(), &opts)
            .await
            .unwrap();
        let bound = listener.bound_url();
        let router = Router::new().route(
            "/cn",
            get(
                |Extension(PeerCommonName(cn)): Extension<PeerCommonName>| async move {
                    cn.unwrap_or_else(|| "<none>".into())
                },
            ),
        );
        let (stop, stop_rx) = watch::channel(false);
        serve(listener, router, stop_rx);
        (bound, stop)
    }

    /// GET /cn over a fresh connection; None when the server refused the connection.
    async fn get_cn(url: &Url, tls: Option<&TlsInfo>) -> Option<String> {
        let mut conn = dial(url, PATIENCE, None, None, tls).await.ok()?;
        conn.write_all(b"GET /cn HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut raw = Vec::new();
        tokio::time::timeout(PATIENCE, conn.read_to_end(&mut raw))
            .await
            .expect("the server answers or closes")
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        text.split("\r\n\r\n").nth(1).map(str::to_owned)
    }

    #[tokio::test]
    async fn verified_client_certificates_name_the_requests() {
        let dir = tempfile::tempdir().unwrap();
        let [ca, cert, key, client_cert, client_key] = pki(dir.path());
        let server_tls = TlsInfo {
            cert_file: Some(cert),
            key_file: Some(key),
            trusted_ca_file: Some(ca.clone()),
            client_cert_auth: true,
            ..TlsInfo::default()
        };
        let (url, _stop) = serve_cn("https://127.0.0.1:0", Some(server_tls)).await;
        let client = TlsInfo {
            trusted_ca_file: Some(ca.clone()),
            cert_file: Some(client_cert),
            key_file: Some(client_key),
            ..TlsInfo::default()
        };
        assert_eq!(get_cn(&url, Some(&client)).await.as_deref(), Some("alice"));
        let anonymous = TlsInfo {
            trusted_ca_file: Some(ca),
            ..TlsInfo::default()
        };
        assert_eq!(
            get_cn(&url, Some(&anonymous)).await,
            None,
            "a client without a certificate is rejected"
        );
        assert_eq!(
            get_cn(&url, Some(&client)).await.as_deref(),
            Some("alice"),
            "a rejected handshake leaves the listener serving"
        );
    }

    #[tokio::test]
    async fn plaintext_requests_carry_no_name() {
        let (url, _stop) = serve_cn("http://127.0.0.1:0", None).await;
        assert_eq!(get_cn(&url, None).await.as_deref(), Some("<none>"));
    }
}
