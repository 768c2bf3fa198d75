//! A per-direction I/O timeout: a timer armed when an operation first returns
//! `Pending` and disarmed when it completes (etcd's deadline set before each `Read` and
//! `Write`), optionally pushed back by progress in the other direction.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep, sleep_until};

/// Fails an operation that stays pending longer than `timeout`.
///
/// Invariant: `armed` is true exactly while an operation of this direction has returned
/// `Pending` and not yet completed; then `sleep` holds its deadline (`timeout` after it
/// became pending, or after the latest progress seen when the timer fired). With no
/// timeout the wrapper never allocates and passes results through untouched.
#[derive(Debug)]
pub(crate) struct Deadline {
    timeout: Option<Duration>,
    sleep: Option<Pin<Box<Sleep>>>,
    armed: bool,
}

impl Deadline {
    pub(crate) fn new(timeout: Option<Duration>) -> Self {
        Deadline {
            timeout,
            sleep: None,
            armed: false,
        }
    }

    /// The configured timeout; `None` when this direction never times out.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Passes `result` through; when it is `Pending`, arms the timer (if not yet armed)
    /// and turns the pending operation into `TimedOut` once the timer fires.
    pub(crate) fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        self.poll_with_progress(cx, result, None)
    }

    /// Like [`Deadline::poll`], but the pending operation only fails once `timeout` has
    /// passed both since it became pending and since `progress` (the last time the other
    /// direction of the connection completed an operation): a connection that keeps
    /// moving data one way is not idle.
    pub(crate) fn poll_with_progress<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
        progress: Option<Instant>,
    ) -> Poll<io::Result<T>> {
        let Some(timeout) = self.timeout else {
            return result;
        };
        if result.is_ready() {
            self.armed = false;
            return result;
        }
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(sleep_until(Instant::now() + timeout)));
        if !self.armed {
            sleep.as_mut().reset(Instant::now() + timeout);
            self.armed = true;
        }
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        // Fired; the other direction may have moved since the timer was armed.
        if let Some(later) = progress.map(|at| at + timeout)
            && later > Instant::now()
        {
            sleep.as_mut().reset(later);
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        self.armed = false;
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "i/o timeout")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_millis(50);

    fn pending() -> Poll<io::Result<()>> {
        Poll::Pending
    }

    #[tokio::test]
    async fn pending_operation_times_out() {
        let mut deadline = Deadline::new(Some(TIMEOUT));
        let started = Instant::now();
        let err = std::future::poll_fn(|cx| deadline.poll(cx, pending()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(err.to_string(), "i/o timeout");
        assert!(started.elapsed() >= TIMEOUT);
    }

    #[tokio::test]
    async fn completion_disarms_and_the_next_pending_gets_a_fresh_timeout() {
        let mut deadline = Deadline::new(Some(TIMEOUT));
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(deadline.poll(&mut cx, pending()).is_pending());
        assert!(deadline.armed);
        // The operation completes after most of the timeout has passed.
        tokio::time::sleep(TIMEOUT * 4 / 5).await;
        assert!(deadline.poll(&mut cx, Poll::Ready(Ok(()))).is_ready());
        assert!(!deadline.armed);
        // The next operation would have timed out already had the old timer been kept.
        tokio::time::sleep(TIMEOUT * 2 / 5).await;
        let started = Instant::now();
        let err = std::future::poll_fn(|cx| deadline.poll(cx, pending()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= TIMEOUT);
    }

    #[tokio::test]
    async fn progress_in_the_other_direction_pushes_the_timeout_back() {
        let mut deadline = Deadline::new(Some(TIMEOUT));
        let started = Instant::now();
        // The other direction completes an operation a little before the timer fires,
        // then stops.
        let progress = started + TIMEOUT * 4 / 5;
        let err = std::future::poll_fn(|cx| {
            let seen = (Instant::now() >= progress).then_some(progress);
            deadline.poll_with_progress(cx, pending(), seen)
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= TIMEOUT * 4 / 5 + TIMEOUT);
    }

    #[tokio::test]
    async fn old_progress_does_not_extend_the_timeout() {
        let mut deadline = Deadline::new(Some(TIMEOUT));
        let long_ago = Instant::now();
        tokio::time::sleep(TIMEOUT * 2).await;
        let started = Instant::now();
        let err =
            std::future::poll_fn(|cx| deadline.poll_with_progress(cx, pending(), Some(long_ago)))
                .await
                .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < TIMEOUT * 3);
    }

    #[test]
    fn no_timeout_passes_pending_through() {
        let mut deadline = Deadline::new(None);
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(deadline.poll(&mut cx, pending()).is_pending());
        assert!(deadline.sleep.is_none());
    }
}
