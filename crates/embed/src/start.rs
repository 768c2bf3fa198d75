//! Starting a member as etcd's StartEtcd does: listeners first (every one already opened is
//! closed again if a later one fails), then the server, then serving peers and clients.

use std::sync::Arc;
use std::time::Duration;

use etcd_server::{EtcdServer, ServerConfig, grpc_routes, id_hex};
use etcd_transport::{ListenOptions, Listener};
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

use crate::config::{ClusterState, Config, url_string};
use crate::error::EmbedError;
use crate::tls_setup::{MemberTls, describe};
use crate::{http, serve};

/// A running member and its listeners.
pub struct Etcd {
    pub server: Arc<EtcdServer>,
    client_urls: Vec<Url>,
    peer_urls: Vec<Url>,
    metrics_urls: Vec<Url>,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

fn url_strings(urls: &[Url]) -> Vec<String> {
    urls.iter().map(url_string).collect()
}

/// The server's view of the configuration. Its `peer_tls` is the configured peer TLS;
/// [`start`] replaces it with the effective one (policy applied, auto-TLS certificate).
pub fn server_config(cfg: &Config) -> Result<ServerConfig, EmbedError> {
    let initial_cluster = cfg
        .initial_cluster_members()?
        .into_iter()
        .map(|(name, urls)| (name, url_strings(&urls)))
        .collect();
    let watch_progress_notify_interval = cfg.watch_progress_notify_interval();
    if watch_progress_notify_interval.is_zero() {
        return Err(crate::config::ConfigError::MustBePositive {
            flag: "experimental-watch-progress-notify-interval",
            value: 0,
            unit: "s",
        }
        .into());
    }
    Ok(ServerConfig {
        name: cfg.name.clone(),
        data_dir: cfg.data_dir.clone(),
        wal_dir: cfg.wal_dir_or_default(),
        initial_cluster,
        new_cluster: cfg.initial_cluster_state == ClusterState::New,
        initial_cluster_token: cfg.initial_cluster_token.clone(),
        advertise_client_urls: url_strings(&cfg.advertise_client_urls),
        advertise_peer_urls: url_strings(&cfg.initial_advertise_peer_urls),
        snapshot_count: cfg.snapshot_count,
        snapshot_catchup_entries: cfg.snapshot_catchup_entries,
        heartbeat: cfg.heartbeat_interval,
        election_timeout: cfg.election_timeout,
        max_request_bytes: cfg.max_request_bytes as usize,
        max_txn_ops: cfg.max_txn_ops as usize,
        quota_backend_bytes: cfg.quota_backend_bytes.max(0) as u64,
        pre_vote: cfg.pre_vote,
        strict_reconfig_check: cfg.strict_reconfig_check,
        backend_cache_bytes: BACKEND_CACHE_BYTES,
        wal_segment_size: 64 << 20,
        join: None,
        peer_tls: Some(cfg.peer_tls.clone()).filter(|t| !t.is_empty()),
        watch_progress_notify_interval,
        lease_checkpoint_interval: cfg.lease_checkpoint_interval(),
    })
}

/// sled's page cache. Small on purpose: the WAL, not the backend, is what writes wait
/// on, values are read rarely compared to the in-memory key index, and the kernel's page
/// cache still holds the backend files. Measured (3 members, 256 clients, 100k random
/// puts): 64 MiB costs about 30 MiB more RSS per member and gains about 10% put
/// throughput (sled evicts and rebuilds fewer leaves in the apply loop); 16 MiB, +10 MiB
/// and +5%. 4 MiB keeps a member within a third of etcd's memory.
const BACKEND_CACHE_BYTES: u64 = 4 << 20;

/// etcd's `rafthttp.ConnReadTimeout` and `ConnWriteTimeout`: peer connections fail when
/// idle (or stuck writing) this long. Raft streams stay up: their writers send a link
/// heartbeat well within it, and the transport lets writes keep a pending read alive.
/// Idle pipeline connections are closed, as etcd wants them recycled.
pub(crate) const PEER_CONN_TIMEOUT: Duration = Duration::from_secs(5);

/// Bound on one connection's TLS handshake on every secure listener, so a client that
/// connects and never finishes (or dribbles) a handshake does not hold a task forever.
pub(crate) const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which kind of listener [`listen_options`] configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListenerKind {
    /// `--listen-peer-urls`: etcd's read/write timeouts.
    Peer,
    /// `--listen-client-urls` and `--listen-metrics-urls`: no timeouts, as etcd (watch
    /// and lease keep-alive streams may be silent for long).
    Client,
}

fn listen_options(
    cfg: &Config,
    kind: ListenerKind,
    tls: Option<etcd_transport::TlsInfo>,
) -> ListenOptions {
    let timeout = (kind == ListenerKind::Peer).then_some(PEER_CONN_TIMEOUT);
    ListenOptions {
        reuse_port: cfg.socket_reuse_port,
        reuse_address: true,
        read_timeout: timeout,
        write_timeout: timeout,
        handshake_timeout: Some(TLS_HANDSHAKE_TIMEOUT),
        tls: tls.filter(|t| !t.is_empty()),
        ..ListenOptions::default()
    }
}

/// Binds every URL; on the first failure the ones already bound are dropped (closed).
async fn bind_all(
    urls: &[Url],
    opts: &ListenOptions,
    what: &str,
) -> Result<Vec<Listener>, EmbedError> {
    let mut listeners = Vec::with_capacity(urls.len());
    for u in urls {
        match Listener::bind(u, opts).await {
            Ok(l) => listeners.push(l),
            Err(e) => {
                tracing::error!(error = %e, url = %url_string(u), "failed to listen on {what} URL");
                drop(listeners);
                return Err(e.into());
            }
        }
    }
    Ok(listeners)
}

/// Starts a member from a validated configuration.
pub async fn start(cfg: Config) -> Result<Etcd, EmbedError> {
    if etcd_wal::Wal::exists(&cfg.wal_dir_or_default()) {
        cfg.validate_restart()?;
    } else {
        cfg.validate()?;
    }
    tracing::info!(
        "etcd-version" = etcd_server::SERVER_VERSION,
        "name" = %cfg.name,
        "data-dir" = %cfg.data_dir.display(),
        "starting an etcd server"
    );

    // Every TLS setting is checked (and auto-TLS certificates made) before anything
    // listens.
    let tls = MemberTls::build(&cfg)?;
    if !tls.peer.is_empty() {
        tracing::info!(
            "tls-info" = %describe(&tls.peer),
            "cipher-suites" = ?cfg.cipher_suites,
            "starting with peer TLS"
        );
    }
    // Peer listeners first, as etcd: warn on TLS settings given for plain-http URLs.
    for u in &cfg.listen_peer_urls {
        if u.scheme() == "http" {
            if !tls.peer.is_empty() {
                tracing::warn!(
                    "peer-url" = %url_string(u),
                    "scheme is HTTP while key and cert files are present; ignoring key and cert files"
                );
            }
            if tls.peer.client_cert_auth {
                tracing::warn!(
                    "peer-url" = %url_string(u),
                    "scheme is HTTP while --peer-client-cert-auth is enabled; ignoring client cert auth for this URL"
                );
            }
        }
    }
    let peer_listeners = bind_all(
        &cfg.listen_peer_urls,
        &listen_options(&cfg, ListenerKind::Peer, Some(tls.peer.clone())),
        "peer",
    )
    .await?;
    for u in &cfg.listen_client_urls {
        if matches!(u.scheme(), "http" | "unix") {
            if !tls.client.is_empty() {
                tracing::warn!(
                    "client-url" = %url_string(u),
                    "scheme is http or unix while key and cert files are present; ignoring key and cert files"
                );
            }
            if tls.client.client_cert_auth {
                tracing::warn!(
                    "client-url" = %url_string(u),
                    "scheme is http or unix while --client-cert-auth is enabled; ignoring client cert auth for this URL"
                );
            }
        }
    }
    let client_listeners = bind_all(
        &cfg.listen_client_urls,
        &listen_options(&cfg, ListenerKind::Client, Some(tls.client.clone())),
        "client",
    )
    .await?;
    // Metrics listeners on https use the client TLS, as etcd's.
    let metrics_listeners = bind_all(
        &cfg.listen_metrics_urls,
        &listen_options(&cfg, ListenerKind::Client, Some(tls.client.clone())),
        "metrics",
    )
    .await?;

    http::metrics_handle();
    let mut server_cfg = server_config(&cfg)?;
    server_cfg.peer_tls = tls.peer_dialing();
    if cfg.initial_cluster_state == ClusterState::Existing
        && !etcd_wal::Wal::exists(&server_cfg.wal_dir)
    {
        let join = crate::join::fetch_cluster(
            &cfg.initial_cluster_members()?,
            &cfg.initial_advertise_peer_urls,
            server_cfg.peer_tls.as_ref(),
        )
        .await?;
        server_cfg.join = Some(join);
    }
    let server = EtcdServer::start(server_cfg)?;

    let peer_urls: Vec<Url> = peer_listeners.iter().map(Listener::bound_url).collect();
    let client_urls: Vec<Url> = client_listeners.iter().map(Listener::bound_url).collect();
    let metrics_urls: Vec<Url> = metrics_listeners.iter().map(Listener::bound_url).collect();
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();

    let peer_router = server.peer_handler();
    for l in peer_listeners {
        tasks.push(serve::serve(l, peer_router.clone(), shutdown_rx.clone()));
    }
    for l in metrics_listeners {
        tasks.push(serve::serve(
            l,
            http::routes(server.clone()),
            shutdown_rx.clone(),
        ));
    }
    tracing::info!(
        "local-member-id" = %id_hex(server.member_id()),
        "initial-advertise-peer-urls" = ?url_strings(&cfg.initial_advertise_peer_urls),
        "listen-peer-urls" = ?url_strings(&peer_urls),
        "advertise-client-urls" = ?url_strings(&cfg.advertise_client_urls),
        "listen-client-urls" = ?url_strings(&client_urls),
        "listen-metrics-urls" = ?url_strings(&metrics_urls),
        "now serving peer/client/metrics"
    );

    // Clients are served once the member has published itself, as etcd does.
    let client_router = grpc_routes(server.clone())
        .into_axum_router()
        .merge(http::routes(server.clone()));
    {
        let server = server.clone();
        let shutdown_rx = shutdown_rx.clone();
        let client_tls_info = (!tls.client.is_empty()).then(|| describe(&tls.client));
        let cipher_suites = cfg.cipher_suites.clone();
        tasks.push(tokio::spawn(async move {
            if !server.ready().await {
                return;
            }
            if let Some(info) = client_tls_info {
                tracing::info!(
                    "tls-info" = %info,
                    "cipher-suites" = ?cipher_suites,
                    "starting with client TLS"
                );
            }
            let mut serving = Vec::new();
            for l in client_listeners {
                let url = l.bound_url();
                serving.push(serve::serve(l, client_router.clone(), shutdown_rx.clone()));
                tracing::info!("ready to serve client requests");
                let address = url
                    .host_str()
                    .map(|h| format!("{h}:{}", url.port().unwrap_or(0)))
                    .unwrap_or_else(|| url.path().to_string());
                if matches!(url.scheme(), "http" | "unix") {
                    tracing::info!(
                        %address,
                        "serving client traffic insecurely; this is strongly discouraged!"
                    );
                } else {
                    tracing::info!(%address, "serving client traffic securely");
                }
            }
            for s in serving {
                let _ = s.await;
            }
        }));
    }

    Ok(Etcd {
        server,
        client_urls,
        peer_urls,
        metrics_urls,
        shutdown,
        tasks: Mutex::new(tasks),
    })
}

impl Etcd {
    /// Client URLs with the real bound ports.
    pub fn client_urls(&self) -> &[Url] {
        &self.client_urls
    }

