//! The default [`Backend`]: one sled tree, keys prefixed by their bucket's byte, so a
//! [`WriteBatch`] is one atomic sled batch. The key bucket is stored in chunks of many
//! revisions ([`crate::key_chunks`]).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::backend::KvPairs;
use crate::key_chunks::{self, CHUNK_PREFIX, Stager};
use crate::{Backend, BatchOp, Bucket, MvccError, WriteBatch};

/// A [`Backend`] stored in a sled database directory.
///
/// sled never flushes on its own here (`flush_every_ms(None)`): durability comes only
/// from [`Backend::sync`], which the server calls before releasing WAL segments.
pub struct SledBackend {
    db: sled::Db,
    dir: PathBuf,
    /// Estimate of the bytes of live keys and values (dbSizeInUse).
    live_bytes: AtomicI64,
    /// The last measured size of the files; remeasured once older than [`DISK_SIZE_TTL`]
    /// and after every sync.
    disk: Mutex<DiskSize>,
    /// Held by a write from its first read to its batch: key-bucket chunks are read,
    /// changed and written back.
    writer: Mutex<()>,
}

/// How long a measured file size is reused. sled measures by listing and stat-ing its
/// directory, and every write asks (the quota check): measuring per request cost six
/// system calls per put on the leader.
const DISK_SIZE_TTL: Duration = Duration::from_millis(500);

struct DiskSize {
    bytes: u64,
    measured_at: Instant,
}

impl std::fmt::Debug for SledBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledBackend")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn full_key(bucket: Bucket, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(bucket.prefix());
    k.extend_from_slice(key);
    k
}

impl SledBackend {
    /// Opens (creating if needed) the sled database in `dir` with a page cache of
    /// `cache_bytes`.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, MvccError> {
        std::fs::create_dir_all(dir).map_err(|e| MvccError::backend("create directory", e))?;
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(None);
        let db = open_waiting_for_lock(&config).map_err(|e| MvccError::backend("open", e))?;
        key_chunks::repack(&db, Bucket::Key.prefix())?;
        let mut live = key_chunks::live_bytes(&db)?;
        for item in db.iter() {
            let (k, v) = item.map_err(|e| MvccError::backend("scan", e))?;
            if k.first() != Some(&CHUNK_PREFIX) {
                live += (k.len() + v.len()) as i64;
            }
        }
        let disk = DiskSize {
            bytes: db.size_on_disk().unwrap_or(0),
            measured_at: Instant::now(),
        };
        Ok(SledBackend {
            db,
            dir: dir.to_path_buf(),
            live_bytes: AtomicI64::new(live),
            disk: Mutex::new(disk),
            writer: Mutex::new(()),
        })
    }

    /// The directory the database lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn range(&self, bucket: Bucket, start: &[u8], end: Option<&[u8]>) -> Option<sled::Iter> {
        let lo = full_key(bucket, start);
        let hi = match end {
            Some(e) => full_key(bucket, e),
            None => vec![bucket.prefix() + 1],
        };
        (lo < hi).then(|| self.db.range(lo..hi))
    }

    /// Size of the current value of `key`, for the in-use estimate.
    fn old_len(&self, key: &[u8]) -> Result<i64, MvccError> {
        Ok(self
            .db
            .get(key)
            .map_err(|e| MvccError::backend("get", e))?
            .map_or(0, |v| (key.len() + v.len()) as i64))
    }

    /// Measures the files now (sled walks its directory).
    fn measure_disk(&self) -> u64 {
        let bytes = self.db.size_on_disk().unwrap_or(0);
        *self.disk.lock() = DiskSize {
            bytes,
            measured_at: Instant::now(),
        };
        bytes
    }
}

impl Backend for SledBackend {
    fn get(&self, bucket: Bucket, key: &[u8]) -> Result<Option<Vec<u8>>, MvccError> {
        if bucket == Bucket::Key {
            return key_chunks::get(&self.db, key);
        }
        Ok(self
            .db
            .get(full_key(bucket, key))
            .map_err(|e| MvccError::backend("get", e))?
            .map(|v| v.to_vec()))
    }

