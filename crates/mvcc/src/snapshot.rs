//! Whole-backend copies: a consistent dump of every bucket (what a lagging member
//! receives), and replacing the store's contents with one in place.
//!
//! Format: magic, version, then records `[bucket prefix u8][key len u32][key][value len
//! u32][value]` (big-endian lengths), an end record `0xff`, and a CRC-32 of everything
//! before it.

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::atomic::Ordering;

use crate::compaction::CompactionWaiter;
use crate::meta::{self, CONSISTENT_INDEX_KEY};
use crate::restore::restore_index;
use crate::store::KvStore;
use crate::{Bucket, MvccError, WriteBatch};

const MAGIC: &[u8; 8] = b"ETCDRSDB";
const VERSION: u32 = 1;
const END: u8 = 0xff;
const SCAN_CHUNK: usize = 4096;
/// Records per backend write when loading a snapshot.
const LOAD_BATCH: usize = 4096;
/// Keys and values above this size mean the file is not a snapshot of ours.
const MAX_FIELD: u32 = 1 << 30;

/// What a dump contained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The raft index the dumped state includes.
    pub consistent_index: u64,
    /// Bytes written.
    pub size: u64,
}

fn io_err(op: &'static str) -> impl FnOnce(io::Error) -> MvccError {
    move |e| MvccError::Backend(op, e)
}

/// A writer that counts and checksums what passes through it.
struct Summing<W> {
    inner: W,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<W: Write> Write for Summing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that checksums what passes through it.
struct Checking<R> {
    inner: R,
    crc: crc32fast::Hasher,
}

impl<R: Read> Read for Checking<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

/// Reading a snapshot: running out of bytes means the file is damaged.
fn read_err(e: io::Error) -> MvccError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        MvccError::Corrupt("snapshot is truncated".into())
    } else {
        MvccError::Backend("read snapshot", e)
    }
}

fn read_u32(r: &mut impl Read) -> Result<u32, MvccError> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b).map_err(read_err)?;
    Ok(u32::from_be_bytes(b))
}

fn read_field(r: &mut impl Read) -> Result<Vec<u8>, MvccError> {
    let len = read_u32(r)?;
    if len > MAX_FIELD {
        return Err(MvccError::Corrupt(format!(
            "snapshot record field of {len} bytes"
        )));
    }
    let mut v = vec![0u8; len as usize];
    r.read_exact(&mut v).map_err(read_err)?;
    Ok(v)
}

fn bucket_of(prefix: u8) -> Result<Bucket, MvccError> {
    Bucket::ALL
        .into_iter()
        .find(|b| b.prefix() == prefix)
        .ok_or_else(|| MvccError::Corrupt(format!("snapshot names unknown bucket {prefix}")))
}

/// Reads a snapshot, calling `record` for each (bucket, key, value), then checks the CRC.
fn read_snapshot(
    r: impl Read,
    mut record: impl FnMut(Bucket, Vec<u8>, Vec<u8>) -> Result<(), MvccError>,
) -> Result<(), MvccError> {
    let mut r = Checking {
        inner: r,
        crc: crc32fast::Hasher::new(),
    };
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).map_err(read_err)?;
    if &magic != MAGIC {
        return Err(MvccError::Corrupt(
            "not a snapshot of this store (bad magic)".into(),
        ));
    }
    let version = read_u32(&mut r)?;
    if version != VERSION {
        return Err(MvccError::Corrupt(format!(
            "snapshot format version {version} is not supported"
        )));
    }
    loop {
        let mut tag = [0u8; 1];
        r.read_exact(&mut tag).map_err(read_err)?;
        if tag[0] == END {
            break;
        }
        let bucket = bucket_of(tag[0])?;
        let key = read_field(&mut r)?;
        let value = read_field(&mut r)?;
        record(bucket, key, value)?;
    }
    let computed = r.crc.clone().finalize();
    let stored = read_u32(&mut r.inner)?;
    if computed != stored {
        return Err(MvccError::Corrupt(format!(
            "snapshot checksum mismatch: stored {stored:08x}, computed {computed:08x}"
        )));
    }
    Ok(())
}