    pub fn peer_urls(&self) -> &[Url] {
        &self.peer_urls
    }

    pub fn metrics_urls(&self) -> &[Url] {
        &self.metrics_urls
    }

    /// Resolves when the member stops on its own (a fatal error).
    pub async fn stopped(&self) {
        self.server.stopped().await;
    }

    /// Graceful stop: stop accepting, let in-flight requests finish (bounded), stop the
    /// member's loops and make the backend durable.
    pub async fn close(&self) {
        self.shutdown.send_replace(true);
        // Peer streams never end on their own: close them so the peer listeners drain.
        self.server.stop_peer_transport();
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *self.tasks.lock());
        let drain = async {
            for t in tasks {
                let _ = t.await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(10), drain).await;
        self.server.stop().await;
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use bytes::Bytes;
    use etcd_transport::dial;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Short stand-in for [`PEER_CONN_TIMEOUT`], so the tests outlive several timeouts
    /// quickly.
    const TIMEOUT: Duration = Duration::from_millis(300);

    /// Bound for things that should happen at once; only hit when a test fails.
    const PATIENCE: Duration = Duration::from_secs(5);

    #[test]
    fn only_peer_listeners_get_etcds_timeouts() {
        let cfg = Config::default();
        let peer = listen_options(&cfg, ListenerKind::Peer, None);
        assert_eq!(peer.read_timeout, Some(Duration::from_secs(5)));
        assert_eq!(peer.write_timeout, Some(Duration::from_secs(5)));
        let client = listen_options(&cfg, ListenerKind::Client, None);
        assert_eq!(client.read_timeout, None);
        assert_eq!(client.write_timeout, None);
        for opts in [peer, client] {
            assert_eq!(opts.handshake_timeout, Some(TLS_HANDSHAKE_TIMEOUT));
        }
    }

    /// Serves `/stream` (`chunks` chunks, one every `TIMEOUT / 3`, like a raft stream
    /// fed by heartbeats) and `/ping` on a peer listener with `TIMEOUT` as its
    /// read/write timeout, through the real serve loop.
    async fn serve_peer_like(chunks: usize) -> (Url, watch::Sender<bool>) {
        let opts = ListenOptions {
            read_timeout: Some(TIMEOUT),
            write_timeout: Some(TIMEOUT),
            ..listen_options(&Config::default(), ListenerKind::Peer, None)
        };
        let listener = Listener::bind(&Url::parse("http://127.0.0.1:0").unwrap(), &opts)
            .await
            .unwrap();
        let url = listener.bound_url();
        let stream = move || async move {
            let beats = futures::stream::unfold(0, move |sent| async move {
                if sent == chunks {
                    return None;
                }
                tokio::time::sleep(TIMEOUT / 3).await;
                Some((Ok::<_, std::io::Error>(Bytes::from_static(b"h")), sent + 1))
            });
            Body::from_stream(beats)
        };
        let router = Router::new()
            .route("/stream", get(stream))
            .route("/ping", get(|| async { "pong" }));
        let (stop, stop_rx) = watch::channel(false);
        serve::serve(listener, router, stop_rx);
        (url, stop)
    }

    async fn send(conn: &mut etcd_transport::Conn, path: &str) {
        let req = format!("GET {path} HTTP/1.1\r\nHost: peer\r\n\r\n");
        conn.write_all(req.as_bytes()).await.unwrap();
    }

    #[tokio::test]
    async fn a_stream_the_client_never_writes_to_outlives_the_read_timeout() {
        let chunks = 15;
        let (url, _stop) = serve_peer_like(chunks).await;
        let mut conn = dial(&url, PATIENCE, None, None, None).await.unwrap();
        send(&mut conn, "/stream").await;
        let started = std::time::Instant::now();
        let mut raw = Vec::new();
        let mut buf = [0u8; 1024];
        // Chunked encoding ends with an empty chunk.
        while !raw.ends_with(b"0\r\n\r\n") {
            let n = tokio::time::timeout(PATIENCE, conn.read(&mut buf))
                .await
                .expect("the stream keeps flowing")
                .unwrap();
            assert!(
                n > 0,
                "the server cut the stream after {:?}: {}",
                started.elapsed(),
                String::from_utf8_lossy(&raw)
            );
            raw.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert_eq!(text.matches("\r\nh\r\n").count(), chunks, "{text}");
        assert!(started.elapsed() >= TIMEOUT * 4);
    }

    #[tokio::test]
    async fn an_idle_peer_connection_is_closed_after_the_read_timeout() {
        let (url, _stop) = serve_peer_like(0).await;
        let mut conn = dial(&url, PATIENCE, None, None, None).await.unwrap();
        send(&mut conn, "/ping").await;
        let mut raw = Vec::new();
        let mut buf = [0u8; 1024];
        while !raw.ends_with(b"pong") {
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "{}", String::from_utf8_lossy(&raw));
            raw.extend_from_slice(&buf[..n]);
        }
        // Kept alive, then recycled once idle for the timeout, as etcd's peer listener.
        let started = std::time::Instant::now();
        let n = tokio::time::timeout(PATIENCE, conn.read(&mut buf))
            .await
            .expect("the server closes an idle connection")
            .unwrap_or(0);
        assert_eq!(n, 0, "{}", String::from_utf8_lossy(&buf[..n]));
        assert!(started.elapsed() >= TIMEOUT / 2, "{:?}", started.elapsed());
    }
}
