//! Lets one writer at a time into the store, with a permit that can move between
//! threads (unlike a mutex guard), so a write txn can live in an async task.

use parking_lot::{Condvar, Mutex};

#[derive(Debug, Default)]
pub(crate) struct WriterGate {
    busy: Mutex<bool>,
    freed: Condvar,
}

/// Held by the one active writer; frees the gate when dropped.
#[derive(Debug)]
pub(crate) struct WriterPermit<'a> {
    gate: &'a WriterGate,
}

impl WriterGate {
    /// Waits until no other permit is alive.
    pub(crate) fn enter(&self) -> WriterPermit<'_> {
        let mut busy = self.busy.lock();
        while *busy {
            self.freed.wait(&mut busy);
        }
        *busy = true;
        WriterPermit { gate: self }
    }
}

impl Drop for WriterPermit<'_> {
    fn drop(&mut self) {
        *self.gate.busy.lock() = false;
        self.gate.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn one_writer_at_a_time() {
        let gate = Arc::new(WriterGate::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (gate, inside) = (gate.clone(), inside.clone());
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let _permit = gate.enter();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        fn assert_send<T: Send>() {}
        assert_send::<WriterPermit<'static>>();
    }
}
