//! EtcdServer: starts the raft, apply and read loops over a bootstrapped data directory and
//! serves requests through them.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use etcd_api::etcdserverpb::{ResponseHeader, StatusResponse};
use etcd_lease::{DEFAULT_CHECKPOINT_INTERVAL, Lessor};
use etcd_mvcc::KvStore;
use etcd_mvcc::watch::{WatchConfig, WatchableStore};
use etcd_rafthttp::{Transport, TransportConfig, TransportFatal};
use parking_lot::Mutex;
use raft::RawNode;

use crate::apply::ApplyLoop;
use crate::bootstrap::bootstrap;
use crate::config::ServerConfig;
use crate::error::{Result, ServerError};
use crate::ids::{RequestIdGenerator, id_hex};
use crate::membership::Membership;
use crate::metrics as m;
use crate::node_state::NodeState;
use crate::peer_transport::{RaftAdapter, TransportPeers};
use crate::raft_logger;
use crate::raft_loop::{Peers, RaftLoop, RaftMsg};
use crate::read_index::{ReadLoop, ReadQueue};
use crate::wait::Waiters;

/// The etcd API version this server implements and reports (Status, /version).
pub const SERVER_VERSION: &str = "3.5.0";
/// The cluster version reported alongside it.
pub const CLUSTER_VERSION: &str = "3.5.0";

/// A running member.
pub struct EtcdServer {
    pub(crate) cfg: ServerConfig,
    pub(crate) member_id: u64,
    pub(crate) cluster_id: u64,
    pub(crate) store: Arc<KvStore>,
    pub(crate) watchable: Arc<WatchableStore>,
    pub(crate) lessor: Arc<Lessor>,
    pub(crate) alarms: Arc<crate::alarms::Alarms>,
    pub(crate) membership: Arc<Membership>,
    pub(crate) state: Arc<NodeState>,
    pub(crate) waiters: Arc<Waiters>,
    pub(crate) raft_tx: mpsc::Sender<RaftMsg>,
    pub(crate) reqid: RequestIdGenerator,
    pub(crate) reads: Arc<ReadQueue>,
    pub(crate) transport: Arc<Transport>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) meters: m::Meters,
}

impl std::fmt::Debug for EtcdServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdServer")
            .field("member_id", &id_hex(self.member_id))
            .finish_non_exhaustive()
    }
}

