//! The key range of a request, with etcd's conventions for `range_end`.

use std::ops::Bound;

/// Lower and upper bound of a key span.
pub(crate) type KeyBounds<'a> = (Bound<&'a [u8]>, Bound<&'a [u8]>);

/// Which keys a request names: an empty `range_end` means just `key`; `range_end == "\0"`
/// means every key >= `key`; otherwise `[key, range_end)` (empty when `range_end <= key`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyRange<'a> {
    Single(&'a [u8]),
    Span {
        start: &'a [u8],
        end: Option<&'a [u8]>,
    },
}

impl<'a> KeyRange<'a> {
    pub(crate) fn new(key: &'a [u8], range_end: &'a [u8]) -> Self {
        match range_end {
            [] => KeyRange::Single(key),
            [0] => KeyRange::Span {
                start: key,
                end: None,
            },
            end => KeyRange::Span {
                start: key,
                end: Some(end),
            },
        }
    }

    /// Bounds for `BTreeMap::range` over a span, or None when the span is empty (a
    /// `BTreeMap` panics on inverted bounds).
    pub(crate) fn bounds(&self) -> Option<KeyBounds<'a>> {
        match *self {
            KeyRange::Single(k) => Some((Bound::Included(k), Bound::Included(k))),
            KeyRange::Span { start, end: None } => Some((Bound::Included(start), Bound::Unbounded)),
            KeyRange::Span {
                start,
                end: Some(end),
            } => (start < end).then_some((Bound::Included(start), Bound::Excluded(end))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etcd_conventions() {
        assert_eq!(KeyRange::new(b"a", b""), KeyRange::Single(b"a"));
        assert_eq!(
            KeyRange::new(b"a", b"\0"),
            KeyRange::Span {
                start: b"a",
                end: None
            }
        );
        assert_eq!(
            KeyRange::new(b"a", b"c"),
            KeyRange::Span {
                start: b"a",
                end: Some(b"c")
            }
        );
        assert!(KeyRange::new(b"c", b"a").bounds().is_none());
        assert!(KeyRange::new(b"a", b"a").bounds().is_none());
        assert!(KeyRange::new(b"\0", b"\0").bounds().is_some());
    }
}
