//! Probing a peer's `/raft/probing` to measure round-trip time and spot clock drift
//! (etcd's pipeline prober).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::{Method, StatusCode};
use tokio::time::{MissedTickBehavior, interval, timeout};
use url::Url;

use crate::client::{self, PeerConn};
use crate::error::RaftHttpError;
use crate::id::Hex;
use crate::metrics::PeerMetrics;
use crate::peer::urls::UrlPicker;
use crate::shared::Shared;

pub(crate) const PATH: &str = "/raft/probing";

/// etcd's `proberInterval` (ConnReadTimeout - 1s).
const PROBE_INTERVAL: Duration = Duration::from_secs(4);

/// A clock difference above this is logged (etcd's threshold).
const MAX_CLOCK_DRIFT: Duration = Duration::from_secs(1);

const BODY_LIMIT: usize = 1024;

/// The prober of one peer; runs until the peer is stopped.
pub(crate) struct Prober {
    pub(crate) shared: Arc<Shared>,
    pub(crate) peer: u64,
    pub(crate) urls: Arc<UrlPicker>,
    pub(crate) metrics: Arc<PeerMetrics>,
}

impl Prober {
    pub(crate) async fn run(self) {
        let mut ticker = interval(PROBE_INTERVAL);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut conn: Option<(Url, PeerConn<Empty<Bytes>>)> = None;
        let mut healthy = true;
        loop {
            ticker.tick().await;
            if self.shared.is_closed() {
                conn = None;
                continue;
            }
            let Some(url) = self.urls.pick() else {
                continue;
            };
            let start = Instant::now();
            match self.probe(&url, &mut conn).await {
                Ok(remote_now) => {
                    let rtt = start.elapsed();
                    self.metrics.round_trip_time.record(rtt.as_secs_f64());
                    if !healthy {
                        tracing::info!("remote-peer-id" = %Hex(self.peer), "prober detected healthy status");
                    }
                    healthy = true;
                    if let Some(remote_now) = remote_now {
                        self.check_drift(remote_now, rtt);
                    }
                }
                Err(err) => {
                    conn = None;
                    if healthy {
                        tracing::warn!(
                            "remote-peer-id" = %Hex(self.peer),
                            error = %err,
                            "prober detected unhealthy status"
                        );
                    }
                    healthy = false;
                }
            }
        }
    }

    /// One probe; returns the peer's clock reading when it sent one.
    async fn probe(
        &self,
        url: &Url,
        conn: &mut Option<(Url, PeerConn<Empty<Bytes>>)>,
    ) -> Result<Option<SystemTime>, RaftHttpError> {
        let endpoint = client::endpoint(url, PATH);
        let reuse = matches!(conn, Some((u, c)) if u == url && c.is_open());
        if !reuse {
            *conn = Some((url.clone(), PeerConn::connect(&self.shared, url).await?));
        }
        let Some((_, c)) = conn.as_mut() else {
            return Err(RaftHttpError::TransportStopped);
        };
        let req = client::build_request(
            &self.shared,
            Method::GET,
            url,
            PATH,
            self.peer,
            None,
            Empty::new(),
        )?;
        let exchange = async {
            let resp = c.send(req).await?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), BODY_LIMIT).collect().await;
            Ok::<_, hyper::Error>((status, body.map(|b| b.to_bytes()).ok()))
        };
        let (status, body) = match timeout(PROBE_INTERVAL, exchange).await {
            Ok(Ok(r)) => r,
            Ok(Err(source)) => {
                return Err(RaftHttpError::Http {
                    action: "probing",
                    url: endpoint,
                    source,
                });
            }
            Err(_) => {
                return Err(RaftHttpError::Timeout {
                    action: "probing",
                    url: endpoint,
                });
            }
        };
        if status != StatusCode::OK {
            return Err(RaftHttpError::UnexpectedStatus {
                status: status.as_u16(),
                action: "probing",
                url: endpoint,
            });
        }
        Ok(body.as_deref().and_then(parse_now))
    }

    fn check_drift(&self, remote_now: SystemTime, rtt: Duration) {
        // The peer read its clock about half a round trip ago.
        let local = SystemTime::now() - rtt / 2;
        let drift = match remote_now.duration_since(local) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        if drift > MAX_CLOCK_DRIFT {
            tracing::warn!(
                "remote-peer-id" = %Hex(self.peer),
                "clock-drift" = ?drift,
                "round-trip-time" = ?rtt,
                "prober found high clock drift"
            );
        }
    }
}

/// The body `/raft/probing` answers with: `{"Health":true,"Now":"<RFC 3339>"}`.
pub(crate) fn health_body(now: SystemTime) -> String {
    serde_json::json!({
        "Health": true,
        "Now": humantime::format_rfc3339_nanos(now).to_string(),
    })
    .to_string()
}

/// The `Now` of a health body, when present and readable.
fn parse_now(body: &[u8]) -> Option<SystemTime> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    humantime::parse_rfc3339(v.get("Now")?.as_str()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_body_round_trips_the_time() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        let body = health_body(now);
        assert!(body.contains("\"Health\":true"));
        assert_eq!(parse_now(body.as_bytes()), Some(now));
        assert_eq!(parse_now(b"{\"Health\":true}"), None);
        assert_eq!(parse_now(b"garbage"), None);
    }
}
