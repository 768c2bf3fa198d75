//! Registry of in-flight readers, so physical compaction never deletes a revision a
//! reader may still load.
//!
//! A reader registers a *floor* while holding the store's state lock: a revision such
//! that compaction at or below it removes nothing the reader reads (a range at revision
//! `r` has floor `r`; a snapshot or hash, which may read anything above the compaction
//! revision it saw, has that revision as floor). Compaction at `c` therefore waits only
//! for readers with a floor below `c`. Once `c` is published, new readers get floors of
//! at least `c`, so the wait ends when the readers already running finish, and new
//! readers are never blocked.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

#[derive(Debug, Default)]
pub(crate) struct Readers {
    /// floor -> number of readers registered with it.
    floors: Mutex<BTreeMap<i64, usize>>,
    released: Condvar,
}

/// Unregisters its reader when dropped.
#[derive(Debug)]
pub(crate) struct ReaderGuard<'a> {
    readers: &'a Readers,
    floor: i64,
}

impl Readers {
    pub(crate) fn register(&self, floor: i64) -> ReaderGuard<'_> {
        *self.floors.lock().entry(floor).or_insert(0) += 1;
        ReaderGuard {
            readers: self,
            floor,
        }
    }

    /// Blocks until no reader with a floor below `rev` is registered. Returns false if
    /// `stop` was raised first.
    pub(crate) fn wait_none_below(&self, rev: i64, stop: &AtomicBool) -> bool {
        let mut floors = self.floors.lock();
        loop {
            if stop.load(Ordering::Acquire) {
                return false;
            }
            match floors.keys().next() {
                Some(&lowest) if lowest < rev => {
                    self.released
                        .wait_for(&mut floors, Duration::from_millis(50));
                }
                _ => return true,
            }
        }
    }
}

impl Drop for ReaderGuard<'_> {
    fn drop(&mut self) {
        let mut floors = self.readers.floors.lock();
        if let Some(n) = floors.get_mut(&self.floor) {
            *n -= 1;
            if *n == 0 {
                floors.remove(&self.floor);
                self.readers.released.notify_all();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn waits_only_for_lower_floors() {
        let readers = Arc::new(Readers::default());
        let stop = AtomicBool::new(false);
        let high = readers.register(10);
        assert!(
            readers.wait_none_below(10, &stop),
            "floor 10 does not block compaction at 10"
        );
        let low = readers.register(3);
        let r2 = readers.clone();
        let waiter = std::thread::spawn(move || r2.wait_none_below(5, &AtomicBool::new(false)));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished());
        drop(low);
        assert!(waiter.join().unwrap());
        drop(high);
        assert!(readers.floors.lock().is_empty());
        let _low = readers.register(1);
        stop.store(true, Ordering::Release);
        assert!(!readers.wait_none_below(5, &stop));
    }
}
