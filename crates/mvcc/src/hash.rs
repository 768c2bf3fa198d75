//! etcd's HashKV: a checksum of the key space at a revision that members with the same
//! history agree on.

use std::collections::HashSet;

use bytes::Bytes;

use crate::crc32c::Crc32c;
use crate::revision::Revision;
use crate::{Bucket, KvStore, MvccError};

/// Key-bucket entries read per backend scan.
const SCAN_CHUNK: usize = 10_000;
/// Key indexes visited per lock hold when collecting what compaction would keep.
const KEEP_CHUNK_KEYS: usize = 10_000;

impl KvStore {
    /// (hash, compact_revision, hash_revision) of the key space at `revision` (0 =
    /// current), as etcd's HashKV: a CRC-32C over the key bucket's name and every stored
    /// revision up to `revision`, skipping those at or below the compaction revision that
    /// compaction at `revision` would drop. Equal on every member with the same history,
    /// whether or not physical compaction has finished. `compact_revision` is -1 if the
    /// store was never compacted, as etcd reports it.
    pub fn hash_kv(&self, revision: i64) -> Result<(u32, i64, i64), MvccError> {
        let (compact, current, _reader) = {
            let state = self.shared().state.read();
            let (c, cur) = (state.compact_rev, state.current_rev);
            if revision > 0 && revision < c {
                return Err(MvccError::Compacted);
            }
            if revision > 0 && revision > cur {
                return Err(MvccError::FutureRev);
            }
            (c, cur, self.shared().readers.register(c))
        };
        let rev = if revision == 0 { current } else { revision };

        let mut keep: HashSet<Revision> = HashSet::new();
        let mut cursor: Option<Bytes> = None;
        loop {
            let next = self.shared().state.read().index.keep_chunk(
                cursor.as_deref(),
                rev,
                KEEP_CHUNK_KEYS,
                &mut keep,
            );
            match next {
                Some(k) => cursor = Some(k),
                None => break,
            }
        }

        let mut crc = Crc32c::new();
        crc.update(Bucket::Key.name().as_bytes());
        if rev >= 1 {
            let end = Revision::new(rev + 1, 0).to_key(false);
            let mut start: Vec<u8> = Vec::new();
            loop {
                let chunk = self.shared().backend.scan(
                    Bucket::Key,
                    &start,
                    Some(&end),
                    Some(SCAN_CHUNK),
                )?;
                for (k, v) in &chunk {
                    let (r, _) = Revision::from_key(k)?;
                    if r.main <= compact && !keep.contains(&r) {
                        continue; // dropped by compaction, whether or not physically yet
                    }
                    crc.update(k);
                    crc.update(v);
                }
                match chunk.last() {
                    Some((last, _)) if chunk.len() == SCAN_CHUNK => {
                        start = last.clone();
                        start.push(0);
                    }
                    _ => break,
                }
            }
        }
        Ok((crc.finish(), compact, rev))
    }
}
