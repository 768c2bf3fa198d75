//! Snapshot transfer: the database lands at `snapshot_db_path` before raft gets the
//! message, and the sender learns the outcome.

use std::io::Cursor;

use etcd_rafthttp::snapshot_db_path;
use raft::SnapshotStatus;
use raft::eraftpb::{Message, MessageType};
use std::sync::atomic::Ordering;

use crate::harness::{Node, msg, wait_until};

fn snapshot_msg(from: u64, to: u64, index: u64) -> Message {
    let mut m = msg(MessageType::MsgSnapshot, from, to, 0);
    let meta = m.mut_snapshot().mut_metadata();
    meta.index = index;
    meta.term = 3;
    m
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn a_few_megabytes_arrive_intact_and_the_sender_gets_finish() {
    let a = Node::start(0xa).await;
    let b = Node::start(0xb).await;
    a.connect(&b);
    let db = data(4 * 1024 * 1024 + 17);
    a.transport.send_snapshot(
        snapshot_msg(a.id, b.id, 42),
        Box::new(Cursor::new(db.clone())),
        db.len() as u64,
    );
    wait_until("the snapshot outcome", 20, || {
        !a.raft.snapshots.lock().is_empty()
    })
    .await;
    assert_eq!(
        *a.raft.snapshots.lock(),
        vec![(b.id, SnapshotStatus::Finish)]
    );

    let got = std::fs::read(snapshot_db_path(b.dir.path(), 42)).unwrap();
    assert!(got == db, "database bytes differ");
    // Raft got the message after the file was complete.
    assert_eq!(
        *b.raft.snapshot_file_sizes.lock(),
        vec![Some(db.len() as u64)]
    );
    let snaps: Vec<_> = b
        .raft
        .received
        .lock()
        .iter()
        .filter(|m| m.get_msg_type() == MessageType::MsgSnapshot)
        .map(|m| m.get_snapshot().get_metadata().index)
        .collect();
    assert_eq!(snaps, vec![42]);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_refusing_receiver_or_short_data_report_failure() {
    let a = Node::start(0xa).await;
    let b = Node::start(0xb).await;
    a.connect(&b);
    b.raft.refuse_snapshots.store(true, Ordering::SeqCst);
    let db = data(100_000);
    a.transport.send_snapshot(
        snapshot_msg(a.id, b.id, 5),
        Box::new(Cursor::new(db.clone())),
        db.len() as u64,
    );
    wait_until("the refused snapshot's outcome", 10, || {
        !a.raft.snapshots.lock().is_empty()
    })
    .await;
    assert_eq!(
        *a.raft.snapshots.lock(),
        vec![(b.id, SnapshotStatus::Failure)]
    );

    // The source holds fewer bytes than announced: the receiver keeps nothing.
    b.raft.refuse_snapshots.store(false, Ordering::SeqCst);
    a.transport.send_snapshot(
        snapshot_msg(a.id, b.id, 6),
        Box::new(Cursor::new(db.clone())),
        db.len() as u64 + 1000,
    );
    wait_until("the short snapshot's outcome", 10, || {
        a.raft.snapshots.lock().len() == 2
    })
    .await;
    assert_eq!(a.raft.snapshots.lock()[1], (b.id, SnapshotStatus::Failure));
    assert!(!snapshot_db_path(b.dir.path(), 6).exists());
    assert!(b.raft.snapshot_file_sizes.lock().is_empty());

    // A MsgSnapshot given to `send` is refused at once.
    a.transport.send(vec![snapshot_msg(a.id, b.id, 7)]);
    assert_eq!(a.raft.snapshots.lock()[2], (b.id, SnapshotStatus::Failure));
    // And so is a snapshot to an unknown member.
    a.transport.send_snapshot(
        snapshot_msg(a.id, 0xdead, 8),
        Box::new(Cursor::new(Vec::new())),
        0,
    );
    assert_eq!(
        a.raft.snapshots.lock()[3],
        (0xdead, SnapshotStatus::Failure)
    );
    a.shutdown().await;
    b.shutdown().await;
}