impl KvStore {
    /// Writes every bucket to `w` at one consistent point. The writer (the apply loop)
    /// waits while the dump runs, and no physical compaction deletes meanwhile.
    pub fn snapshot_to(&self, w: &mut dyn Write) -> Result<SnapshotInfo, MvccError> {
        let _writer = self.writer_gate().enter();
        let _hold = self.hold_compaction();
        let consistent_index = self.consistent_index();
        let mut out = Summing {
            inner: BufWriter::new(w),
            crc: crc32fast::Hasher::new(),
            len: 0,
        };
        let write = |out: &mut Summing<_>, bytes: &[u8]| {
            out.write_all(bytes).map_err(io_err("write snapshot"))
        };
        write(&mut out, MAGIC)?;
        write(&mut out, &VERSION.to_be_bytes())?;
        for bucket in Bucket::ALL {
            let mut start: Vec<u8> = Vec::new();
            loop {
                let pairs = self
                    .backend()
                    .scan(bucket, &start, None, Some(SCAN_CHUNK))?;
                for (k, v) in &pairs {
                    write(&mut out, &[bucket.prefix()])?;
                    write(&mut out, &(k.len() as u32).to_be_bytes())?;
                    write(&mut out, k)?;
                    write(&mut out, &(v.len() as u32).to_be_bytes())?;
                    write(&mut out, v)?;
                }
                match pairs.last() {
                    Some((k, _)) if pairs.len() == SCAN_CHUNK => {
                        start = k.clone();
                        start.push(0);
                    }
                    _ => break,
                }
            }
        }
        write(&mut out, &[END])?;
        let crc = out.crc.clone().finalize();
        let size = out.len + 4;
        out.inner
            .write_all(&crc.to_be_bytes())
            .map_err(io_err("write snapshot"))?;
        out.inner.flush().map_err(io_err("write snapshot"))?;
        Ok(SnapshotInfo {
            consistent_index,
            size,
        })
    }

