//! Bootstrap: open the member's data directory, or create it for a new cluster, and
//! rebuild the raft log from the WAL and the key space from the backend.
//!
//! Invariants relied on here: the backend's consistent index A is never behind the newest
//! snapshot marker S that the restart starts from (a marker is written only after the
//! backend was synced at it), and never ahead of the WAL's last entry (entries are applied
//! only after they are durable in the WAL).

use std::path::Path;
use std::sync::Arc;

use etcd_mvcc::{Backend, BufferedBackend, KvStore, SledBackend};
use etcd_wal::{Wal, WalContents, WalOptions};
use protobuf::Message as _;
use raft::eraftpb::{ConfState, HardState};

use crate::apply::received_snapshot_path;
use crate::config::{JoinCluster, ServerConfig};
use crate::error::{Result, ServerError};
use crate::ids::{cluster_id, id_hex, member_id};
use crate::membership::{Member, Membership, load_conf_state};
use crate::raft_log::RaftLog;
use crate::raft_log::from_wal_entry;

/// Everything a member starts from.
pub struct Bootstrapped {
    pub member_id: u64,
    pub cluster_id: u64,
    pub wal: Wal,
    pub log: RaftLog,
    /// Raft index applied to the backend.
    pub applied: u64,
    pub snapshot_index: u64,
    pub store: Arc<KvStore>,
    pub membership: Arc<Membership>,
}

/// WAL metadata: which member and cluster this data directory belongs to.
fn encode_metadata(member: u64, cluster: u64) -> Vec<u8> {
    let mut b = member.to_be_bytes().to_vec();
    b.extend_from_slice(&cluster.to_be_bytes());
    b
}

fn decode_metadata(b: &[u8]) -> Result<(u64, u64)> {
    if b.len() != 16 {
        return Err(ServerError::Corrupt(format!(
            "WAL metadata has {} bytes, expected 16",
            b.len()
        )));
    }
    let mut m = [0u8; 8];
    let mut c = [0u8; 8];
    m.copy_from_slice(&b[..8]);
    c.copy_from_slice(&b[8..]);
    Ok((u64::from_be_bytes(m), u64::from_be_bytes(c)))
}

fn data_dir_err(path: &Path) -> impl FnOnce(std::io::Error) -> ServerError + '_ {
    move |source| ServerError::DataDir {
        path: path.display().to_string(),
        source,
    }
}

/// sled behind a write-behind buffer: the apply loop flushes it once per batch of
/// entries, so sled gets one batch per Ready instead of one per entry.
fn open_backend(cfg: &ServerConfig) -> Result<Arc<dyn Backend>> {
    let sled: Arc<dyn Backend> = Arc::new(SledBackend::open(
        &cfg.backend_dir(),
        cfg.backend_cache_bytes,
    )?);
    Ok(Arc::new(BufferedBackend::new(sled)))
}

fn wal_options(cfg: &ServerConfig) -> WalOptions {
    WalOptions {
        segment_size: cfg.wal_segment_size,
    }
}

pub fn bootstrap(cfg: &ServerConfig) -> Result<Bootstrapped> {
    let member_dir = cfg.member_dir();
    std::fs::create_dir_all(&member_dir).map_err(data_dir_err(&member_dir))?;
    let snap_dir = cfg.snap_dir();
    std::fs::create_dir_all(&snap_dir).map_err(data_dir_err(&snap_dir))?;
    if Wal::exists(&cfg.wal_dir) {
        restart(cfg)
    } else if let Some(join) = &cfg.join {
        join_existing(cfg, join)
    } else if cfg.new_cluster {
        create(cfg)
    } else {
        Err(ServerError::Config(
            "--initial-cluster-state=existing needs the cluster's members; none could be fetched"
                .into(),
        ))
    }
}

/// The index and term of the snapshot every founding member starts from. Members added
/// later are behind it, so they catch up by receiving the leader's backend.
const BOOTSTRAP_INDEX: u64 = 1;
const BOOTSTRAP_TERM: u64 = 1;

