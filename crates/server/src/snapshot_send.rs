//! Sending a snapshot to a member behind the leader's log: the backend is dumped on a
//! thread of its own (the apply loop pauses for the dump, the raft loop never waits), then
//! streamed by the peer transport. The staged file is deleted once sent.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Sender;

use etcd_mvcc::KvStore;
use raft::SnapshotStatus;
use raft::eraftpb::Message;

use crate::ids::id_hex;
use crate::raft_loop::{Peers, RaftMsg};

/// A staged dump, removed when the transport has read it (or given up).
struct StagedDump {
    file: File,
    path: PathBuf,
}

impl Read for StagedDump {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf)
    }
}

impl Drop for StagedDump {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn stage(store: &KvStore, dir: &Path, to: u64, index: u64) -> Result<(StagedDump, u64), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let path = dir.join(format!("send-{}-{index:016x}.db.tmp", id_hex(to)));
    let mut file = File::create(&path).map_err(|e| format!("create {}: {e}", path.display()))?;
    let info = store.snapshot_to(&mut file).map_err(|e| {
        let _ = std::fs::remove_file(&path);
        format!("dump the backend: {e}")
    })?;
    drop(file);
    let file = File::open(&path).map_err(|e| format!("open {}: {e}", path.display()))?;
    Ok((StagedDump { file, path }, info.size))
}

/// Dumps the backend and hands it to the transport with `msg`; reports failure to raft
/// if the dump cannot be made.
pub fn send_snapshot(
    msg: Message,
    store: Arc<KvStore>,
    peers: Arc<dyn Peers>,
    dir: PathBuf,
    raft_tx: Sender<RaftMsg>,
) {
    let to = msg.to;
    let index = msg.get_snapshot().get_metadata().index;
    let spawned = std::thread::Builder::new().name("snapshot-send".into()).spawn(move || {
        match stage(&store, &dir, to, index) {
            Ok((dump, size)) => {
                tracing::info!(to = %id_hex(to), index, size, "sending a snapshot to a member behind the log");
                peers.send_snapshot(msg, Box::new(dump), size);
            }
            Err(e) => {
                tracing::warn!(to = %id_hex(to), index, error = %e, "cannot send a snapshot");
                let _ = raft_tx.send(RaftMsg::ReportSnapshot(to, SnapshotStatus::Failure));
            }
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start a snapshot sender");
    }
}
