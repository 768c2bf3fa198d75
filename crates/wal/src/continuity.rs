//! The index rules of the log, shared by the writer (to refuse a bad append before it is
//! written) and the reader (to refuse a log that breaks them), so both always agree.
//!
//! Rules: an entry's index is at most `last + 1`; an index at or below `last` rewrites
//! the log from there (a raft conflict), but never below the first entry kept nor at or
//! below a recorded snapshot marker; a marker beyond `last` restarts the log at
//! `marker + 1`.

use crate::error::WalError;

/// Where the log stands, in indexes only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Continuity {
    /// Index of the last entry, or of the marker that restarted the log.
    last: u64,
    /// Index of the first entry kept since the log (re)started, if any entry was.
    first: Option<u64>,
    /// Whether `last` comes from a record rather than from a segment header. An unanchored
    /// log (reading starts at a later segment after older ones were released) may begin
    /// with a rewrite below the header's index: what it rewrote was released.
    anchored: bool,
    /// Entries below this may not be rewritten (one past the newest marker).
    marker_floor: u64,
}

impl Continuity {
    /// The state at the start of a segment whose header names `first_index`, with nothing
    /// before it known.
    pub(crate) fn starting_at(first_index: u64) -> Self {
        Continuity {
            last: first_index.saturating_sub(1),
            first: None,
            anchored: false,
            marker_floor: 0,
        }
    }

    /// Index of the last entry (or of the marker that restarted the log); 0 when empty.
    pub(crate) fn last_index(&self) -> u64 {
        self.last
    }

    /// The index the next entry continues at without rewriting.
    pub(crate) fn next_index(&self) -> u64 {
        self.last.saturating_add(1)
    }

    /// Lowest index an entry may have now.
    fn floor(&self) -> u64 {
        let base = match self.first {
            Some(first) => first,
            None if self.anchored => self.next_index(),
            None => 1,
        };
        base.max(self.marker_floor).max(1)
    }

    /// Accepts an entry at `index`, or says why it breaks the rules.
    pub(crate) fn push_entry(&mut self, index: u64) -> Result<(), WalError> {
        if index > self.next_index() {
            return Err(WalError::EntryGap {
                index,
                last_index: self.last,
            });
        }
        let floor = self.floor();
        if index < floor {
            return Err(WalError::EntryRewind {
                index,
                min_index: floor,
            });
        }
        self.first.get_or_insert(index);
        self.last = index;
        Ok(())
    }

    /// Records a snapshot marker; returns true when it restarted the log (every entry
    /// before it is superseded).
    pub(crate) fn push_marker(&mut self, index: u64) -> bool {
        self.marker_floor = self.marker_floor.max(index.saturating_add(1));
        if index > self.last {
            self.last = index;
            self.first = None;
            self.anchored = true;
            return true;
        }
        false
    }

    /// After older segments were deleted, the reader starts at the first kept entry; raise
    /// `first` to `min_kept_entry` so the writer is never laxer than a later reader.
    pub(crate) fn note_released(&mut self, min_kept_entry: Option<u64>) {
        if let (Some(first), Some(min)) = (self.first, min_kept_entry) {
            self.first = Some(first.max(min));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_log_starts_at_one_and_refuses_gaps() {
        let mut c = Continuity::starting_at(1);
        assert!(matches!(
            c.push_entry(2),
            Err(WalError::EntryGap {
                index: 2,
                last_index: 0
            })
        ));
        assert!(matches!(c.push_entry(0), Err(WalError::EntryRewind { .. })));
        for i in 1..=10 {
            c.push_entry(i).unwrap();
        }
        assert_eq!(c.last_index(), 10);
        assert!(c.push_entry(12).is_err());
    }

    #[test]
    fn rewrite_allowed_above_first_and_markers_only() {
        let mut c = Continuity::starting_at(1);
        for i in 1..=10 {
            c.push_entry(i).unwrap();
        }
        c.push_entry(6).unwrap();
        assert_eq!(c.last_index(), 6);
        assert!(!c.push_marker(4));
        assert!(matches!(
            c.push_entry(4),
            Err(WalError::EntryRewind {
                index: 4,
                min_index: 5
            })
        ));
        c.push_entry(5).unwrap();
    }

    #[test]
    fn marker_beyond_last_restarts_the_log() {
        let mut c = Continuity::starting_at(1);
        c.push_entry(1).unwrap();
        assert!(c.push_marker(20));
        assert_eq!(c.last_index(), 20);
        assert!(c.push_entry(20).is_err());
        assert!(c.push_entry(22).is_err());
        c.push_entry(21).unwrap();
    }

    #[test]
    fn unanchored_start_allows_rewrite_of_released_prefix() {
        let mut c = Continuity::starting_at(16);
        c.push_entry(13).unwrap();
        assert_eq!(c.last_index(), 13);
        assert!(c.push_entry(12).is_err());
    }

    #[test]
    fn release_raises_first() {
        let mut c = Continuity::starting_at(1);
        for i in 1..=20 {
            c.push_entry(i).unwrap();
        }
        c.note_released(Some(11));
        assert!(c.push_entry(10).is_err());
        c.push_entry(11).unwrap();
    }
}
