//! Linearizable reads. Reads queue up; one raft ReadIndex round serves every read queued
//! when it started. When the read index is known, each read waits until the local applied
//! index reaches it, then is served from the local store.

use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::Duration;

use parking_lot::Mutex;
use raft::ReadState;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::{Instant, timeout};

use crate::error::{Result, ServerError};
use crate::metrics as m;
use crate::node_state::NodeState;
use crate::raft_loop::RaftMsg;

/// How long to wait for a read index before asking again (raft may drop a request, e.g.
/// while a new leader has not committed an entry of its term yet).
const RETRY_AFTER: Duration = Duration::from_millis(500);

type ReadWaiter = oneshot::Sender<Result<()>>;

#[derive(Default)]
pub struct ReadQueue {
    pending: Mutex<Vec<ReadWaiter>>,
    notify: Notify,
}

impl ReadQueue {
    /// Waits until a read started now may be served locally.
    pub async fn wait_linearizable(&self, deadline: Duration) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.pending.lock().push(tx);
        self.notify.notify_one();
        match timeout(deadline, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(ServerError::Stopped),
            Err(_) => Err(ServerError::Timeout),
        }
    }
}

pub struct ReadLoop {
    pub queue: Arc<ReadQueue>,
    pub read_rx: mpsc::UnboundedReceiver<ReadState>,
    pub raft_tx: Sender<RaftMsg>,
    pub state: Arc<NodeState>,
    pub request_timeout: Duration,
}

impl ReadLoop {
    pub async fn run(mut self) {
        let mut next_ctx: u64 = 0;
        loop {
            tokio::select! {
                _ = self.queue.notify.notified() => {}
                _ = self.state.wait_stopped() => break,
            }
            let batch: Vec<ReadWaiter> = std::mem::take(&mut *self.queue.pending.lock());
            if batch.is_empty() {
                continue;
            }
            next_ctx += 1;
            let result = self.read_index(next_ctx).await;
            let result = match result {
                Ok(index) => self.wait_applied(index).await,
                Err(e) => Err(e),
            };
            if result.is_err() {
                metrics::counter!(m::READ_INDEXES_FAILED).increment(1);
            }
            for w in batch {
                let _ = w.send(match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(clone_err(e)),
                });
            }
        }
        for w in std::mem::take(&mut *self.queue.pending.lock()) {
            let _ = w.send(Err(ServerError::Stopped));
        }
    }

    /// One ReadIndex round: the index a read must see applied before it is served. As in
    /// etcd's requestCurrentIndex, a leader change while waiting ends the round with
    /// `leader changed` (the old leader's answer can no longer be trusted to come).
    async fn read_index(&mut self, ctx: u64) -> Result<u64> {
        let ctx = ctx.to_be_bytes().to_vec();
        let deadline = Instant::now() + self.request_timeout;
        let leader = self.state.leader();
        loop {
            if self.state.is_stopped() {
                return Err(ServerError::Stopped);
            }
            self.raft_tx
                .send(RaftMsg::ReadIndex { ctx: ctx.clone() })
                .map_err(|_| ServerError::Stopped)?;
            let retry_at = (Instant::now() + RETRY_AFTER).min(deadline);
            loop {
                let answer = tokio::select! {
                    a = tokio::time::timeout_at(retry_at, self.read_rx.recv()) => a,
                    _ = self.state.wait_leader_change(leader), if leader != 0 => {
                        return Err(ServerError::LeaderChanged);
                    }
                };
                match answer {
                    Ok(Some(rs)) if rs.request_ctx == ctx => return Ok(rs.index),
                    Ok(Some(_)) => continue, // an answer to an earlier, abandoned round
                    Ok(None) => return Err(ServerError::Stopped),
                    Err(_) => break,
                }
            }
            metrics::counter!(m::SLOW_READ_INDEXES).increment(1);
            if Instant::now() >= deadline {
                return Err(ServerError::Timeout);
            }
        }
    }

    async fn wait_applied(&self, index: u64) -> Result<()> {
        match timeout(self.request_timeout, self.state.wait_applied(index)).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ServerError::Stopped),
            Err(_) => Err(ServerError::TimeoutWaitAppliedIndex),
        }
    }
}

fn clone_err(e: &ServerError) -> ServerError {
    match e {
        ServerError::TimeoutWaitAppliedIndex => ServerError::TimeoutWaitAppliedIndex,
        ServerError::Stopped => ServerError::Stopped,
        ServerError::LeaderChanged => ServerError::LeaderChanged,
        _ => ServerError::Timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stands in for the raft loop: answers each ReadIndex request after `delay`, at
    /// index 1, and counts the rounds.
    fn fake_raft(
        delay: Duration,
        read_tx: mpsc::UnboundedSender<ReadState>,
    ) -> (Sender<RaftMsg>, Arc<std::sync::atomic::AtomicUsize>) {
        let (tx, rx) = std::sync::mpsc::channel::<RaftMsg>();
        let rounds = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = rounds.clone();
        std::thread::spawn(move || {
            while let Ok(msg) = rx.recv() {
                if let RaftMsg::ReadIndex { ctx } = msg {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(delay);
                    let _ = read_tx.send(ReadState {
                        index: 1,
                        request_ctx: ctx,
                    });
                }
            }
        });
        (tx, rounds)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_queued_during_a_round_share_the_next_one() {
        let (read_tx, read_rx) = mpsc::unbounded_channel();
        let (raft_tx, rounds) = fake_raft(Duration::from_millis(200), read_tx);
        let state = Arc::new(NodeState::new(1, 1, 1, 1));
        state.set_leader(1);
        let queue = Arc::new(ReadQueue::default());
        tokio::spawn(
            ReadLoop {
                queue: queue.clone(),
                read_rx,
                raft_tx,
                state: state.clone(),
                request_timeout: Duration::from_secs(5),
            }
            .run(),
        );
        // One read starts a round; 50 more arrive while it is in flight.
        let first = {
            let q = queue.clone();
            tokio::spawn(async move { q.wait_linearizable(Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let rest: Vec<_> = (0..50)
            .map(|_| {
                let q = queue.clone();
                tokio::spawn(async move { q.wait_linearizable(Duration::from_secs(5)).await })
            })
            .collect();
        first.await.unwrap().expect("first read");
        for r in rest {
            r.await.unwrap().expect("queued read");
        }
        assert_eq!(
            rounds.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "51 reads: one round for the first, one for all queued behind it"
        );
        state.stop();
    }
}
