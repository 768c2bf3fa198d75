//! Which old segments may be deleted once the state up to an index is durable elsewhere.

use crate::segment::SegmentInfo;

/// How many of the oldest `closed` segments may be deleted for `release_to(index)`.
///
/// A segment goes only if every entry in it is below `index`, it holds no marker above
/// `index` (a snapshot not yet covered), and it is older than the segment holding the
/// newest marker at or below `index` (which must stay so a reopen finds that marker).
/// Only a prefix goes, so the sequence numbers left stay consecutive; `tail` (the
/// segment being written) never goes.
pub(crate) fn releasable(closed: &[SegmentInfo], tail: &SegmentInfo, index: u64) -> usize {
    let keeper = closed
        .iter()
        .chain(std::iter::once(tail))
        .enumerate()
        .flat_map(|(pos, s)| s.markers.iter().map(move |&m| (m, pos)))
        .filter(|&(m, _)| m <= index)
        .max()
        .map(|(_, pos)| pos);
    closed
        .iter()
        .enumerate()
        .take_while(|&(pos, s)| {
            Some(pos) != keeper
                && s.max_entry.is_none_or(|max| max < index)
                && s.markers.iter().all(|&m| m <= index)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment_name::SegmentName;
    use std::path::Path;

    fn seg(seq: u64, entries: &[u64], markers: &[u64]) -> SegmentInfo {
        let mut s = SegmentInfo::new(
            Path::new("w"),
            SegmentName {
                seq,
                first_index: entries.first().copied().unwrap_or(0),
            },
        );
        for &e in entries {
            s.note_entry(e);
        }
        for &m in markers {
            s.note_marker(m);
        }
        s
    }

    #[test]
    fn releases_segments_fully_below_index() {
        let closed = [
            seg(0, &[1, 2, 3], &[]),
            seg(1, &[4, 5, 6], &[]),
            seg(2, &[7, 8], &[]),
        ];
        let tail = seg(3, &[9], &[]);
        assert_eq!(releasable(&closed, &tail, 1), 0);
        assert_eq!(releasable(&closed, &tail, 4), 1);
        assert_eq!(releasable(&closed, &tail, 6), 1);
        assert_eq!(releasable(&closed, &tail, 7), 2);
        assert_eq!(releasable(&closed, &tail, 100), 3);
    }

    #[test]
    fn keeps_the_segment_of_the_newest_covered_marker() {
        let closed = [
            seg(0, &[1, 2, 3], &[]),
            seg(1, &[4, 5, 6], &[3]),
            seg(2, &[7, 8], &[8]),
        ];
        let tail = seg(3, &[9], &[]);
        assert_eq!(releasable(&closed, &tail, 7), 1);
        assert_eq!(releasable(&closed, &tail, 9), 2);
        let closed = [seg(0, &[1, 2], &[]), seg(1, &[], &[2])];
        assert_eq!(releasable(&closed, &seg(2, &[], &[]), 10), 1);
    }

    #[test]
    fn keeps_segments_with_markers_beyond_index() {
        let closed = [
            seg(0, &[1, 2], &[]),
            seg(1, &[3], &[50]),
            seg(2, &[51], &[]),
        ];
        let tail = seg(3, &[52], &[]);
        assert_eq!(releasable(&closed, &tail, 10), 1);
    }

    #[test]
    fn never_releases_the_tail() {
        let tail = seg(0, &[1, 2], &[]);
        assert_eq!(releasable(&[], &tail, 100), 0);
    }
}
