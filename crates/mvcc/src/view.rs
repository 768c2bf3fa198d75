//! Read views: what a range at some revision sees. A view is either a snapshot of the
//! committed store (readers) or a write txn's view (committed state plus its pending
//! changes). Both answer etcd's `rangeKeys`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use etcd_api::mvccpb::KeyValue;
use prost::Message;

use crate::key_range::KeyRange;
use crate::readers::ReaderGuard;
use crate::revision::Revision;
use crate::store::Shared;
use crate::tree_index::TreeIndex;
use crate::{Backend, Bucket, MvccError};

/// A write txn's pending state per key: Some(kv) put, None deleted.
pub(crate) type Overlay = BTreeMap<Bytes, Option<KeyValue>>;

/// Options of a raw range (etcd's `RangeOptions`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RawRangeOpts {
    /// Revision to read at; <= 0 means the view's revision.
    pub rev: i64,
    /// At most this many kvs (<= 0: all); `count` is not limited.
    pub limit: i64,
    /// Only count; return no kvs.
    pub count_only: bool,
}

/// etcd's `RangeResult`.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawRange {
    pub kvs: Vec<KeyValue>,
    /// Keys in the range at the revision read, regardless of the limit.
    pub count: i64,
    /// The view's revision (not the revision read): the response header's revision.
    pub rev: i64,
}

/// What a range reads from.
pub(crate) trait ReadView {
    /// The revision a range at revision 0 reads.
    fn rev(&self) -> i64;
    /// The compaction revision when the view was opened (-1 if never compacted).
    fn first_rev(&self) -> i64;
    fn range_keys(
        &self,
        key: &[u8],
        range_end: &[u8],
        opts: RawRangeOpts,
    ) -> Result<RawRange, MvccError>;
}

/// Resolves a requested revision against the view's revision `cur` and the store's
/// compaction revision, with etcd's errors (the compaction revision itself is readable).
pub(crate) fn resolve_rev(requested: i64, cur: i64, compact: i64) -> Result<i64, MvccError> {
    if requested > cur {
        return Err(MvccError::FutureRev);
    }
    let rev = if requested <= 0 { cur } else { requested };
    if rev < compact {
        return Err(MvccError::Compacted);
    }
    Ok(rev)
}

/// Where the value of one key found by a range comes from.
#[derive(Clone, Debug)]
pub(crate) enum Found {
    Committed(Revision),
    Pending(KeyValue),
}

/// The keys of `range` alive at `at_rev`, merged with `overlay` (which must then hold
/// exactly the changes made at `at_rev`). Returns the first `limit` (all if 0) and the
/// total count.
pub(crate) fn collect(
    index: &TreeIndex,
    overlay: Option<&Overlay>,
    range: &KeyRange<'_>,
    at_rev: i64,
    limit: usize,
    count_only: bool,
) -> (Vec<Found>, i64) {
    let mut out = Vec::new();
    let mut count = 0i64;
    let mut emit = |f: Found| {
        count += 1;
        if !count_only && (limit == 0 || out.len() < limit) {
            out.push(f);
        }
    };
    if let KeyRange::Single(key) = range {
        match overlay.and_then(|o| o.get(*key)) {
            Some(Some(kv)) => emit(Found::Pending(kv.clone())),
            Some(None) => {}
            None => {
                if let Some((modified, ..)) = index.get(key, at_rev) {
                    emit(Found::Committed(modified));
                }
            }
        }
        return (out, count);
    }
    let mut committed = index
        .span(range)
        .filter_map(|(k, ki)| ki.get(at_rev).map(|(m, ..)| (k, m)))
        .peekable();
    let mut pending = range
        .bounds()
        .zip(overlay)
        .into_iter()
        .flat_map(|(b, o)| o.range::<[u8], _>(b))
        .peekable();
    loop {
        let take_pending = match (committed.peek(), pending.peek()) {
            (None, None) => break,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (Some((ck, _)), Some((pk, _))) => {
                if ck == pk {
                    committed.next(); // shadowed by the pending change
                    true
                } else {
                    pk < ck
                }
            }
        };
        if take_pending {
            if let Some((_, Some(kv))) = pending.next() {
                emit(Found::Pending(kv.clone()));
            }
        } else if let Some((_, rev)) = committed.next() {
            emit(Found::Committed(rev));
        }
    }
    (out, count)
}

/// Reads the stored kv of a committed (non-tombstone) revision.
pub(crate) fn read_kv(backend: &dyn Backend, rev: Revision) -> Result<KeyValue, MvccError> {
    let raw = backend
        .get(Bucket::Key, &rev.to_key(false))?
        .ok_or_else(|| {
            MvccError::Corrupt(format!(
                "revision {}_{} missing from the key bucket",
                rev.main, rev.sub
            ))
        })?;
    KeyValue::decode(raw.as_slice()).map_err(|e| {
        MvccError::Corrupt(format!(
            "undecodable kv at revision {}_{}: {e}",
            rev.main, rev.sub
        ))
    })
}

/// Loads the values of `found`, in order.
pub(crate) fn load(backend: &dyn Backend, found: Vec<Found>) -> Result<Vec<KeyValue>, MvccError> {
    found
        .into_iter()
        .map(|f| match f {
            Found::Committed(rev) => read_kv(backend, rev),
            Found::Pending(kv) => Ok(kv),
        })
        .collect()
}

/// The committed store for one range at a time: each range resolves its revision,
/// checks it and collects its keys under one lock hold, so a range at the current
/// revision can never find it compacted.
pub(crate) struct CurrentView<'a> {
    pub(crate) shared: &'a Arc<Shared>,
}