/// A backend without a WAL is from a bootstrap that crashed half way: start over.
fn fresh_backend(cfg: &ServerConfig) -> Result<Arc<dyn Backend>> {
    let db = cfg.backend_dir();
    if db.exists() {
        std::fs::remove_dir_all(&db).map_err(data_dir_err(&db))?;
    }
    open_backend(cfg)
}

/// A brand-new member of a new cluster: every member derives the same IDs and the same
/// initial configuration from `--initial-cluster`, so they all start from the same
/// snapshot and need no bootstrap entries.
fn create(cfg: &ServerConfig) -> Result<Bootstrapped> {
    let mut members = Vec::new();
    for (name, urls) in &cfg.initial_cluster {
        let id = member_id(urls, &cfg.initial_cluster_token, None);
        if members.iter().any(|m: &Member| m.id == id) {
            return Err(ServerError::Config(format!(
                "member {name} has the same ID {} as another member",
                id_hex(id)
            )));
        }
        members.push(Member {
            id,
            name: name.clone(),
            peer_urls: urls.clone(),
            client_urls: vec![],
            is_learner: false,
        });
    }
    let me = members
        .iter()
        .find(|m| m.name == cfg.name)
        .map(|m| m.id)
        .ok_or_else(|| {
            ServerError::Config(format!(
                "couldn't find local name {:?} in the initial cluster configuration",
                cfg.name
            ))
        })?;
    let cid = cluster_id(&members.iter().map(|m| m.id).collect::<Vec<_>>());

    let store = Arc::new(KvStore::open(fresh_backend(cfg)?)?);
    let membership = Arc::new(Membership::new(cid, me, members));
    let mut txn = store.write(BOOTSTRAP_INDEX);
    membership.save_all(txn.batch_mut());
    txn.commit()?;
    store.backend().sync()?;

    let conf_state = membership.conf_state();
    let mut wal = Wal::create(&cfg.wal_dir, &encode_metadata(me, cid), wal_options(cfg))?;
    wal.save_snapshot(&etcd_wal::SnapshotMarker {
        index: BOOTSTRAP_INDEX,
        term: BOOTSTRAP_TERM,
        conf_state: encode_conf(&conf_state)?,
    })?;
    wal.save(
        Some(&etcd_wal::HardState {
            term: BOOTSTRAP_TERM,
            vote: 0,
            commit: BOOTSTRAP_INDEX,
        }),
        &[],
    )?;
    tracing::info!(
        local_member_id = %id_hex(me),
        cluster_id = %id_hex(cid),
        "bootstrapped a new member of a new cluster"
    );
    Ok(Bootstrapped {
        member_id: me,
        cluster_id: cid,
        log: RaftLog::new(BOOTSTRAP_INDEX, BOOTSTRAP_TERM, conf_state, wal.reader()),
        wal,
        applied: BOOTSTRAP_INDEX,
        snapshot_index: BOOTSTRAP_INDEX,
        store,
        membership,
    })
}

/// A member added to a running cluster: it knows the members (to reach them) but has no
/// log and no configuration; the leader sends it a snapshot.
fn join_existing(cfg: &ServerConfig, join: &JoinCluster) -> Result<Bootstrapped> {
    let mut advertised = cfg.advertise_peer_urls.clone();
    advertised.sort();
    let me = join
        .members
        .iter()
        .find(|m| {
            let mut urls = m.peer_urls.clone();
            urls.sort();
            urls == advertised
        })
        .map(|m| m.id)
        .ok_or_else(|| {
            ServerError::Config(format!(
                "no member of cluster {} has the peer URLs {:?}: add this member first (etcdctl member add)",
                id_hex(join.cluster_id),
                cfg.advertise_peer_urls
            ))
        })?;
    let store = Arc::new(KvStore::open(fresh_backend(cfg)?)?);
    let membership = Arc::new(Membership::new(join.cluster_id, me, join.members.clone()));
    let mut wal = Wal::create(
        &cfg.wal_dir,
        &encode_metadata(me, join.cluster_id),
        wal_options(cfg),
    )?;
    wal.save_snapshot(&etcd_wal::SnapshotMarker {
        index: 0,
        term: 0,
        conf_state: encode_conf(&ConfState::default())?,
    })?;
    tracing::info!(
        local_member_id = %id_hex(me),
        cluster_id = %id_hex(join.cluster_id),
        "joining an existing cluster; waiting for a snapshot from its leader"
    );
    Ok(Bootstrapped {
        member_id: me,
        cluster_id: join.cluster_id,
        log: RaftLog::new(0, 0, ConfState::default(), wal.reader()),
        wal,
        applied: 0,
        snapshot_index: 0,
        store,
        membership,
    })
}