    fn scan(
        &self,
        bucket: Bucket,
        start: &[u8],
        end: Option<&[u8]>,
        limit: Option<usize>,
    ) -> Result<KvPairs, MvccError> {
        if bucket == Bucket::Key {
            return key_chunks::scan(&self.db, start, end, limit, true);
        }
        let Some(iter) = self.range(bucket, start, end) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for item in iter.take(limit.unwrap_or(usize::MAX)) {
            let (k, v) = item.map_err(|e| MvccError::backend("scan", e))?;
            out.push((k[1..].to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    fn scan_keys(
        &self,
        bucket: Bucket,
        start: &[u8],
        end: Option<&[u8]>,
        limit: Option<usize>,
    ) -> Result<Vec<Vec<u8>>, MvccError> {
        if bucket == Bucket::Key {
            let pairs = key_chunks::scan(&self.db, start, end, limit, false)?;
            return Ok(pairs.into_iter().map(|(k, _)| k).collect());
        }
        let Some(iter) = self.range(bucket, start, end) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for item in iter.take(limit.unwrap_or(usize::MAX)) {
            let (k, _) = item.map_err(|e| MvccError::backend("scan", e))?;
            out.push(k[1..].to_vec());
        }
        Ok(out)
    }

    fn write(&self, batch: WriteBatch) -> Result<(), MvccError> {
        let _writer = self.writer.lock();
        let mut sled_batch = sled::Batch::default();
        let mut chunks = Stager::new(&self.db);
        let mut delta = 0i64;
        for op in batch.into_ops() {
            match op {
                BatchOp::Put {
                    bucket: Bucket::Key,
                    key,
                    value,
                } => chunks.put(key, value)?,
                BatchOp::Delete {
                    bucket: Bucket::Key,
                    key,
                } => chunks.delete(&key)?,
                BatchOp::Put { bucket, key, value } => {
                    let k = full_key(bucket, &key);
                    delta -= self.old_len(&k)?;
                    delta += (k.len() + value.len()) as i64;
                    sled_batch.insert(k, value);
                }
                BatchOp::Delete { bucket, key } => {
                    let k = full_key(bucket, &key);
                    delta -= self.old_len(&k)?;
                    sled_batch.remove(k);
                }
            }
        }
        delta += chunks.delta;
        chunks.finish(&mut sled_batch);
        self.db
            .apply_batch(sled_batch)
            .map_err(|e| MvccError::backend("write batch", e))?;
        // sled frees replaced pages through crossbeam-epoch, which collects a thread's
        // garbage only every 128 pins: with one batch per 10 ms that took a member from
        // 45 to 90 MiB and cost CPU in cache misses. Collect after every batch.
        crossbeam_epoch::pin().flush();
        self.live_bytes.fetch_add(delta, Ordering::Relaxed);
        Ok(())
    }

    fn sync(&self) -> Result<(), MvccError> {
        self.db
            .flush()
            .map_err(|e| MvccError::backend("flush", e))?;
        sync_dir_tree(&self.dir).map_err(|e| MvccError::backend("fsync", e))?;
        self.measure_disk();
        Ok(())
    }

    fn size_bytes(&self) -> u64 {
        {
            let disk = self.disk.lock();
            if disk.measured_at.elapsed() < DISK_SIZE_TTL {
                return disk.bytes;
            }
        }
        self.measure_disk()
    }

    fn size_in_use_bytes(&self) -> u64 {
        // Not capped by the (cached, possibly stale) file size: the quota check reads this
        // on every write and must see the database grow at once.
        self.live_bytes.load(Ordering::Relaxed).max(0) as u64
    }
}

/// How long `open` waits for the database lock: a database closed in this process is
/// unlocked only once sled's background I/O threads let go of it, shortly after drop.
const LOCK_WAIT: Duration = Duration::from_secs(3);

fn open_waiting_for_lock(config: &sled::Config) -> sled::Result<sled::Db> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match config.open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// fsyncs every file under `dir` (recursively), then each directory itself. Files that
/// vanish meanwhile (sled rotates snapshot files) are skipped.
fn sync_dir_tree(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let path = entry.path();
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if file_type.is_dir() {
            sync_dir_tree(&path)?;
        } else if file_type.is_file() {
            match File::open(&path) {
                Ok(f) => f.sync_all()?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
    }
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_measures_the_files_again() {
        let dir = tempfile::tempdir().unwrap();
        let b = SledBackend::open(dir.path(), 1 << 20).unwrap();
        b.sync().unwrap();
        let before = b.size_bytes();
        // sled counts every file in its blobs directory.
        let blobs = dir.path().join("blobs");
        std::fs::create_dir_all(&blobs).unwrap();
        std::fs::write(blobs.join("extra"), vec![0u8; 1 << 20]).unwrap();
        b.sync().unwrap();
        assert!(b.size_bytes() >= before + (1 << 20), "{before}");
    }

    #[test]
    fn roundtrip_sync_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let b = SledBackend::open(dir.path(), 1 << 20).unwrap();
            let mut batch = WriteBatch::default();
            batch.put(Bucket::Key, &b"a"[..], &b"1"[..]);
            batch.put(Bucket::Key, &b"b"[..], &b"2"[..]);
            batch.put(Bucket::Lease, &b"a"[..], &b"lease"[..]);
            b.write(batch).unwrap();
            let live = b.live_bytes.load(Ordering::Relaxed);
            assert_eq!(live, 3 + 3 + 7, "prefixed keys plus values");
            let mut batch = WriteBatch::default();
            batch.delete(Bucket::Key, &b"a"[..]);
            b.write(batch).unwrap();
            assert_eq!(b.live_bytes.load(Ordering::Relaxed), live - 3);
            assert_eq!(b.size_in_use_bytes(), (live - 3) as u64);
            b.sync().unwrap();
            assert!(b.size_bytes() > 0);
        }
        let b = SledBackend::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(b.get(Bucket::Key, b"a").unwrap(), None);
        assert_eq!(b.get(Bucket::Key, b"b").unwrap(), Some(b"2".to_vec()));
        assert_eq!(b.get(Bucket::Lease, b"a").unwrap(), Some(b"lease".to_vec()));
        assert_eq!(
            b.scan(Bucket::Key, b"", None, None).unwrap(),
            vec![(b"b".to_vec(), b"2".to_vec())]
        );
        assert_eq!(
            b.scan_keys(Bucket::Lease, b"", None, Some(5)).unwrap(),
            vec![b"a".to_vec()]
        );
        assert!(
            b.scan(Bucket::Key, b"z", Some(b"a"), None)
                .unwrap()
                .is_empty()
        );
    }
}
