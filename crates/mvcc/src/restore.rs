//! Rebuilding the key index from the key bucket when a store opens.

use etcd_api::mvccpb::KeyValue;
use prost::Message;

use crate::key_index::IndexError;
use crate::revision::Revision;
use crate::tree_index::TreeIndex;
use crate::{Backend, Bucket, MvccError};

/// Key-bucket entries read per backend scan.
const SCAN_CHUNK: usize = 10_000;

/// Replays the key bucket in revision order into a fresh index. Returns the index and the
/// highest main revision stored (0 if none).
pub(crate) fn restore_index(backend: &dyn Backend) -> Result<(TreeIndex, i64), MvccError> {
    let mut index = TreeIndex::default();
    let mut last_rev = 0;
    let mut start: Vec<u8> = Vec::new();
    loop {
        let chunk = backend.scan(Bucket::Key, &start, None, Some(SCAN_CHUNK))?;
        for (k, v) in &chunk {
            let (rev, tombstone) = Revision::from_key(k)?;
            let kv = KeyValue::decode(v.as_slice()).map_err(|e| {
                MvccError::Corrupt(format!(
                    "undecodable kv at revision {}_{}: {e}",
                    rev.main, rev.sub
                ))
            })?;
            index
                .restore(&kv.key, rev, tombstone, kv.create_revision, kv.version)
                .map_err(|e| restore_error(e, &kv.key, rev))?;
            last_rev = rev.main;
        }
        match chunk.last() {
            Some((last, _)) if chunk.len() == SCAN_CHUNK => {
                start = last.clone();
                start.push(0);
            }
            _ => return Ok((index, last_rev)),
        }
    }
}

fn restore_error(e: IndexError, key: &[u8], rev: Revision) -> MvccError {
    MvccError::Corrupt(format!(
        "key {:?} at revision {}_{} out of order in the key bucket ({e:?})",
        String::from_utf8_lossy(key),
        rev.main,
        rev.sub
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemBackend, WriteBatch};

    fn kv(key: &str, create: i64, version: i64) -> Vec<u8> {
        KeyValue {
            key: key.as_bytes().to_vec().into(),
            create_revision: create,
            version,
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn replays_in_revision_order() {
        let b = MemBackend::new();
        let mut batch = WriteBatch::default();
        // a was created at 2 (compacted away) and put again at 4; b deleted at 5.
        batch.put(
            Bucket::Key,
            Revision::new(3, 0).to_key(false),
            kv("a", 2, 2),
        );
        batch.put(
            Bucket::Key,
            Revision::new(3, 1).to_key(false),
            kv("b", 3, 1),
        );
        batch.put(
            Bucket::Key,
            Revision::new(4, 0).to_key(false),
            kv("a", 2, 3),
        );
        batch.put(Bucket::Key, Revision::new(5, 0).to_key(true), kv("b", 0, 0));
        // A tombstone whose puts were compacted away.
        batch.put(Bucket::Key, Revision::new(6, 0).to_key(true), kv("c", 0, 0));
        b.write(batch).unwrap();
        let (index, last) = restore_index(&b).unwrap();
        assert_eq!(last, 6);
        assert_eq!(
            index.get(b"a", 6),
            Some((Revision::new(4, 0), Revision::new(2, 0), 3))
        );
        assert_eq!(
            index.get(b"b", 4),
            Some((Revision::new(3, 1), Revision::new(3, 0), 1))
        );
        assert_eq!(index.get(b"b", 5), None);
        assert_eq!((index.len(), index.alive()), (2, 1));

        let mut bad = WriteBatch::default();
        bad.put(Bucket::Key, b"garbage".to_vec(), kv("x", 1, 1));
        b.write(bad).unwrap();
        assert!(matches!(restore_index(&b), Err(MvccError::Corrupt(_))));
    }
}
