//! The keys one watcher covers, with etcd's conventions for `key` and `range_end`.

use bytes::Bytes;

/// Where a watched span ends.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SpanEnd {
    /// Only the key itself.
    Single,
    /// Every key >= the key (`range_end == "\0"`).
    FromKey,
    /// Keys in `[key, end)`; always `end > key`.
    Until(Bytes),
}

/// A non-empty set of keys: one key, `[key, end)`, or every key from `key` on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct KeySpan {
    pub(crate) key: Bytes,
    pub(crate) end: SpanEnd,
}

impl KeySpan {
    /// etcd's reading of a watch request's key range: an empty key is `"\0"` (the
    /// smallest key), an empty `range_end` names the key alone, `"\0"` every key from
    /// `key` on. None when `range_end` is at or below `key` (an empty range). The bytes
    /// are copied, so a long-lived watcher does not pin the request buffer they came in.
    pub(crate) fn new(key: &[u8], range_end: &[u8]) -> Option<KeySpan> {
        let key = if key.is_empty() {
            Bytes::from_static(b"\0")
        } else {
            Bytes::copy_from_slice(key)
        };
        let end = match range_end {
            [] => SpanEnd::Single,
            [0] => SpanEnd::FromKey,
            end if end > &key[..] => SpanEnd::Until(Bytes::copy_from_slice(end)),
            _ => return None,
        };
        Some(KeySpan { key, end })
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, k: &[u8]) -> bool {
        match &self.end {
            SpanEnd::Single => k == &self.key[..],
            SpanEnd::FromKey => k >= &self.key[..],
            SpanEnd::Until(end) => k >= &self.key[..] && k < &end[..],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(key: &'static [u8], end: &'static [u8]) -> Option<KeySpan> {
        KeySpan::new(key, end)
    }

    #[test]
    fn etcd_conventions() {
        let one = span(b"a", b"").unwrap();
        assert!(one.contains(b"a") && !one.contains(b"ab") && !one.contains(b""));
        let prefix = span(b"a", b"b").unwrap();
        assert!(prefix.contains(b"a") && prefix.contains(b"azz") && !prefix.contains(b"b"));
        let from = span(b"m", b"\0").unwrap();
        assert!(from.contains(b"m") && from.contains(b"zzz") && !from.contains(b"l"));
        let all = span(b"", b"\0").unwrap();
        assert_eq!(all.key, Bytes::from_static(b"\0"));
        assert!(all.contains(b"\0") && all.contains(b"anything"));
        assert!(span(b"b", b"a").is_none());
        assert!(span(b"a", b"a").is_none());
    }
}
