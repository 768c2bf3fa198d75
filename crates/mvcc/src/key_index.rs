//! The revision history of one key, as etcd's `keyIndex`: a list of generations, each
//! running from a put that created the key to the tombstone that deleted it.
//!
//! For example put(1.0); put(2.0); tombstone(3.0); put(4.0); tombstone(5.0) gives
//! generations `{1.0, 2.0, 3.0(t)}`, `{4.0, 5.0(t)}`, `{}`: a tombstone is always the
//! last revision of a generation and is followed by a new, empty generation.

use std::collections::HashSet;

use smallvec::{SmallVec, smallvec};

use crate::revision::Revision;

/// Most keys have one generation, and many one revision in it, so both lists keep their
/// first item inline: a key index then needs no allocation of its own (it is held by the
/// million in the tree index).
type Revisions = SmallVec<[Revision; 1]>;
type Generations = SmallVec<[Generation; 1]>;

/// One life of a key: from its creation to its deletion (or until now).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Generation {
    /// Version of the newest revision in `revs` (versions count every put since creation,
    /// also those compacted away).
    ver: i64,
    /// The revision that created the key in this generation.
    created: Revision,
    /// Ascending; the last one is a tombstone in every generation but the last.
    revs: Revisions,
}

impl Generation {
    fn is_empty(&self) -> bool {
        self.revs.is_empty()
    }

    /// Index of the newest revision with main <= `at_rev`, if any.
    fn newest_at(&self, at_rev: i64) -> Option<usize> {
        self.revs.iter().rposition(|r| r.main <= at_rev)
    }
}

/// Why a key index refused a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IndexError {
    /// A revision not newer than the last one recorded.
    Stale,
    /// A tombstone for a key that is not alive.
    NotAlive,
}

/// All live and not-yet-compacted revisions of one key.
///
/// Invariants: at least one generation once anything was put; revisions strictly
/// increase across generations; only the last generation may be empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyIndex {
    modified: Revision,
    generations: Generations,
}

impl KeyIndex {
    /// A key index rebuilt from its oldest stored revision `modified`, a put whose stored
    /// value says it was created at `created` and had version `ver`.
    pub(crate) fn restored(created: Revision, modified: Revision, ver: i64) -> Self {
        KeyIndex {
            modified,
            generations: smallvec![Generation {
                ver,
                created,
                revs: smallvec![modified],
            }],
        }
    }

    /// Records a put at `rev`.
    pub(crate) fn put(&mut self, rev: Revision) -> Result<(), IndexError> {
        if rev <= self.modified {
            return Err(IndexError::Stale);
        }
        match self.generations.last_mut() {
            Some(g) => {
                if g.revs.is_empty() {
                    g.created = rev;
                }
                g.revs.push(rev);
                g.ver += 1;
            }
            None => self.generations.push(Generation {
                ver: 1,
                created: rev,
                revs: smallvec![rev],
            }),
        }
        self.modified = rev;
        Ok(())
    }

    /// Records a delete at `rev`: the tombstone ends the current generation.
    pub(crate) fn tombstone(&mut self, rev: Revision) -> Result<(), IndexError> {
        match self.generations.last() {
            Some(g) if !g.is_empty() => {}
            _ => return Err(IndexError::NotAlive),
        }
        self.put(rev)?;
        self.generations.push(Generation::default());
        Ok(())
    }

    /// (modified, created, version) of the key as of `at_rev`, or None if it did not
    /// exist then. Never returns a tombstone.
    pub(crate) fn get(&self, at_rev: i64) -> Option<(Revision, Revision, i64)> {
        let g = self.find_generation(at_rev)?;
        let n = g.newest_at(at_rev)?;
        Some((g.revs[n], g.created, g.ver - (g.revs.len() - n - 1) as i64))
    }

    /// The generation alive at `rev`, or None if the key was absent then.
    fn find_generation(&self, rev: i64) -> Option<&Generation> {
        let last = self.generations.len().checked_sub(1)?;
        for (i, g) in self.generations.iter().enumerate().rev() {
            let (Some(first), Some(newest)) = (g.revs.first(), g.revs.last()) else {
                continue;
            };
            if i != last && newest.main <= rev {
                return None; // deleted at or before rev
            }
            if first.main <= rev {
                return Some(g);
            }
        }
        None
    }

