//! State shared by the transport, its peers' tasks and its handlers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hyper::HeaderMap;
use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};

use crate::config::TransportConfig;
use crate::error::RaftHttpError;
use crate::fatal::TransportFatal;
use crate::headers;
use crate::id::Hex;
use crate::raft::Raft;

/// Everything a peer task or handler needs; never holds the peers themselves, so tasks
/// do not keep the transport alive.
pub(crate) struct Shared {
    pub(crate) cfg: TransportConfig,
    pub(crate) raft: Arc<dyn Raft>,
    /// The runtime the transport was created in; tasks are spawned here.
    pub(crate) runtime: Handle,
    /// Fault injection: while true, nothing goes in or out.
    pub(crate) blackhole: watch::Sender<bool>,
    stopped: AtomicBool,
    fatal_tx: Mutex<mpsc::UnboundedSender<TransportFatal>>,
    /// RemovedFromCluster is reported once; every peer will keep saying it.
    removed_reported: AtomicBool,
    request_headers: HeaderMap,
    response_headers: HeaderMap,
}

impl Shared {
    pub(crate) fn new(
        cfg: TransportConfig,
        raft: Arc<dyn Raft>,
        runtime: Handle,
        fatal_tx: mpsc::UnboundedSender<TransportFatal>,
    ) -> Shared {
        Shared {
            request_headers: headers::base_request_headers(&cfg),
            response_headers: headers::base_response_headers(&cfg),
            cfg,
            raft,
            runtime,
            blackhole: watch::Sender::new(false),
            stopped: AtomicBool::new(false),
            fatal_tx: Mutex::new(fatal_tx),
            removed_reported: AtomicBool::new(false),
        }
    }

    pub(crate) fn local_id(&self) -> u64 {
        self.cfg.local_id
    }

    pub(crate) fn is_blackholed(&self) -> bool {
        *self.blackhole.borrow()
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    pub(crate) fn set_stopped(&self) {
        self.stopped.store(true, Ordering::Release);
    }

    /// True while traffic must not pass (blackholed or stopped).
    pub(crate) fn is_closed(&self) -> bool {
        self.is_blackholed() || self.is_stopped()
    }

    /// Headers for a request to peer `to`.
    pub(crate) fn request_headers(&self, to: u64) -> HeaderMap {
        let mut h = self.request_headers.clone();
        headers::set_raft_to(&mut h, to);
        h
    }

    /// Headers every answer of our handlers carries.
    pub(crate) fn response_headers(&self) -> &HeaderMap {
        &self.response_headers
    }

    /// Replaces the fatal channel's sender (the previous receiver sees it closed).
    pub(crate) fn replace_fatal_sender(&self, tx: mpsc::UnboundedSender<TransportFatal>) {
        *self.fatal_tx.lock() = tx;
    }

    /// Emits RemovedFromCluster the first time a peer says so.
    fn report_removed(&self, by: u64) {
        if self.removed_reported.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::error!(
            "local-member-id" = %Hex(self.local_id()),
            "remote-peer-id" = %Hex(by),
            "the member has been permanently removed from the cluster"
        );
        let _ = self
            .fatal_tx
            .lock()
            .send(TransportFatal::RemovedFromCluster { by });
    }

    /// Logs a peer's refusal the way etcd does and reports what is fatal.
    pub(crate) fn note_refusal(&self, peer: u64, err: &RaftHttpError) {
        match err {
            RaftHttpError::RemovedFromCluster { by } => self.report_removed(*by),
            RaftHttpError::ClusterIdMismatch { local, remote } => tracing::error!(
                "local-member-id" = %Hex(self.local_id()),
                "remote-peer-id" = %Hex(peer),
                "remote-peer-cluster-id" = %remote,
                "local-member-cluster-id" = %Hex(*local),
                "request sent was ignored due to cluster ID mismatch"
            ),
            RaftHttpError::IncompatibleVersion => tracing::warn!(
                "local-member-id" = %Hex(self.local_id()),
                "remote-peer-id" = %Hex(peer),
                "local-member-server-version" = %self.cfg.server_version,
                "local-member-min-cluster-version" = %self.cfg.min_cluster_version,
                "request sent was ignored by remote peer due to server version incompatibility"
            ),
            _ => {}
        }
    }
}
