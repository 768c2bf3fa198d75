//! Wakes the background sync thread: a sticky flag, so a wake-up sent before the thread
//! waits is not lost.

use std::time::Duration;

use parking_lot::{Condvar, Mutex};

#[derive(Debug, Default)]
pub(crate) struct Kick {
    pending: Mutex<bool>,
    cv: Condvar,
}

impl Kick {
    pub(crate) fn kick(&self) {
        *self.pending.lock() = true;
        self.cv.notify_one();
    }

    /// Returns when kicked (now or since the last wait) or after `timeout`.
    pub(crate) fn wait(&self, timeout: Duration) {
        let mut pending = self.pending.lock();
        if !*pending {
            self.cv.wait_for(&mut pending, timeout);
        }
        *pending = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_kick_before_the_wait_is_kept() {
        let k = Kick::default();
        k.kick();
        let t = Instant::now();
        k.wait(Duration::from_secs(10));
        assert!(t.elapsed() < Duration::from_secs(5));
        let t = Instant::now();
        k.wait(Duration::from_millis(20));
        assert!(t.elapsed() >= Duration::from_millis(20));
    }
}