impl EtcdServer {
    /// Opens or creates the data directory and starts the member's loops. Must be called
    /// inside a tokio runtime. The member then elects a leader and publishes itself.
    pub fn start(cfg: ServerConfig) -> Result<Arc<EtcdServer>> {
        m::describe();
        let boot = bootstrap(&cfg)?;
        let member_id = boot.member_id;
        let raft_cfg = raft::Config {
            id: member_id,
            election_tick: cfg.election_ticks(),
            heartbeat_tick: 1,
            applied: boot.applied,
            max_size_per_msg: 1024 * 1024,
            max_inflight_msgs: 512,
            check_quorum: true,
            pre_vote: cfg.pre_vote,
            ..Default::default()
        };
        raft_cfg.validate()?;
        let term = boot.log.hard_state().term;
        let committed = boot.log.hard_state().commit;
        let mut node = RawNode::new(&raft_cfg, boot.log, &raft_logger::logger())?;
        let sole_voter = {
            let cs = boot.membership.conf_state();
            cs.voters == [member_id] && cs.learners.is_empty()
        };
        if sole_voter {
            // Nobody to wait for: become leader now instead of after an election timeout.
            node.campaign()?;
        }

        let state = Arc::new(NodeState::new(member_id, boot.applied, committed, term));
        state.set_learner(boot.membership.local_is_learner());
        let waiters = Arc::new(Waiters::default());
        let (raft_tx, raft_rx) = mpsc::channel();
        let transport = Transport::new(
            TransportConfig {
                local_id: member_id,
                cluster_id: boot.cluster_id,
                server_version: SERVER_VERSION.into(),
                min_cluster_version: "3.0.0".into(),
                tls: cfg.peer_tls.clone(),
                dial_timeout: etcd_rafthttp::DEFAULT_DIAL_TIMEOUT,
                write_timeout: etcd_rafthttp::DEFAULT_WRITE_TIMEOUT,
                snapshot_dir: cfg.snap_dir(),
            },
            Arc::new(RaftAdapter {
                raft_tx: raft_tx.clone(),
                membership: boot.membership.clone(),
            }),
        );
        let peers: Arc<dyn Peers> = Arc::new(TransportPeers(transport.clone()));
        for m in boot.membership.members() {
            if m.id != member_id {
                peers.add_peer(m.id, m.peer_urls.clone());
            }
        }
        // A peer telling us we were removed stops this member, as etcd does.
        {
            let mut fatal = transport.take_fatal_errors();
            let state = state.clone();
            tokio::spawn(async move {
                if let Some(TransportFatal::RemovedFromCluster { by }) = fatal.recv().await {
                    state.fail(format!(
                        "the member has been permanently removed from the cluster (told by {})",
                        id_hex(by)
                    ));
                }
            });
        }
        let (apply_tx, apply_rx) = mpsc::channel();
        let (read_tx, read_rx) = tokio::sync::mpsc::unbounded_channel();
        let reads = Arc::new(ReadQueue::default());

        let raft_loop = RaftLoop {
            node,
            wal: boot.wal,
            rx: raft_rx,
            apply_tx,
            read_tx,
            state: state.clone(),
            waiters: waiters.clone(),
            peers: peers.clone(),
            store: boot.store.clone(),
            snap_dir: cfg.snap_dir(),
            raft_tx: raft_tx.clone(),
            tick: cfg.heartbeat,
            catchup_entries: cfg.snapshot_catchup_entries,
        };
        let watchable = WatchableStore::with_config(
            boot.store.clone(),
            WatchConfig {
                progress_interval: cfg.watch_progress_notify_interval,
                ..WatchConfig::default()
            },
        );
        // etcd's minimum lease TTL: 1.5 election timeouts, in whole seconds.
        let min_ttl = ((cfg.election_timeout.as_millis() as i64 * 3 / 2) + 999) / 1000;
        // With checkpointing off the lessor still schedules checkpoints at etcd's default
        // interval; the leader just never proposes them (see `run_lessor`).
        let checkpoint_interval = cfg
            .lease_checkpoint_interval
            .unwrap_or(DEFAULT_CHECKPOINT_INTERVAL);
        let lessor = Arc::new(Lessor::new(min_ttl.max(1), checkpoint_interval));
        lessor.recover(boot.store.backend().as_ref(), &boot.store)?;
        let alarms = Arc::new(crate::alarms::Alarms::load(boot.store.backend().as_ref())?);
        let meters = m::Meters::register();
        let apply_loop = ApplyLoop {
            rx: apply_rx,
            store: boot.store.clone(),
            watchable: watchable.clone(),
            lessor: lessor.clone(),
            alarms: alarms.clone(),
            membership: boot.membership.clone(),
            waiters: waiters.clone(),
            state: state.clone(),
            raft_tx: raft_tx.clone(),
            peers,
            snap_dir: cfg.snap_dir(),
            snapshot_count: cfg.snapshot_count.max(1),
            snapshot_index: boot.snapshot_index,
            meters: meters.clone(),
        };
        // A panic on one of these threads stops the member with a fatal error instead of
        // leaving it up with nothing applying or replicating.
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            let (state, waiters, thread) = (state.clone(), waiters.clone(), name.to_string());
            let guarded = move || {
                if state.run_or_fail(&thread, f) {
                    waiters.fail_all(|| ServerError::Stopped);
                }
            };
            std::thread::Builder::new()
                .name(name.to_string())
                .spawn(guarded)
                .map_err(|source| ServerError::DataDir {
                    path: name.to_string(),
                    source,
                })
        };
        let threads = vec![
            spawn("raft", Box::new(move || raft_loop.run()))?,
            spawn("apply", Box::new(move || apply_loop.run()))?,
        ];
        tokio::spawn(
            ReadLoop {
                queue: reads.clone(),
                read_rx,
                raft_tx: raft_tx.clone(),
                state: state.clone(),
                request_timeout: cfg.request_timeout(),
            }
            .run(),
        );

        metrics::gauge!(m::SERVER_ID, "server_id" => id_hex(member_id)).set(1.0);
        metrics::gauge!(m::SERVER_VERSION, "server_version" => SERVER_VERSION).set(1.0);
        metrics::gauge!(m::CLUSTER_VERSION, "cluster_version" => CLUSTER_VERSION).set(1.0);
        metrics::gauge!(m::QUOTA_BACKEND_BYTES).set(cfg.quota_bytes() as f64);

