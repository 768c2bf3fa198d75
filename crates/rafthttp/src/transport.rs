//! The transport: the set of peers, routing of outgoing messages, the routes for the
//! peer listener, and the switches (blackhole, stop).

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use raft::SnapshotStatus;
use raft::eraftpb::{Message, MessageType};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::config::TransportConfig;
use crate::fatal::TransportFatal;
use crate::handler;
use crate::id::Hex;
use crate::metrics;
use crate::peer::{Peer, parse_urls};
use crate::raft::Raft;
use crate::shared::Shared;

/// Sends raft messages to peers and serves theirs. `Send + Sync`; used as
/// `Arc<Transport>`. Dropping the last reference stops every peer task.
pub struct Transport {
    shared: Arc<Shared>,
    peers: RwLock<HashMap<u64, Arc<Peer>>>,
    /// The receiver created with the transport, until someone takes it.
    fatal_rx: Mutex<Option<mpsc::UnboundedReceiver<TransportFatal>>>,
}

impl Transport {
    /// Creates a transport with no peers. Must be called inside a tokio runtime; every
    /// task of the transport runs on that runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn new(cfg: TransportConfig, raft: Arc<dyn Raft>) -> Arc<Transport> {
        metrics::describe();
        let (fatal_tx, fatal_rx) = mpsc::unbounded_channel();
        let shared = Shared::new(cfg, raft, Handle::current(), fatal_tx);
        Arc::new(Transport {
            shared: Arc::new(shared),
            peers: RwLock::new(HashMap::new()),
            fatal_rx: Mutex::new(Some(fatal_rx)),
        })
    }

    /// Starts talking to member `id` at `urls`. Adding a known peer, ourselves, or any
    /// peer after [`Transport::stop`] does nothing.
    pub fn add_peer(&self, id: u64, urls: Vec<String>) {
        if self.shared.is_stopped() || id == self.shared.local_id() {
            return;
        }
        let mut peers = self.peers.write();
        if peers.contains_key(&id) {
            return;
        }
        let parsed = parse_urls(id, &urls);
        peers.insert(id, Peer::start(self.shared.clone(), id, parsed));
        tracing::info!(
            "local-member-id" = %Hex(self.shared.local_id()),
            "remote-peer-id" = %Hex(id),
            "remote-peer-urls" = ?urls,
            "added remote peer"
        );
    }

    /// Replaces the URLs of member `id`.
    pub fn update_peer(&self, id: u64, urls: Vec<String>) {
        let Some(peer) = self.peer(id) else {
            tracing::debug!("remote-peer-id" = %Hex(id), "ignored update of unknown remote peer");
            return;
        };
        let parsed = parse_urls(id, &urls);
        tracing::info!(
            "local-member-id" = %Hex(self.shared.local_id()),
            "remote-peer-id" = %Hex(id),
            "remote-peer-urls-old" = ?peer.urls().iter().map(|u| u.as_str()).collect::<Vec<_>>(),
            "remote-peer-urls" = ?urls,
            "updated remote peer"
        );
        peer.update_urls(parsed);
    }

    /// Stops talking to member `id`: its tasks end, its streams close, and messages to it
    /// are dropped from now on.
    pub fn remove_peer(&self, id: u64) {
        let removed = self.peers.write().remove(&id);
        if let Some(peer) = removed {
            peer.stop();
            tracing::info!(
                "local-member-id" = %Hex(self.shared.local_id()),
                "removed-remote-peer-id" = %Hex(id),
                "removed remote peer"
            );
        }
    }

    /// Queues messages for their `to` members without waiting. A message to an unknown
    /// member is dropped; MsgSnapshot must go through [`Transport::send_snapshot`] (one
    /// that arrives here is dropped and reported as a failed snapshot).
    pub fn send(&self, msgs: Vec<Message>) {
        if self.shared.is_closed() {
            return;
        }
        let peers = self.peers.read();
        for msg in msgs {
            if msg.to == 0 {
                continue;
            }
            if msg.get_msg_type() == MessageType::MsgSnapshot {
                tracing::error!(
                    "remote-peer-id" = %Hex(msg.to),
                    "MsgSnapshot must be sent with send_snapshot; dropped"
                );
                self.shared
                    .raft
                    .report_snapshot(msg.to, SnapshotStatus::Failure);
                continue;
            }
            match peers.get(&msg.to) {
                Some(peer) => peer.send(msg),
                None => tracing::debug!(
                    "type" = ?msg.get_msg_type(),
                    "unknown-target-peer-id" = %Hex(msg.to),
                    "ignored message send request; unknown remote peer target"
                ),
            }
        }
    }

    /// Streams a snapshot to `msg.to`: the MsgSnapshot, then `size` bytes of `data`
    /// (read on a blocking thread). The outcome goes to `Raft::report_snapshot`
    /// (Finish or Failure), also when the peer is unknown or removed meanwhile.
    pub fn send_snapshot(&self, msg: Message, data: Box<dyn Read + Send>, size: u64) {
        let to = msg.to;
        let peer = if self.shared.is_closed() {
            None
        } else {
            self.peer(to)
        };
        match peer {
            Some(peer) => peer.send_snapshot(msg, data, size),
            None => {
                tracing::debug!("remote-peer-id" = %Hex(to), "snapshot not sent: unknown peer or transport closed");
                self.shared
                    .raft
                    .report_snapshot(to, SnapshotStatus::Failure);
            }
        }
    }

    /// The raft routes for the peer listener: `POST /raft`, `GET /raft/stream/msgapp/{from}`,
    /// `GET /raft/stream/message/{from}`, `POST /raft/snapshot`, `GET /raft/probing`.
    pub fn handler(self: &Arc<Self>) -> axum::Router {
        handler::router(self.clone())
    }

    /// Since when member `id` has been reachable (a stream up either way, or a request
    /// answered); `None` when it is not, or not known.
    pub fn active_since(&self, id: u64) -> Option<Instant> {
        self.peer(id).and_then(|p| p.active_since())
    }

    /// Fault injection: while on, every message in and out is dropped, every incoming
    /// request is answered 503 and streams are torn down.
    pub fn set_blackhole(&self, on: bool) {
        let was = self.shared.blackhole.send_replace(on);
        if was != on {
            tracing::info!(
                "local-member-id" = %Hex(self.shared.local_id()),
                blackhole = on,
                "raft transport blackhole switched"
            );
        }
    }

    /// The channel of fatal conditions. The first call gets every condition since the
    /// transport was created; a later call gets a fresh channel (the earlier receiver
    /// then sees it closed).
    pub fn take_fatal_errors(&self) -> mpsc::UnboundedReceiver<TransportFatal> {
        if let Some(rx) = self.fatal_rx.lock().take() {
            return rx;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        self.shared.replace_fatal_sender(tx);
        rx
    }

    /// Stops every peer; afterwards nothing is sent and requests are answered 503.
    pub fn stop(&self) {
        self.shared.set_stopped();
        let peers: Vec<_> = self.peers.write().drain().map(|(_, p)| p).collect();
        for peer in &peers {
            peer.stop();
        }
        tracing::info!(
            "local-member-id" = %Hex(self.shared.local_id()),
            "stopped raft transport"
        );
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    pub(crate) fn peer(&self, id: u64) -> Option<Arc<Peer>> {
        self.peers.read().get(&id).cloned()
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        for peer in self.peers.get_mut().values() {
            peer.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::error::RaftHttpError;

    struct NullRaft;

    impl Raft for NullRaft {
        fn process(&self, _msg: Message) -> Result<(), RaftHttpError> {
            Ok(())
        }
        fn is_id_removed(&self, _id: u64) -> bool {
            false
        }
        fn report_unreachable(&self, _id: u64) {}
        fn report_snapshot(&self, _id: u64, _status: SnapshotStatus) {}
    }

    fn transport() -> Arc<Transport> {
        Transport::new(
            TransportConfig {
                local_id: 1,
                cluster_id: 0xc1,
                server_version: "3.5.0".into(),
                min_cluster_version: "3.0.0".into(),
                tls: None,
                dial_timeout: crate::DEFAULT_DIAL_TIMEOUT,
                write_timeout: crate::DEFAULT_WRITE_TIMEOUT,
                snapshot_dir: std::env::temp_dir(),
            },
            Arc::new(NullRaft),
        )
    }

    async fn wait_stopped(peer: &Peer) {
        for _ in 0..1000 {
            if peer.is_stopped() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("peer tasks still running");
    }

    #[tokio::test]
    async fn remove_peer_ends_every_task() {
        let t = transport();
        t.add_peer(2, vec!["http://127.0.0.1:9".into()]);
        let peer = t.peer(2).unwrap();
        assert!(!peer.is_stopped());
        t.remove_peer(2);
        assert!(t.peer(2).is_none());
        wait_stopped(&peer).await;
    }

    #[tokio::test]
    async fn add_peer_ignores_self_duplicates_and_a_stopped_transport() {
        let t = transport();
        t.add_peer(1, vec!["http://127.0.0.1:9".into()]);
        assert!(t.peer(1).is_none());
        t.add_peer(2, vec!["http://127.0.0.1:9".into()]);
        let first = t.peer(2).unwrap();
        t.add_peer(2, vec!["http://127.0.0.1:10".into()]);
        assert!(Arc::ptr_eq(&first, &t.peer(2).unwrap()));
        t.update_peer(2, vec!["http://127.0.0.1:11".into()]);
        assert_eq!(first.urls()[0].as_str(), "http://127.0.0.1:11/");
        t.stop();
        assert!(t.peer(2).is_none());
        wait_stopped(&first).await;
        t.add_peer(3, vec!["http://127.0.0.1:9".into()]);
        assert!(t.peer(3).is_none());
    }

    #[tokio::test]
    async fn dropping_the_transport_stops_its_peers() {
        let t = transport();
        t.add_peer(2, vec!["http://127.0.0.1:9".into()]);
        let peer = t.peer(2).unwrap();
        drop(t);
        wait_stopped(&peer).await;
    }
}