/// A member restarting from its data directory; `--initial-cluster*` flags are ignored.
fn restart(cfg: &ServerConfig) -> Result<Bootstrapped> {
    let (wal, contents) = Wal::open(&cfg.wal_dir, wal_options(cfg))?;
    let WalContents {
        metadata,
        hard_state,
        snapshots,
        entries,
        locations,
    } = contents;
    let (me, cid) = decode_metadata(&metadata)?;
    let backend = open_backend(cfg)?;
    let store = Arc::new(KvStore::open(backend.clone())?);
    // A snapshot from the leader whose restore did not finish: finish it now.
    if let Some(newest) = snapshots.last()
        && newest.index > store.consistent_index()
    {
        let path = received_snapshot_path(&cfg.snap_dir(), newest.index);
        if path.exists() {
            tracing::info!(
                index = newest.index,
                "finishing the restore of a received snapshot"
            );
            store.restore_from(&path)?;
            let _ = std::fs::remove_file(&path);
        }
    }
    let applied = store.consistent_index();
    if applied == 0 {
        return Err(ServerError::Corrupt(
            "this member joined a cluster but never received its first snapshot; remove its data directory and add it again"
                .into(),
        ));
    }
    let membership = Arc::new(Membership::load(backend.as_ref(), me)?);
    let conf_state = load_conf_state(backend.as_ref())?;

    let marker = snapshots
        .iter()
        .rev()
        .find(|s| s.index <= applied)
        .ok_or_else(|| {
            ServerError::Corrupt(format!(
                "the WAL has no snapshot marker at or below the backend's applied index {applied}"
            ))
        })?;
    let mut log = RaftLog::new(marker.index, marker.term, conf_state, wal.reader());
    let after_marker = entries.partition_point(|e| e.index <= marker.index);
    let raft_entries = entries[after_marker..]
        .iter()
        .map(from_wal_entry)
        .collect::<Result<Vec<_>>>()?;
    drop(entries);
    log.append(&raft_entries, &locations[after_marker..])
        .map_err(|e| ServerError::Corrupt(format!("WAL entries: {e}")))?;
    drop(raft_entries);
    log.spill(applied);
    if applied > log.last_index() {
        return Err(ServerError::Corrupt(format!(
            "the backend has applied index {applied} but the WAL ends at {}",
            log.last_index()
        )));
    }
    let hs = hard_state.unwrap_or_default();
    // The commit index recorded in the WAL may trail what was applied (commit-only hard
    // states are not synced); everything applied was committed.
    let commit = hs.commit.max(applied).min(log.last_index());
    log.set_hard_state(HardState {
        term: hs.term.max(marker.term),
        vote: hs.vote,
        commit,
        ..Default::default()
    });

    tracing::info!(
        local_member_id = %id_hex(me),
        cluster_id = %id_hex(cid),
        applied_index = applied,
        last_index = log.last_index(),
        commit_index = commit,
        snapshot_index = marker.index,
        "restarting member from its data directory; initial cluster flags are ignored"
    );
    Ok(Bootstrapped {
        member_id: me,
        cluster_id: cid,
        wal,
        log,
        applied,
        snapshot_index: marker.index,
        store,
        membership,
    })
}

fn encode_conf(cs: &ConfState) -> Result<Vec<u8>> {
    cs.write_to_bytes()
        .map_err(|e| ServerError::Corrupt(format!("cannot encode raft configuration: {e}")))
}
