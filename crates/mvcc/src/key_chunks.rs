//! The key bucket in sled as chunks: many revisions per sled entry instead of one each.
//!
//! Every put of the store adds one key-bucket entry (revision -> KeyValue). As one sled
//! entry each, those inserts were about a quarter of a member's CPU under load: sled
//! splits a leaf every 8 ascending inserts, links a delta per insert, writes it on its IO
//! threads and frees it through the epoch collector. Packed, a flush of a hundred
//! revisions touches a few dozen sled entries instead.
//!
//! Layout and invariants:
//! - a chunk is the sled entry `CHUNK_PREFIX ++ first`, whose value holds entries
//!   `(key, value)` ascending by key, each as `u32 LE key length, key, u32 LE value
//!   length, value`;
//! - chunk ranges partition the key space: the chunk at `first` holds exactly the
//!   entries with `first <= key < next chunk's first`, so the only chunk that can hold a
//!   key is the last one whose `first` is not greater than it (its floor chunk). A chunk
//!   may lose its first entry and keep its sled key; an empty chunk is removed, and its
//!   range joins the chunk before it;
//! - new chunks start only past the end of a full chunk or before the first chunk, so
//!   revisions, which only grow, fill chunks in order; a chunk filled in the middle (a
//!   key that sorts before existing ones) grows past the bounds instead of splitting.
//!
//! Writers are serialised by the caller; readers need no lock, since a batch replaces
//! chunks atomically.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::MvccError;

/// The sled prefix of key-bucket chunks; distinct from every bucket's own prefix, so data
/// written one entry per revision is told apart (and repacked at open).
pub(crate) const CHUNK_PREFIX: u8 = 0x81;

/// A chunk is full at this many entries ...
const MAX_ENTRIES: usize = 16;
/// ... or this many bytes. A member's memory grows with the chunk size (sled holds
/// leaves of up to 17 chunks beyond what its cache accounts for). Measured on 3 members,
/// 256 clients, 100k puts of 256 bytes, against one sled entry per revision (about 11 s
/// of CPU for the three members, 54 MiB peak RSS per member): 1 KiB chunks 8.2 s and
/// 53 MiB, 2 KiB 8.0 s and 57 MiB, 4 KiB 7.8 s and 64 MiB, 8 KiB 7.6 s and 74 MiB.
const MAX_BYTES: usize = 1024;

/// Length prefix of a key or value inside a chunk.
const LEN_BYTES: usize = 4;

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Bytes an entry takes in an encoded chunk.
fn encoded_len(key: &[u8], value: &[u8]) -> usize {
    2 * LEN_BYTES + key.len() + value.len()
}

fn sled_key(first: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(first.len() + 1);
    k.push(CHUNK_PREFIX);
    k.extend_from_slice(first);
    k
}

fn corrupt(what: &str) -> MvccError {
    MvccError::Corrupt(format!("key-bucket chunk: {what}"))
}

fn sled_err(op: &'static str) -> impl FnOnce(sled::Error) -> MvccError {
    move |e| MvccError::backend(op, e)
}

/// Walks the entries of an encoded chunk without copying them.
struct Walk<'a> {
    buf: &'a [u8],
}

impl<'a> Walk<'a> {
    fn field(&mut self) -> Result<&'a [u8], MvccError> {
        let (len, rest) = self
            .buf
            .split_first_chunk::<LEN_BYTES>()
            .ok_or_else(|| corrupt("truncated length"))?;
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(corrupt("truncated field"));
        }
        let (field, rest) = rest.split_at(len);
        self.buf = rest;
        Ok(field)
    }
}

impl<'a> Iterator for Walk<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), MvccError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let entry = self.field().and_then(|k| Ok((k, self.field()?)));
        if entry.is_err() {
            // Nothing after a damaged field can be framed: end after the error.
            self.buf = &[];
        }
        Some(entry)
    }
}

fn walk(buf: &[u8]) -> Walk<'_> {
    Walk { buf }
}

