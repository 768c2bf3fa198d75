//! The value a watch benchmark writes: the put's number and its send time, so each
//! watcher can tell which put an event carries and when it left the writer.

use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};

/// Bytes at the start of every value: put number and send time, both big-endian u64.
pub(crate) const HEADER_LEN: usize = 16;

/// A monotonic clock shared by the writer and the watchers of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    base: Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Self {
            base: Instant::now(),
        }
    }

    /// Nanoseconds since the clock was made.
    pub(crate) fn now_ns(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// The value of put number `index` sent at `sent_ns`, followed by `padding`.
pub(crate) fn encode(index: u64, sent_ns: u64, padding: &[u8]) -> Bytes {
    let mut value = BytesMut::with_capacity(HEADER_LEN + padding.len());
    value.put_u64(index);
    value.put_u64(sent_ns);
    value.put_slice(padding);
    value.freeze()
}

/// The put number and send time of a value, or `None` if it was not written by
/// [`encode`] (too short).
pub(crate) fn decode(value: &[u8]) -> Option<(u64, u64)> {
    let index = value.get(..8)?.try_into().ok().map(u64::from_be_bytes)?;
    let sent = value.get(8..16)?.try_into().ok().map(u64::from_be_bytes)?;
    Some((index, sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_padding() {
        let value = encode(42, 123_456_789, b"padpad");
        assert_eq!(value.len(), HEADER_LEN + 6);
        assert_eq!(decode(&value), Some((42, 123_456_789)));
        assert_eq!(&value[HEADER_LEN..], b"padpad");
    }

    #[test]
    fn short_values_are_foreign() {
        assert_eq!(decode(b""), None);
        assert_eq!(decode(&[0; 15]), None);
        assert_eq!(decode(&[0; 16]), Some((0, 0)));
    }

    #[test]
    fn clock_is_monotonic() {
        let clock = Clock::new();
        let a = clock.now_ns();
        let b = clock.now_ns();
        assert!(b >= a);
    }
}
