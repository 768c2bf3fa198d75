//! Requests that outlive their caller long enough to clean up. When a gRPC client goes
//! away its handler's future is dropped; a lock or campaign dropped in the middle of
//! its write could not withdraw the key it just queued. So the work runs as its own
//! task, told of the caller's departure, and withdraws itself as etcd does (it unlocks
//! or resigns when the waiting client's context is cancelled).

use std::future::Future;

use etcd_api::etcdserverpb::TxnRequest;
use tokio::sync::watch;

use super::error::{ConcurrencyError, Result};
use crate::error::ServerError;
use crate::proposal::AuthInfo;
use crate::server::EtcdServer;

/// Resolves once the caller is gone.
pub struct Cancelled(watch::Receiver<()>);

impl Cancelled {
    pub async fn wait(&mut self) {
        while self.0.changed().await.is_ok() {}
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.has_changed().is_err()
    }
}

/// Runs `work` as a task; dropping the returned future cancels it through the
/// [`Cancelled`] it is given, which it checks only where giving up is safe.
pub async fn detached<T, F>(work: impl FnOnce(Cancelled) -> F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let (caller, cancelled) = watch::channel(());
    let task = tokio::spawn(work(Cancelled(cancelled)));
    let outcome = task.await;
    drop(caller);
    match outcome {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels the task.
        Err(_) => Err(ConcurrencyError::Server(ServerError::Stopped)),
    }
}

/// Withdraws a candidate with `txn` (a delete); a failure is only logged, since the
/// request already ends with its own error and the lease bounds the key's life anyway.
pub async fn withdraw(server: &EtcdServer, txn: TxnRequest, auth: &AuthInfo) {
    if let Err(e) = server.txn(txn, auth).await {
        tracing::warn!(error = %e, "cannot withdraw a lock or election candidate");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dropping_the_caller_cancels_the_work() {
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (seen_tx, seen_rx) = tokio::sync::oneshot::channel();
        let call = detached(|mut cancelled| async move {
            let _ = started_tx.send(cancelled.is_cancelled());
            cancelled.wait().await;
            let _ = seen_tx.send(cancelled.is_cancelled());
            Ok(())
        });
        // Poll the call once so the task starts; drop it once the task runs.
        let mut call = Box::pin(call);
        assert!(futures::poll!(&mut call).is_pending());
        assert!(
            !started_rx.await.unwrap(),
            "not cancelled while the caller waits"
        );
        drop(call);
        assert!(seen_rx.await.unwrap());

        let done = detached(|c| async move { Ok(c.is_cancelled()) })
            .await
            .unwrap();
        assert!(!done);
    }
}
