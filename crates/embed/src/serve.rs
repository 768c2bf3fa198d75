//! Serving HTTP/1.1 and HTTP/2 (gRPC) on our own listeners: one accept loop per listener,
//! one hyper connection per client, graceful drain on shutdown.

use std::time::Duration;

use axum::Router;
use etcd_transport::Listener;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::authority_fix_stream::AuthorityFixStream;

/// How long open connections get to finish their requests on shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

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
                        // The TLS handshake runs in the connection's task, not the accept loop.
                        let (svc, builder, watcher) = (TowerToHyperService::new(router.clone()), builder.clone(), graceful.watcher());
                        tokio::spawn(async move {
                            let conn = match accepted.handshake().await {
                                Ok(conn) => conn,
                                Err(e) => {
                                    tracing::debug!(error = %e, "TLS handshake failed");
                                    return;
                                }
                            };
                            let conn = builder.serve_connection_with_upgrades(TokioIo::new(AuthorityFixStream::new(conn)), svc).into_owned();
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