        let server = Arc::new(EtcdServer {
            member_id,
            cluster_id: boot.cluster_id,
            store: boot.store,
            watchable,
            lessor,
            alarms,
            membership: boot.membership,
            state,
            waiters,
            raft_tx,
            reqid: RequestIdGenerator::new(member_id),
            reads,
            transport,
            threads: Mutex::new(threads),
            meters,
            cfg,
        });
        tracing::info!(
            "local-member-id" = %id_hex(member_id),
            "cluster-id" = %id_hex(server.cluster_id),
            "server-version" = SERVER_VERSION,
            "started etcd server"
        );
        tokio::spawn(server.clone().publish());
        tokio::spawn(crate::lease_ops::run_lessor(server.clone()));
        Ok(server)
    }

    pub fn member_id(&self) -> u64 {
        self.member_id
    }

    pub fn cluster_id(&self) -> u64 {
        self.cluster_id
    }

    /// Current leader, 0 if none.
    pub fn leader(&self) -> u64 {
        self.state.leader()
    }

    pub fn term(&self) -> u64 {
        self.state.term()
    }

    pub fn applied_index(&self) -> u64 {
        self.state.applied()
    }

    pub fn committed_index(&self) -> u64 {
        self.state.committed()
    }

    pub fn config(&self) -> &ServerConfig {
        &self.cfg
    }

    pub fn store(&self) -> &Arc<KvStore> {
        &self.store
    }

    /// The watchers of this member's key space.
    pub fn watchable(&self) -> &Arc<WatchableStore> {
        &self.watchable
    }

    pub fn membership(&self) -> &Arc<Membership> {
        &self.membership
    }

    /// Resolves once the member has published itself and can serve clients; returns false
    /// if it stopped first.
    pub async fn ready(&self) -> bool {
        tokio::select! {
            ok = self.state.wait_published() => ok,
            _ = self.state.wait_stopped() => false,
        }
    }

    /// Resolves once the member has stopped (by [`EtcdServer::stop`] or a fatal error).
    pub async fn stopped(&self) {
        self.state.wait_stopped().await;
    }

    /// The fatal error the member stopped on, if any.
    pub fn fatal_error(&self) -> Option<String> {
        self.state.fatal_error()
    }

    /// Stops the loops and waits for them; what was applied is synced to the backend.
    pub async fn stop(&self) {
        self.state.stop();
        self.transport.stop();
        let threads: Vec<JoinHandle<()>> = std::mem::take(&mut *self.threads.lock());
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
        self.waiters.fail_all(|| ServerError::Stopped);
    }

    /// Routes for the peer listeners: the raft transport plus `/members` and `/version`.
    pub fn peer_handler(self: &Arc<Self>) -> axum::Router {
        self.transport
            .handler()
            .merge(crate::peer_http::peer_routes(self.clone()))
    }

    /// Closes every peer connection (before draining the peer listeners on shutdown).
    pub fn stop_peer_transport(&self) {
        self.transport.stop();
    }

    /// Fault injection for tests: cut this member off from every peer, or heal it.
    pub fn set_peer_blackhole(&self, on: bool) {
        self.transport.set_blackhole(on);
    }

    /// Since when a peer has been reachable (None: not now).
    pub fn peer_active_since(&self, id: u64) -> Option<std::time::Instant> {
        self.transport.active_since(id)
    }

    /// The header of every response: who answers, at which revision and term.
    pub fn header(&self, revision: i64) -> ResponseHeader {
        ResponseHeader {
            cluster_id: self.cluster_id,
            member_id: self.member_id,
            revision,
            raft_term: self.state.term(),
        }
    }

    /// Fills in the member fields of a header mvcc started (keeping its revision).
    pub(crate) fn fill_header(&self, header: &mut Option<ResponseHeader>) {
        let revision = match header {
            Some(h) if h.revision != 0 => h.revision,
            _ => self.store.current_revision(),
        };
        *header = Some(self.header(revision));
    }

    /// Maintenance.Status.
    pub fn status(&self) -> StatusResponse {
        let backend = self.store.backend();
        StatusResponse {
            header: Some(self.header(self.store.current_revision())),
            version: SERVER_VERSION.to_string(),
            db_size: backend.size_bytes() as i64,
            leader: self.state.leader(),
            raft_index: self.state.committed(),
            raft_term: self.state.term(),
            raft_applied_index: self.state.applied(),
            errors: self.alarms.status_errors(),
            db_size_in_use: backend.size_in_use_bytes().min(backend.size_bytes()) as i64,
            is_learner: self.state.is_learner(),
            storage_version: CLUSTER_VERSION.to_string(),
            db_size_quota: self.cfg.quota_bytes() as i64,
            downgrade_info: None,
        }
    }
}