fn encode(entries: &Entries) -> Vec<u8> {
    let size = entries.iter().map(|(k, v)| encoded_len(k, v)).sum();
    let mut out = Vec::with_capacity(size);
    for (k, v) in entries {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(k);
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        out.extend_from_slice(v);
    }
    out
}

fn decode(buf: &[u8]) -> Result<Entries, MvccError> {
    walk(buf)
        .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())))
        .collect()
}

/// What an entry counts for the in-use estimate: its key with the bucket byte, and value.
fn entry_size(key: &[u8], value: &[u8]) -> i64 {
    (1 + key.len() + value.len()) as i64
}

/// The chunk whose range holds `key`: its first key and encoded entries.
fn floor_chunk(db: &sled::Db, key: &[u8]) -> Result<Option<(Vec<u8>, sled::IVec)>, MvccError> {
    let found = db
        .range(vec![CHUNK_PREFIX]..=sled_key(key))
        .next_back()
        .transpose()
        .map_err(sled_err("get"))?;
    Ok(found.map(|(k, v)| (k[1..].to_vec(), v)))
}

/// The first key of the first chunk after `first`, if any.
fn next_chunk(db: &sled::Db, first: &[u8]) -> Result<Option<Vec<u8>>, MvccError> {
    let from = Bound::Excluded(sled_key(first));
    let to = Bound::Excluded(vec![CHUNK_PREFIX + 1]);
    let found = db
        .range::<Vec<u8>, _>((from, to))
        .next()
        .transpose()
        .map_err(sled_err("scan"))?;
    Ok(found.map(|(k, _)| k[1..].to_vec()))
}

/// The value of `key`.
pub(crate) fn get(db: &sled::Db, key: &[u8]) -> Result<Option<Vec<u8>>, MvccError> {
    let Some((_, chunk)) = floor_chunk(db, key)? else {
        return Ok(None);
    };
    for entry in walk(&chunk) {
        let (k, v) = entry?;
        if k == key {
            return Ok(Some(v.to_vec()));
        }
        if k > key {
            break;
        }
    }
    Ok(None)
}