    /// Replaces the whole store with the snapshot at `path` (written by
    /// [`KvStore::snapshot_to`] on another member). The file is verified before anything
    /// changes. While loading, the backend has no consistent index (reads as 0), so a
    /// crash part-way is recognisable: the caller restores again from the same file.
    pub fn restore_from(&self, path: &Path) -> Result<SnapshotInfo, MvccError> {
        let open = || {
            std::fs::File::open(path)
                .map(BufReader::new)
                .map_err(io_err("open snapshot"))
        };
        let mut size = 0u64;
        read_snapshot(open()?, |_, k, v| {
            size += (k.len() + v.len() + 9) as u64;
            Ok(())
        })?;

        let _writer = self.writer_gate().enter();
        let _hold = self.hold_compaction();
        let shared = self.shared();
        {
            let _deleting = shared.delete_lock.lock();
            shared.epoch.fetch_add(1, Ordering::AcqRel);
        }
        let backend = self.backend();
        let mut clear = WriteBatch::default();
        clear.delete(Bucket::Meta, CONSISTENT_INDEX_KEY);
        backend.write(clear)?;
        for bucket in Bucket::ALL {
            loop {
                let keys = backend.scan_keys(bucket, b"", None, Some(SCAN_CHUNK))?;
                if keys.is_empty() {
                    break;
                }
                let mut batch = WriteBatch::default();
                for k in keys {
                    batch.delete(bucket, k);
                }
                backend.write(batch)?;
            }
        }
        let mut batch = WriteBatch::default();
        let mut consistent_index: Option<Vec<u8>> = None;
        read_snapshot(open()?, |bucket, k, v| {
            if bucket == Bucket::Meta && k == CONSISTENT_INDEX_KEY {
                consistent_index = Some(v);
                return Ok(());
            }
            batch.put(bucket, k, v);
            if batch.len() >= LOAD_BATCH {
                backend.write(std::mem::take(&mut batch))?;
            }
            Ok(())
        })?;
        // The consistent index last: once it is there, the restore is complete.
        if let Some(ci) = consistent_index {
            batch.put(Bucket::Meta, CONSISTENT_INDEX_KEY, ci);
        }
        backend.write(batch)?;
        backend.sync()?;

        let ci = meta::read_consistent_index(&**backend)?;
        let finished = meta::read_compact_rev(&**backend, meta::FINISHED_COMPACT_KEY)?;
        let scheduled = meta::read_compact_rev(&**backend, meta::SCHEDULED_COMPACT_KEY)?;
        let (index, last_rev) = restore_index(&**backend)?;
        let compact_rev = finished.unwrap_or(-1);
        let current_rev = last_rev.max(1).max(compact_rev).max(scheduled.unwrap_or(0));
        {
            let mut state = shared.state.write();
            state.index = index;
            state.compact_rev = compact_rev;
            shared.compact_rev.store(compact_rev, Ordering::Release);
            shared.publish(&mut state, current_rev, None, ci);
        }
        if let Some(rev) = scheduled.filter(|&s| s > compact_rev) {
            {
                let mut state = shared.state.write();
                shared.publish(&mut state, current_rev, Some(rev), ci);
            }
            self.compactor().schedule(rev, CompactionWaiter::new());
        }
        tracing::info!(
            consistent_index = ci,
            current_rev,
            compact_rev,
            snapshot = %path.display(),
            "restored the key space from a snapshot"
        );
        Ok(SnapshotInfo {
            consistent_index: ci,
            size,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use etcd_api::etcdserverpb::{PutRequest, RangeRequest};

    use super::*;
    use crate::MemBackend;

    fn put(store: &KvStore, index: u64, key: &str, value: &str) {
        let mut w = store.write(index);
        w.put(&PutRequest {
            key: key.as_bytes().to_vec().into(),
            value: value.as_bytes().to_vec().into(),
            ..Default::default()
        })
        .unwrap();
        w.commit().unwrap();
    }

    fn all(store: &KvStore) -> Vec<(String, String)> {
        let req = RangeRequest {
            key: vec![0].into(),
            range_end: vec![0].into(),
            ..Default::default()
        };
        store
            .range(&req)
            .unwrap()
            .kvs
            .iter()
            .map(|kv| {
                (
                    String::from_utf8_lossy(&kv.key).into(),
                    String::from_utf8_lossy(&kv.value).into(),
                )
            })
            .collect()
    }

    #[test]
    fn dump_and_restore_replace_the_key_space() {
        let a = KvStore::open(Arc::new(MemBackend::new())).unwrap();
        for i in 0..5000u64 {
            put(&a, i + 1, &format!("k{i:05}"), &format!("v{i}"));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snap.db");
        let info = a
            .snapshot_to(&mut std::fs::File::create(&path).unwrap())
            .unwrap();
        assert_eq!(info.consistent_index, 5000);
        assert_eq!(info.size, std::fs::metadata(&path).unwrap().len());

        let b = KvStore::open(Arc::new(MemBackend::new())).unwrap();
        put(&b, 1, "stale", "gone");
        b.restore_from(&path).unwrap();
        assert_eq!(b.consistent_index(), 5000);
        assert_eq!(b.current_revision(), a.current_revision());
        assert_eq!(all(&b), all(&a));
        assert_eq!(b.hash_kv(0).unwrap(), a.hash_kv(0).unwrap());
        // It keeps working as a store afterwards.
        put(&b, 5001, "after", "x");
        assert_eq!(b.current_revision(), a.current_revision() + 1);
    }

    #[test]
    fn a_damaged_snapshot_changes_nothing() {
        let a = KvStore::open(Arc::new(MemBackend::new())).unwrap();
        put(&a, 1, "k", "v");
        let mut bytes = Vec::new();
        a.snapshot_to(&mut bytes).unwrap();
        let n = bytes.len();
        bytes[n / 2] ^= 0x40;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.db");
        std::fs::write(&path, &bytes).unwrap();

        let b = KvStore::open(Arc::new(MemBackend::new())).unwrap();
        put(&b, 7, "mine", "kept");
        assert!(matches!(b.restore_from(&path), Err(MvccError::Corrupt(_))));
        assert_eq!(all(&b), [("mine".to_string(), "kept".to_string())]);
        assert_eq!(b.consistent_index(), 7);
    }
}