    /// Whether the key exists now (its last generation has revisions).
    pub(crate) fn is_alive(&self) -> bool {
        self.generations.last().is_some_and(|g| !g.is_empty())
    }

    /// Whether nothing is recorded (no generation with a revision).
    pub(crate) fn is_empty(&self) -> bool {
        self.generations.iter().all(Generation::is_empty)
    }

    /// etcd's doCompact: the generation holding `at_rev` (or the first created after it)
    /// and the index in it of the newest revision <= `at_rev`, which is added to
    /// `available`.
    fn do_compact(&self, at_rev: i64, available: &mut HashSet<Revision>) -> (usize, Option<usize>) {
        let mut gen_idx = 0;
        while gen_idx + 1 < self.generations.len() {
            let g = &self.generations[gen_idx];
            match g.revs.last() {
                Some(tomb) if tomb.main > at_rev => break,
                _ => gen_idx += 1,
            }
        }
        let g = &self.generations[gen_idx];
        let rev_idx = g.newest_at(at_rev);
        if let Some(i) = rev_idx {
            available.insert(g.revs[i]);
        }
        (gen_idx, rev_idx)
    }

    /// Drops every revision <= `at_rev` but the newest one (and that one too if it is a
    /// tombstone); adds the kept revision to `available`. The key index may become empty.
    pub(crate) fn compact(&mut self, at_rev: i64, available: &mut HashSet<Revision>) {
        if self.generations.is_empty() {
            return;
        }
        let (mut gen_idx, rev_idx) = self.do_compact(at_rev, available);
        let last = self.generations.len() - 1;
        let g = &mut self.generations[gen_idx];
        if !g.is_empty() {
            if let Some(i) = rev_idx {
                g.revs.drain(..i);
            }
            if g.revs.len() == 1 && gen_idx != last {
                available.remove(&g.revs[0]);
                gen_idx += 1;
            }
        }
        self.generations.drain(..gen_idx);
    }

    /// Adds to `available` the revision [`KeyIndex::compact`] at `at_rev` would keep.
    pub(crate) fn keep(&self, at_rev: i64, available: &mut HashSet<Revision>) {
        if self.is_empty() {
            return;
        }
        let (gen_idx, rev_idx) = self.do_compact(at_rev, available);
        let g = &self.generations[gen_idx];
        if let Some(i) = rev_idx
            && i + 1 == g.revs.len()
            && gen_idx + 1 != self.generations.len()
        {
            available.remove(&g.revs[i]);
        }
    }