/// Entries with `start <= key < end` (`end` None: to the end), at most `limit`, ascending;
/// values only when `with_values` (otherwise empty).
pub(crate) fn scan(
    db: &sled::Db,
    start: &[u8],
    end: Option<&[u8]>,
    limit: Option<usize>,
    with_values: bool,
) -> Result<Entries, MvccError> {
    let limit = limit.unwrap_or(usize::MAX);
    let mut out = Vec::new();
    if limit == 0 || end.is_some_and(|e| e <= start) {
        return Ok(out);
    }
    let from = match floor_chunk(db, start)? {
        Some((first, _)) => sled_key(&first),
        None => sled_key(start),
    };
    let to = match end {
        Some(e) => Bound::Excluded(sled_key(e)),
        None => Bound::Excluded(vec![CHUNK_PREFIX + 1]),
    };
    for item in db.range::<Vec<u8>, _>((Bound::Included(from), to)) {
        let (_, chunk) = item.map_err(sled_err("scan"))?;
        for entry in walk(&chunk) {
            let (k, v) = entry?;
            if k < start {
                continue;
            }
            if end.is_some_and(|e| k >= e) {
                return Ok(out);
            }
            let v = if with_values { v.to_vec() } else { Vec::new() };
            out.push((k.to_vec(), v));
            if out.len() == limit {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// The sum of [`entry_size`] over every entry of every chunk (at open).
pub(crate) fn live_bytes(db: &sled::Db) -> Result<i64, MvccError> {
    let mut total = 0;
    for item in db.scan_prefix([CHUNK_PREFIX]) {
        let (_, chunk) = item.map_err(sled_err("scan"))?;
        for entry in walk(&chunk) {
            let (k, v) = entry?;
            total += entry_size(k, v);
        }
    }
    Ok(total)
}

/// A chunk read or created by the batch being staged.
struct Loaded {
    /// The first key of the next chunk: this chunk's range ends there.
    upper: Option<Vec<u8>>,
    entries: Entries,
    bytes: usize,
    dirty: bool,
}

impl Loaded {
    fn new(entries: Entries, upper: Option<Vec<u8>>) -> Self {
        let bytes = entries.iter().map(|(k, v)| encoded_len(k, v)).sum();
        Loaded {
            upper,
            entries,
            bytes,
            dirty: false,
        }
    }

    fn holds(&self, key: &[u8]) -> bool {
        self.upper.as_deref().is_none_or(|u| key < u)
    }

    fn is_full(&self) -> bool {
        self.entries.len() >= MAX_ENTRIES || self.bytes >= MAX_BYTES
    }
}

/// Turns key-bucket writes into chunk writes on a sled batch. The caller serialises
/// writers (each stage reads chunks it then replaces) and applies `batch` atomically.
pub(crate) struct Stager<'a> {
    db: &'a sled::Db,
    chunks: BTreeMap<Vec<u8>, Loaded>,
    /// Change of the in-use estimate.
    pub(crate) delta: i64,
}

impl<'a> Stager<'a> {
    pub(crate) fn new(db: &'a sled::Db) -> Self {
        Stager {
            db,
            chunks: BTreeMap::new(),
            delta: 0,
        }
    }

    /// The first key of the chunk whose range holds `key`, loaded; None when `key` sorts
    /// before every chunk.
    fn locate(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, MvccError> {
        if let Some((first, c)) = self
            .chunks
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
            && c.holds(key)
        {
            return Ok(Some(first.clone()));
        }
        // Not among the loaded chunks, and every chunk this batch created is loaded.
        let Some((first, chunk)) = floor_chunk(self.db, key)? else {
            return Ok(None);
        };
        let upper = next_chunk(self.db, &first)?;
        self.chunks
            .insert(first.clone(), Loaded::new(decode(&chunk)?, upper));
        Ok(Some(first))
    }

    /// The first key of the first chunk after `key`, loaded or in sled.
    fn next_after(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MvccError> {
        let loaded = self
            .chunks
            .range::<[u8], _>((Bound::Excluded(key), Bound::Unbounded))
            .next()
            .map(|(k, _)| k.clone());
        let stored = next_chunk(self.db, key)?;
        Ok(match (loaded, stored) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    fn new_chunk(&mut self, key: Vec<u8>, value: Vec<u8>, upper: Option<Vec<u8>>) {
        self.delta += entry_size(&key, &value);
        let mut c = Loaded::new(vec![(key.clone(), value)], upper);
        c.dirty = true;
        self.chunks.insert(key, c);
    }

    pub(crate) fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), MvccError> {
        let Some(first) = self.locate(&key)? else {
            let upper = self.next_after(&key)?;
            self.new_chunk(key, value, upper);
            return Ok(());
        };
        let c = self
            .chunks
            .get_mut(&first)
            .expect("located chunks are loaded");
        match c.entries.binary_search_by(|(k, _)| k.as_slice().cmp(&key)) {
            Ok(i) => {
                let old = std::mem::replace(&mut c.entries[i].1, value);
                let new = &c.entries[i].1;
                self.delta += new.len() as i64 - old.len() as i64;
                c.bytes = c.bytes + new.len() - old.len();
                c.dirty = true;
            }
            Err(i) if i == c.entries.len() && c.is_full() => {
                let upper = c.upper.replace(key.clone());
                self.new_chunk(key, value, upper);
            }
            Err(i) => {
                self.delta += entry_size(&key, &value);
                c.bytes += encoded_len(&key, &value);
                c.entries.insert(i, (key, value));
                c.dirty = true;
            }
        }
        Ok(())
    }

    pub(crate) fn delete(&mut self, key: &[u8]) -> Result<(), MvccError> {
        let Some(first) = self.locate(key)? else {
            return Ok(());
        };
        let c = self
            .chunks
            .get_mut(&first)
            .expect("located chunks are loaded");
        if let Ok(i) = c.entries.binary_search_by(|(k, _)| k.as_slice().cmp(key)) {
            let (k, v) = c.entries.remove(i);
            self.delta -= entry_size(&k, &v);
            c.bytes -= encoded_len(&k, &v);
            c.dirty = true;
        }
        Ok(())
    }

    /// Adds the changed chunks to `batch`.
    pub(crate) fn finish(self, batch: &mut sled::Batch) {
        for (first, c) in self.chunks {
            if !c.dirty {
                continue;
            }
            if c.entries.is_empty() {
                batch.remove(sled_key(&first));
            } else {
                batch.insert(sled_key(&first), encode(&c.entries));
            }
        }
    }
}

/// Moves key-bucket data written one sled entry per key (under `old_prefix`) into
/// chunks, a bounded batch at a time; each batch is atomic, so an interrupted repack
/// resumes at the next open.
pub(crate) fn repack(db: &sled::Db, old_prefix: u8) -> Result<(), MvccError> {
    const BATCH: usize = 4096;
    loop {
        let mut stager = Stager::new(db);
        let mut batch = sled::Batch::default();
        let mut moved = 0;
        for item in db.scan_prefix([old_prefix]).take(BATCH) {
            let (k, v) = item.map_err(sled_err("scan"))?;
            stager.put(k[1..].to_vec(), v.to_vec())?;
            batch.remove(k);
            moved += 1;
        }
        if moved == 0 {
            return Ok(());
        }
        stager.finish(&mut batch);
        db.apply_batch(batch).map_err(sled_err("write batch"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, sled::Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        (dir, db)
    }

    fn write(db: &sled::Db, ops: &[(u32, Option<usize>)]) -> i64 {
        let mut stager = Stager::new(db);
        for &(k, v) in ops {
            let key = k.to_be_bytes().to_vec();
            match v {
                Some(len) => stager.put(key, vec![k as u8; len]).unwrap(),
                None => stager.delete(&key).unwrap(),
            }
        }
        let delta = stager.delta;
        let mut batch = sled::Batch::default();
        stager.finish(&mut batch);
        db.apply_batch(batch).unwrap();
        delta
    }

    fn keys(db: &sled::Db) -> Vec<u32> {
        scan(db, b"", None, None, false)
            .unwrap()
            .into_iter()
            .map(|(k, _)| u32::from_be_bytes(k.try_into().unwrap()))
            .collect()
    }

    fn chunk_count(db: &sled::Db) -> usize {
        db.scan_prefix([CHUNK_PREFIX]).count()
    }

    #[test]
    fn ascending_puts_fill_chunks_in_order() {
        let (_d, db) = open();
        let n = 3 * MAX_ENTRIES as u32 + 5;
        // Across several batches, as the write-behind backend flushes them.
        for batch in (0..n).collect::<Vec<_>>().chunks(50) {
            let ops: Vec<_> = batch.iter().map(|&k| (k, Some(10))).collect();
            write(&db, &ops);
        }
        assert_eq!(keys(&db), (0..n).collect::<Vec<_>>());
        assert_eq!(
            chunk_count(&db),
            4,
            "full chunks of {MAX_ENTRIES} and a tail"
        );
        let middle = 2 * MAX_ENTRIES as u32 + 3;
        assert_eq!(
            get(&db, &middle.to_be_bytes()).unwrap(),
            Some(vec![middle as u8; 10])
        );
        assert_eq!(get(&db, &n.to_be_bytes()).unwrap(), None);
        assert_eq!(live_bytes(&db).unwrap(), i64::from(n) * (1 + 4 + 10));
    }

    #[test]
    fn large_values_bound_a_chunk_by_bytes() {
        let (_d, db) = open();
        // Entries of a quarter of MAX_BYTES each (4-byte keys, two length prefixes).
        let value_len = MAX_BYTES / 4 - 2 * LEN_BYTES - 4;
        let ops: Vec<_> = (0..20).map(|k| (k, Some(value_len))).collect();
        write(&db, &ops);
        assert_eq!(chunk_count(&db), 5, "four entries fill a chunk");
        assert_eq!(keys(&db), (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn keys_before_the_first_chunk_and_in_gaps_land_in_the_right_chunk() {
        let (_d, db) = open();
        write(&db, &[(100, Some(1)), (200, Some(1))]);
        write(
            &db,
            &[(50, Some(1)), (150, Some(1)), (300, Some(1)), (10, Some(1))],
        );
        assert_eq!(keys(&db), vec![10, 50, 100, 150, 200, 300]);
        for k in [10u32, 50, 100, 150, 200, 300] {
            assert_eq!(get(&db, &k.to_be_bytes()).unwrap(), Some(vec![k as u8]));
        }
        assert_eq!(get(&db, &60u32.to_be_bytes()).unwrap(), None);
        assert_eq!(get(&db, &5u32.to_be_bytes()).unwrap(), None);
    }

    #[test]
    fn overwrites_and_deletes_keep_the_estimate_and_drop_empty_chunks() {
        let (_d, db) = open();
        let n = 2 * MAX_ENTRIES as u32;
        let mut live = write(&db, &(0..n).map(|k| (k, Some(4))).collect::<Vec<_>>());
        live += write(&db, &[(3, Some(9)), (3, None), (3, Some(2)), (999, None)]);
        assert_eq!(get(&db, &3u32.to_be_bytes()).unwrap(), Some(vec![3u8; 2]));
        // Deleting the whole first chunk, first key included, removes it.
        live += write(
            &db,
            &(0..MAX_ENTRIES as u32)
                .map(|k| (k, None))
                .collect::<Vec<_>>(),
        );
        assert_eq!(chunk_count(&db), 1);
        assert_eq!(keys(&db), (MAX_ENTRIES as u32..n).collect::<Vec<_>>());
        assert_eq!(live, live_bytes(&db).unwrap());
        // A key in the removed range now belongs to the chunk after it... or a new one.
        write(&db, &[(1, Some(1))]);
        assert_eq!(get(&db, &1u32.to_be_bytes()).unwrap(), Some(vec![1u8]));
        assert_eq!(keys(&db).len(), MAX_ENTRIES + 1);
    }

    #[test]
    fn scans_honour_bounds_and_limits_across_chunks() {
        let (_d, db) = open();
        write(&db, &(0..200).map(|k| (k * 2, Some(1))).collect::<Vec<_>>());
        let got = scan(
            &db,
            &101u32.to_be_bytes(),
            Some(&141u32.to_be_bytes()),
            None,
            true,
        )
        .unwrap();
        let got: Vec<u32> = got
            .iter()
            .map(|(k, _)| u32::from_be_bytes(k.clone().try_into().unwrap()))
            .collect();
        assert_eq!(got, (51..71).map(|k| k * 2).collect::<Vec<_>>());
        let limited = scan(&db, &0u32.to_be_bytes(), None, Some(70), true).unwrap();
        assert_eq!(limited.len(), 70);
        assert_eq!(limited[69].1, vec![138u8]);
        assert!(
            scan(
                &db,
                &9u32.to_be_bytes(),
                Some(&9u32.to_be_bytes()),
                None,
                true
            )
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn repack_moves_one_entry_per_key_data_into_chunks() {
        let (_d, db) = open();
        for k in 0..5000u32 {
            let mut key = vec![1u8];
            key.extend_from_slice(&k.to_be_bytes());
            db.insert(key, vec![7u8; 3]).unwrap();
        }
        repack(&db, 1).unwrap();
        assert_eq!(db.scan_prefix([1u8]).count(), 0);
        assert_eq!(keys(&db), (0..5000).collect::<Vec<_>>());
        assert_eq!(live_bytes(&db).unwrap(), 5000 * (1 + 4 + 3));
    }

    #[test]
    fn a_damaged_chunk_is_corruption_not_a_panic() {
        let (_d, db) = open();
        db.insert(sled_key(b"a"), vec![9, 0, 0, 0, b'a']).unwrap();
        assert!(matches!(get(&db, b"a"), Err(MvccError::Corrupt(_))));
        assert!(matches!(
            scan(&db, b"", None, None, true),
            Err(MvccError::Corrupt(_))
        ));
    }
}
