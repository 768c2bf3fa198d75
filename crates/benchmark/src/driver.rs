//! The request loop shared by the request/response workloads: each client is a tokio
//! task issuing requests back to back until the run's total is handed out.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use tonic::Status;

use crate::failure::describe;
use crate::{Error, Recorder};

/// One client of a request/response workload.
pub(crate) trait Worker: Send + 'static {
    /// Issues request number `index` (unique in the run, below its total) and waits for
    /// the answer.
    fn call(&mut self, index: u64) -> impl Future<Output = Result<(), Status>> + Send;
}

/// The merged results of all clients and the wall time from start to the last answer.
#[derive(Debug)]
pub(crate) struct Driven {
    pub recorder: Recorder,
    pub elapsed: Duration,
}

/// Runs `total` requests spread over `workers`; each request index is issued exactly
/// once. Failures are counted, never fatal.
pub(crate) async fn drive<W: Worker>(
    workers: Vec<W>,
    total: u64,
    progress: &ProgressBar,
) -> Result<Driven, Error> {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|mut worker| {
            let next = Arc::clone(&next);
            let progress = progress.clone();
            tokio::spawn(async move {
                let mut recorder = Recorder::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= total {
                        break;
                    }
                    let sent = Instant::now();
                    match worker.call(index).await {
                        Ok(()) => recorder.record(sent.elapsed()),
                        Err(status) => recorder.record_error(describe(&status)),
                    }
                    progress.inc(1);
                }
                recorder
            })
        })
        .collect();
    let mut recorder = Recorder::new();
    for task in tasks {
        recorder.merge(&task.await?)?;
    }
    Ok(Driven {
        recorder,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;

    use super::*;

    struct Fake {
        seen: Arc<Mutex<Vec<u64>>>,
    }

    impl Worker for Fake {
        async fn call(&mut self, index: u64) -> Result<(), Status> {
            self.seen
                .lock()
                .map_err(|_| Status::internal("poisoned"))?
                .push(index);
            tokio::task::yield_now().await;
            if index.is_multiple_of(10) {
                Err(Status::unavailable("down"))
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn every_index_runs_once_and_failures_are_counted() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let workers = (0..7)
            .map(|_| Fake {
                seen: Arc::clone(&seen),
            })
            .collect();
        let driven = drive(workers, 100, &ProgressBar::hidden()).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 100);
        assert_eq!(seen.iter().copied().collect::<HashSet<_>>().len(), 100);
        assert!(seen.iter().all(|&i| i < 100));
        assert_eq!(driven.recorder.count(), 90);
        assert_eq!(driven.recorder.error_count(), 10);
        assert_eq!(
            driven
                .recorder
                .errors()
                .get("rpc error: code = Unavailable desc = down"),
            Some(&10)
        );
    }

    #[tokio::test]
    async fn zero_total_issues_nothing() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let workers = vec![Fake {
            seen: Arc::clone(&seen),
        }];
        let driven = drive(workers, 0, &ProgressBar::hidden()).await.unwrap();
        assert!(seen.lock().unwrap().is_empty());
        assert_eq!(driven.recorder.count(), 0);
    }
}