    #[cfg(test)]
    fn generations(&self) -> Vec<Vec<(i64, i64)>> {
        self.generations
            .iter()
            .map(|g| g.revs.iter().map(|r| (r.main, r.sub)).collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(main: i64) -> Revision {
        Revision::new(main, 0)
    }

    /// etcd's example: put(1); put(2); tombstone(3); put(4); tombstone(5).
    fn example() -> KeyIndex {
        let mut ki = KeyIndex::default();
        ki.put(r(1)).unwrap();
        ki.put(r(2)).unwrap();
        ki.tombstone(r(3)).unwrap();
        ki.put(r(4)).unwrap();
        ki.tombstone(r(5)).unwrap();
        ki
    }

    #[test]
    fn a_key_put_once_allocates_nothing() {
        let mut ki = KeyIndex::default();
        ki.put(r(7)).unwrap();
        assert!(!ki.generations.spilled() && !ki.generations[0].revs.spilled());
        assert!(std::mem::size_of::<KeyIndex>() <= 72);
        ki.put(r(8)).unwrap();
        assert_eq!(ki.generations(), vec![vec![(7, 0), (8, 0)]]);
    }

    #[test]
    fn generations_and_versions() {
        let ki = example();
        assert_eq!(
            ki.generations(),
            vec![vec![(1, 0), (2, 0), (3, 0)], vec![(4, 0), (5, 0)], vec![]]
        );
        assert_eq!(ki.get(0), None);
        assert_eq!(ki.get(1), Some((r(1), r(1), 1)));
        assert_eq!(ki.get(2), Some((r(2), r(1), 2)));
        assert_eq!(ki.get(3), None);
        assert_eq!(ki.get(4), Some((r(4), r(4), 1)));
        assert_eq!(ki.get(5), None);
        assert_eq!(ki.get(100), None);
    }

    #[test]
    fn refuses_stale_puts_and_dead_tombstones() {
        let mut ki = example();
        assert_eq!(ki.put(r(5)), Err(IndexError::Stale));
        assert_eq!(ki.tombstone(r(6)), Err(IndexError::NotAlive));
        ki.put(Revision::new(6, 1)).unwrap();
        ki.put(Revision::new(7, 0)).unwrap();
        assert_eq!(ki.get(7), Some((r(7), Revision::new(6, 1), 2)));
        let mut empty = KeyIndex::default();
        assert_eq!(empty.tombstone(r(1)), Err(IndexError::NotAlive));
    }

    #[test]
    fn compaction_follows_etcd() {
        // etcd's documented examples.
        let mut ki = example();
        let mut avail = HashSet::new();
        ki.compact(2, &mut avail);
        assert_eq!(
            ki.generations(),
            vec![vec![(2, 0), (3, 0)], vec![(4, 0), (5, 0)], vec![]]
        );
        assert_eq!(avail, HashSet::from([r(2)]));

        let mut avail = HashSet::new();
        ki.compact(4, &mut avail);
        assert_eq!(ki.generations(), vec![vec![(4, 0), (5, 0)], vec![]]);
        assert_eq!(avail, HashSet::from([r(4)]));

        let mut avail = HashSet::new();
        ki.compact(5, &mut avail);
        assert!(ki.is_empty());
        assert!(avail.is_empty());

        let mut ki = example();
        let mut avail = HashSet::new();
        ki.compact(6, &mut avail);
        assert!(ki.is_empty());
        assert!(avail.is_empty());
    }

    #[test]
    fn compaction_keeps_versions_right() {
        let mut ki = KeyIndex::default();
        for m in 2..=6 {
            ki.put(r(m)).unwrap();
        }
        let mut avail = HashSet::new();
        ki.compact(4, &mut avail);
        assert_eq!(avail, HashSet::from([r(4)]));
        assert_eq!(ki.generations(), vec![vec![(4, 0), (5, 0), (6, 0)]]);
        assert_eq!(ki.get(4), Some((r(4), r(2), 3)));
        assert_eq!(ki.get(6), Some((r(6), r(2), 5)));
        assert_eq!(ki.get(3), None, "compacted away");
        // Compacting before everything that is left changes nothing.
        let mut avail = HashSet::new();
        ki.compact(1, &mut avail);
        assert_eq!(ki.generations(), vec![vec![(4, 0), (5, 0), (6, 0)]]);
        assert!(avail.is_empty());
    }

    #[test]
    fn keep_matches_compact() {
        for at in 0..8 {
            let ki = example();
            let mut kept = HashSet::new();
            ki.keep(at, &mut kept);
            let mut compacted = ki.clone();
            let mut avail = HashSet::new();
            compacted.compact(at, &mut avail);
            assert_eq!(kept, avail, "at {at}");
        }
        let mut ki = KeyIndex::default();
        ki.put(r(2)).unwrap();
        ki.tombstone(r(3)).unwrap();
        ki.put(r(5)).unwrap();
        let mut kept = HashSet::new();
        ki.keep(4, &mut kept);
        assert!(kept.is_empty());
        ki.keep(5, &mut kept);
        assert_eq!(kept, HashSet::from([r(5)]));
    }

    #[test]
    fn restored_key_continues_versions() {
        let mut ki = KeyIndex::restored(r(2), r(4), 3);
        ki.put(r(5)).unwrap();
        assert_eq!(ki.get(5), Some((r(5), r(2), 4)));
        assert_eq!(ki.get(4), Some((r(4), r(2), 3)));
        ki.tombstone(r(6)).unwrap();
        assert_eq!(ki.get(6), None);
        ki.put(r(7)).unwrap();
        assert_eq!(ki.get(7), Some((r(7), r(7), 1)));
    }
}