impl ReadView for CurrentView<'_> {
    fn rev(&self) -> i64 {
        self.shared.current_rev.load(Ordering::Acquire)
    }

    fn first_rev(&self) -> i64 {
        self.shared.compact_rev.load(Ordering::Acquire)
    }

    fn range_keys(
        &self,
        key: &[u8],
        range_end: &[u8],
        opts: RawRangeOpts,
    ) -> Result<RawRange, MvccError> {
        let (found, count, cur, _reader) = {
            let state = self.shared.state.read();
            let at = resolve_rev(opts.rev, state.current_rev, state.compact_rev)?;
            // Compaction at or below `at` leaves every revision this range reads.
            let reader = self.shared.readers.register(at);
            let range = KeyRange::new(key, range_end);
            let limit = opts.limit.max(0) as usize;
            let (found, count) = collect(&state.index, None, &range, at, limit, opts.count_only);
            (found, count, state.current_rev, reader)
        };
        Ok(RawRange {
            kvs: load(&*self.shared.backend, found)?,
            count,
            rev: cur,
        })
    }
}

/// A consistent view of the committed store at the revision current when it was opened
/// (for read-only txns, whose ops must all see one revision).
///
/// While it lives, physical compaction at a revision above its floor waits, so every
/// revision it may read stays in the backend.
pub(crate) struct SnapshotView<'a> {
    shared: &'a Arc<Shared>,
    rev: i64,
    first_rev: i64,
    _reader: ReaderGuard<'a>,
}

impl<'a> SnapshotView<'a> {
    pub(crate) fn open(shared: &'a Arc<Shared>) -> Self {
        let state = shared.state.read();
        let reader = shared.readers.register(state.compact_rev);
        SnapshotView {
            shared,
            rev: state.current_rev,
            first_rev: state.compact_rev,
            _reader: reader,
        }
    }
}

impl ReadView for SnapshotView<'_> {
    fn rev(&self) -> i64 {
        self.rev
    }

    fn first_rev(&self) -> i64 {
        self.first_rev
    }

    fn range_keys(
        &self,
        key: &[u8],
        range_end: &[u8],
        opts: RawRangeOpts,
    ) -> Result<RawRange, MvccError> {
        let (found, count) = {
            let state = self.shared.state.read();
            let at = resolve_rev(opts.rev, self.rev, state.compact_rev)?;
            collect(
                &state.index,
                None,
                &KeyRange::new(key, range_end),
                at,
                opts.limit.max(0) as usize,
                opts.count_only,
            )
        };
        Ok(RawRange {
            kvs: load(&*self.shared.backend, found)?,
            count,
            rev: self.rev,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, rev: i64) -> KeyValue {
        KeyValue {
            key: Bytes::copy_from_slice(key.as_bytes()),
            mod_revision: rev,
            create_revision: rev,
            version: 1,
            ..Default::default()
        }
    }

    fn keys(index: &TreeIndex, overlay: Option<&Overlay>, r: KeyRange<'_>, at: i64) -> Vec<String> {
        collect(index, overlay, &r, at, 0, false)
            .0
            .into_iter()
            .map(|f| match f {
                Found::Committed(rev) => format!("c{}", rev.main),
                Found::Pending(kv) => format!("p{}", String::from_utf8_lossy(&kv.key)),
            })
            .collect()
    }

    #[test]
    fn resolve_follows_etcd() {
        assert_eq!(resolve_rev(0, 5, -1).unwrap(), 5);
        assert_eq!(resolve_rev(-3, 5, 2).unwrap(), 5);
        assert_eq!(resolve_rev(3, 5, 3).unwrap(), 3);
        assert!(matches!(resolve_rev(2, 5, 3), Err(MvccError::Compacted)));
        assert!(matches!(resolve_rev(6, 5, 3), Err(MvccError::FutureRev)));
    }

    #[test]
    fn merges_pending_changes_in_key_order() {
        let mut index = TreeIndex::default();
        index.put(b"a", Revision::new(2, 0)).unwrap();
        index.put(b"c", Revision::new(3, 0)).unwrap();
        index.put(b"e", Revision::new(4, 0)).unwrap();
        let mut overlay = Overlay::new();
        overlay.insert(Bytes::from_static(b"b"), Some(kv("b", 5)));
        overlay.insert(Bytes::from_static(b"c"), None);
        overlay.insert(Bytes::from_static(b"e"), Some(kv("e", 5)));
        overlay.insert(Bytes::from_static(b"f"), Some(kv("f", 5)));
        let all = KeyRange::new(b"a", b"\0");
        assert_eq!(
            keys(&index, Some(&overlay), all, 5),
            vec!["c2", "pb", "pe", "pf"]
        );
        assert_eq!(keys(&index, None, all, 4), vec!["c2", "c3", "c4"]);
        assert_eq!(
            keys(&index, Some(&overlay), KeyRange::new(b"b", b"f"), 5),
            vec!["pb", "pe"]
        );
        assert_eq!(
            keys(&index, Some(&overlay), KeyRange::new(b"c", b""), 5),
            Vec::<String>::new()
        );
        assert_eq!(
            keys(&index, Some(&overlay), KeyRange::new(b"a", b""), 5),
            vec!["c2"]
        );
        assert_eq!(
            keys(&index, Some(&overlay), KeyRange::new(b"e", b""), 5),
            vec!["pe"]
        );
        let (first, count) = collect(&index, Some(&overlay), &all, 5, 2, false);
        assert_eq!((first.len(), count), (2, 4));
        let (none, count) = collect(&index, Some(&overlay), &all, 5, 0, true);
        assert_eq!((none.len(), count), (0, 4));
    }
}
