//! Received snapshot databases on disk: where they go and how they are written
//! (temp file, fsync, rename, directory fsync, as etcd's `SaveDBFrom`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Body;
use tokio::fs::{File, OpenOptions};
use tokio::io::AsyncWriteExt;

use crate::error::RaftHttpError;

/// Where a received snapshot's database for raft index `index` is written:
/// `{dir}/{index:016x}.snap.db`, etcd's name.
pub fn snapshot_db_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("{index:016x}.snap.db"))
}

/// A temp name unique within the process, so concurrent receives never share a file.
fn temp_path(dir: &Path, index: u64) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(
        "{index:016x}.snap.db.tmp-{}-{seq}",
        std::process::id()
    ))
}

/// Writes `head` and then the rest of `body` to `snapshot_db_path(dir, index)`: the
/// file appears there complete and durable or not at all. Returns the bytes written.
pub(crate) async fn save_db_from<B>(
    dir: &Path,
    index: u64,
    head: Bytes,
    body: B,
) -> Result<u64, RaftHttpError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let tmp = temp_path(dir, index);
    let result = write_all(&tmp, head, body).await;
    let result = match result {
        Ok(n) => publish(dir, &tmp, &snapshot_db_path(dir, index))
            .await
            .map(|()| n),
        Err(err) => Err(err),
    };
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

async fn write_all<B>(tmp: &Path, head: Bytes, mut body: B) -> Result<u64, RaftHttpError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .await
        .map_err(|e| RaftHttpError::io("create", tmp, e))?;
    let mut written = head.len() as u64;
    file.write_all(&head)
        .await
        .map_err(|e| RaftHttpError::io("write", tmp, e))?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| RaftHttpError::ReceiveBody {
            reason: e.to_string(),
        })?;
        if let Ok(data) = frame.into_data() {
            written += data.len() as u64;
            file.write_all(&data)
                .await
                .map_err(|e| RaftHttpError::io("write", tmp, e))?;
        }
    }
    file.flush()
        .await
        .map_err(|e| RaftHttpError::io("write", tmp, e))?;
    file.sync_all()
        .await
        .map_err(|e| RaftHttpError::io("fsync", tmp, e))?;
    Ok(written)
}

/// Renames the synced temp file into place and makes the rename durable.
async fn publish(dir: &Path, tmp: &Path, dest: &Path) -> Result<(), RaftHttpError> {
    tokio::fs::rename(tmp, dest)
        .await
        .map_err(|e| RaftHttpError::io("rename", dest, e))?;
    let d = File::open(dir)
        .await
        .map_err(|e| RaftHttpError::io("open", dir, e))?;
    d.sync_all()
        .await
        .map_err(|e| RaftHttpError::io("fsync", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::ChannelBody;

    #[test]
    fn path_uses_etcd_name() {
        assert_eq!(
            snapshot_db_path(Path::new("snap"), 0x2a),
            Path::new("snap").join("000000000000002a.snap.db")
        );
    }

    #[tokio::test]
    async fn saves_head_and_body_then_renames() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, body) = ChannelBody::new(4);
        let _ = tx.send(Ok(Bytes::from_static(b"world"))).await;
        drop(tx);
        let n = save_db_from(dir.path(), 7, Bytes::from_static(b"hello "), body).await;
        assert_eq!(n.unwrap(), 11);
        let got = std::fs::read(snapshot_db_path(dir.path(), 7)).unwrap();
        assert_eq!(got, b"hello world");
        // Only the final file is left.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn a_broken_body_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, body) = ChannelBody::new(4);
        let _ = tx.send(Ok(Bytes::from_static(b"partial"))).await;
        let _ = tx.send(Err(RaftHttpError::Truncated)).await;
        drop(tx);
        let res = save_db_from(dir.path(), 7, Bytes::new(), body).await;
        assert!(matches!(res, Err(RaftHttpError::ReceiveBody { .. })));
        assert!(!snapshot_db_path(dir.path(), 7).exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
