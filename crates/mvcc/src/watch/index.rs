//! Watchers indexed by the keys they cover, so finding the watchers of one changed key
//! costs a hash lookup for single-key watchers plus a scan of the distinct ranges that
//! start at or below the key.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;

use bytes::Bytes;

use super::key_span::{KeySpan, SpanEnd};

/// Identifies a watcher inside one [`super::WatchableStore`]; never reused.
pub(crate) type WatcherKey = u64;

/// A set of watchers by key span. Each watcher is in it at most once.
#[derive(Debug, Default)]
pub(crate) struct SpanIndex {
    single: HashMap<Bytes, HashSet<WatcherKey>>,
    /// start -> end -> watchers of exactly `[start, end)` (or from `start` on).
    ranges: BTreeMap<Bytes, HashMap<SpanEnd, HashSet<WatcherKey>>>,
    len: usize,
}

impl SpanIndex {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn insert(&mut self, w: WatcherKey, span: &KeySpan) {
        let added = match span.end {
            SpanEnd::Single => self.single.entry(span.key.clone()).or_default().insert(w),
            _ => self
                .ranges
                .entry(span.key.clone())
                .or_default()
                .entry(span.end.clone())
                .or_default()
                .insert(w),
        };
        if added {
            self.len += 1;
        }
    }

    pub(crate) fn remove(&mut self, w: WatcherKey, span: &KeySpan) {
        let removed = match span.end {
            SpanEnd::Single => match self.single.get_mut(&span.key) {
                Some(set) => {
                    let removed = set.remove(&w);
                    if set.is_empty() {
                        self.single.remove(&span.key);
                    }
                    removed
                }
                None => false,
            },
            _ => match self.ranges.get_mut(&span.key) {
                Some(by_end) => {
                    let (removed, now_empty) = match by_end.get_mut(&span.end) {
                        Some(set) => (set.remove(&w), set.is_empty()),
                        None => (false, false),
                    };
                    if now_empty {
                        by_end.remove(&span.end);
                    }
                    if by_end.is_empty() {
                        self.ranges.remove(&span.key);
                    }
                    removed
                }
                None => false,
            },
        };
        if removed {
            self.len -= 1;
        }
    }

    /// Calls `f` once for every watcher whose span contains `key`.
    pub(crate) fn for_each_match(&self, key: &[u8], mut f: impl FnMut(WatcherKey)) {
        if let Some(set) = self.single.get(key) {
            set.iter().for_each(|&w| f(w));
        }
        for (_, by_end) in self
            .ranges
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
        {
            for (end, set) in by_end {
                let inside = match end {
                    SpanEnd::Until(end) => key < &end[..],
                    SpanEnd::FromKey | SpanEnd::Single => true,
                };
                if inside {
                    set.iter().for_each(|&w| f(w));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(key: &'static [u8], end: &'static [u8]) -> KeySpan {
        KeySpan::new(key, end).unwrap()
    }

    fn matches(idx: &SpanIndex, key: &[u8]) -> Vec<WatcherKey> {
        let mut v = Vec::new();
        idx.for_each_match(key, |w| v.push(w));
        v.sort_unstable();
        v
    }

    #[test]
    fn finds_exactly_the_covering_watchers() {
        let mut idx = SpanIndex::default();
        idx.insert(1, &span(b"foo", b""));
        idx.insert(2, &span(b"foo", b"fop"));
        idx.insert(3, &span(b"f", b"\0"));
        idx.insert(4, &span(b"a", b"c"));
        idx.insert(5, &span(b"foo", b"fop"));
        idx.insert(5, &span(b"foo", b"fop"));
        assert_eq!(idx.len(), 5);
        assert_eq!(matches(&idx, b"foo"), [1, 2, 3, 5]);
        assert_eq!(matches(&idx, b"foo1"), [2, 3, 5]);
        assert_eq!(matches(&idx, b"b"), [4]);
        assert_eq!(matches(&idx, b"c"), Vec::<u64>::new());
        assert_eq!(matches(&idx, b"zzz"), [3]);
        idx.remove(2, &span(b"foo", b"fop"));
        idx.remove(1, &span(b"foo", b""));
        idx.remove(1, &span(b"foo", b""));
        assert_eq!(matches(&idx, b"foo"), [3, 5]);
        for (w, s) in [
            (3, span(b"f", b"\0")),
            (4, span(b"a", b"c")),
            (5, span(b"foo", b"fop")),
        ] {
            idx.remove(w, &s);
        }
        assert!(idx.is_empty());
        assert!(idx.single.is_empty() && idx.ranges.is_empty());
    }
}
