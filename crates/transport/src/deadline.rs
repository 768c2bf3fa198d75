//! A per-direction I/O timeout: a timer armed when an operation first returns
//! `Pending` and disarmed when it completes.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep, sleep_until};

/// Fails an operation that stays pending longer than `timeout`.
///
/// Invariant: `armed` is true exactly while an operation of this direction has returned
/// `Pending` and not yet completed; then `sleep` holds its deadline. With no timeout the
/// wrapper never allocates and passes results through untouched.
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

    /// Passes `result` through; when it is `Pending`, arms the timer (if not yet armed)
    /// and turns the pending operation into `TimedOut` once the timer fires.
    pub(crate) fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
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
        let fired = sleep.as_mut().poll(cx).is_ready();
        if fired {
            self.armed = false;
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "i/o timeout")));
        }
        Poll::Pending
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

    #[test]
    fn no_timeout_passes_pending_through() {
        let mut deadline = Deadline::new(None);
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(deadline.poll(&mut cx, pending()).is_pending());
        assert!(deadline.sleep.is_none());
    }
}
