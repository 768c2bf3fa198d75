//! Opening the watch streams of a fan-out run: all create requests of a stream are
//! pipelined, then the `created` confirmations are read in order.

use std::collections::BTreeMap;
use std::time::Instant;

use bytes::Bytes;
use etcd_api::etcdserverpb::watch_client::WatchClient;
use etcd_api::etcdserverpb::watch_request::RequestUnion;
use etcd_api::etcdserverpb::{WatchCreateRequest, WatchRequest, WatchResponse};
use futures::channel::mpsc;
use tonic::Streaming;
use tonic::transport::Channel;

use crate::failure::describe;
use crate::{Error, Recorder};

const STEP: &str = "watch create";

/// A watch stream whose watchers are all created.
#[derive(Debug)]
pub(crate) struct OpenStream {
    /// Kept so the stream stays open until the run ends.
    pub requests: mpsc::UnboundedSender<WatchRequest>,
    pub responses: Streaming<WatchResponse>,
    /// Number of this stream's watchers on each key index.
    pub watchers_per_key: BTreeMap<usize, u64>,
    /// Time from sending the creates to each confirmation.
    pub created: Recorder,
}

fn setup_error(message: impl Into<String>) -> Error {
    Error::Setup {
        step: STEP,
        message: message.into(),
    }
}

/// Opens a stream on `channel` with one watcher per entry of `watcher_keys` (indices
/// into `keys`), each watching from the current revision on.
pub(crate) async fn open(
    channel: Channel,
    keys: &[Bytes],
    watcher_keys: &[usize],
) -> Result<OpenStream, Error> {
    let (requests, rx) = mpsc::unbounded();
    let mut watchers_per_key = BTreeMap::new();
    let start = Instant::now();
    // etcd sends response headers only with the first message, so the creates are
    // queued before the call is awaited.
    for &k in watcher_keys {
        let key = keys.get(k).cloned().unwrap_or_default();
        let create = WatchRequest {
            request_union: Some(RequestUnion::CreateRequest(WatchCreateRequest {
                key,
                ..WatchCreateRequest::default()
            })),
        };
        requests
            .unbounded_send(create)
            .map_err(|_| setup_error("request queue closed"))?;
        *watchers_per_key.entry(k).or_insert(0) += 1;
    }
    let mut responses = WatchClient::new(channel)
        .watch(rx)
        .await
        .map_err(|status| setup_error(describe(&status)))?
        .into_inner();
    let mut created = Recorder::new();
    while created.count() < watcher_keys.len() as u64 {
        let response = responses
            .message()
            .await
            .map_err(|status| setup_error(describe(&status)))?
            .ok_or_else(|| setup_error("watch stream closed by the server"))?;
        if response.canceled {
            return Err(setup_error(format!(
                "watch canceled: {}",
                response.cancel_reason
            )));
        }
        if response.created {
            created.record(start.elapsed());
        }
    }
    Ok(OpenStream {
        requests,
        responses,
        watchers_per_key,
        created,
    })
}
