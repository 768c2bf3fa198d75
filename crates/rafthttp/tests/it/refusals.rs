//! Requests from another cluster get 412, from a removed member 410, and the sender
//! reacts: unreachable for the former, a fatal RemovedFromCluster for the latter.

use std::time::Duration;

use bytes::Bytes;
use etcd_rafthttp::TransportFatal;
use raft::eraftpb::MessageType;

use crate::harness::{CLUSTER, Node, encoded, msg, peer_headers, raw_request, wait_until};

#[tokio::test]
async fn cluster_id_mismatch_is_refused_with_412_and_nothing_is_delivered() {
    let a = Node::start_with(0xa, 0x1, "127.0.0.1:0".parse().unwrap()).await;
    let b = Node::start_with(0xb, 0x2, "127.0.0.1:0".parse().unwrap()).await;
    a.connect(&b);
    a.transport
        .send(vec![msg(MessageType::MsgHeartbeat, a.id, b.id, 7)]);
    wait_until("the refused send's report", 5, || {
        a.raft.unreachable_count(b.id) >= 1
    })
    .await;
    assert!(b.raft.received.lock().is_empty());
    assert!(a.raft.received.lock().is_empty());

    let m = msg(MessageType::MsgHeartbeat, a.id, b.id, 8);
    let (status, body) = raw_request(
        b.addr,
        "POST",
        "/raft",
        &peer_headers(0x1, a.id, b.id),
        encoded(&m),
    )
    .await;
    assert_eq!((status, body.as_str()), (412, "cluster ID mismatch\n"));
    let (status, _) = raw_request(
        b.addr,
        "GET",
        "/raft/stream/message/a",
        &peer_headers(0x1, a.id, b.id),
        Bytes::new(),
    )
    .await;
    assert_eq!(status, 412);
    assert!(b.raft.received.lock().is_empty());
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn removed_sender_gets_410_and_reports_removed_from_cluster() {
    let a = Node::start(0xa).await;
    let b = Node::start(0xb).await;
    b.raft.removed.lock().insert(a.id);
    let mut fatal = a.transport.take_fatal_errors();
    a.connect(&b);
    a.transport
        .send(vec![msg(MessageType::MsgHeartbeat, a.id, b.id, 1)]);
    let got = tokio::time::timeout(Duration::from_secs(5), fatal.recv()).await;
    assert_eq!(
        got.ok().flatten(),
        Some(TransportFatal::RemovedFromCluster { by: b.id })
    );
    assert!(b.raft.received.lock().is_empty());

    let m = msg(MessageType::MsgHeartbeat, a.id, b.id, 2);
    let (status, _) = raw_request(
        b.addr,
        "POST",
        "/raft",
        &peer_headers(CLUSTER, a.id, b.id),
        encoded(&m),
    )
    .await;
    assert_eq!(status, 410);
    let (status, _) = raw_request(
        b.addr,
        "GET",
        "/raft/stream/msgapp/a",
        &peer_headers(CLUSTER, a.id, b.id),
        Bytes::new(),
    )
    .await;
    assert_eq!(status, 410);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn streams_need_a_known_sender_addressed_to_us() {
    let b = Node::start(0xb).await;
    b.transport.add_peer(0xa, vec!["http://127.0.0.1:9".into()]);
    // Unknown sender.
    let (status, body) = raw_request(
        b.addr,
        "GET",
        "/raft/stream/message/c",
        &peer_headers(CLUSTER, 0xc, 0xb),
        Bytes::new(),
    )
    .await;
    assert_eq!((status, body.as_str()), (404, "error sender not found\n"));
    // Meant for another member.
    let (status, body) = raw_request(
        b.addr,
        "GET",
        "/raft/stream/message/a",
        &peer_headers(CLUSTER, 0xa, 0xd),
        Bytes::new(),
    )
    .await;
    assert_eq!((status, body.as_str()), (412, "to field mismatch\n"));
    // Incompatible version.
    let mut h = peer_headers(CLUSTER, 0xa, 0xb);
    h[2].1 = "2.3.0".into();
    let m = msg(MessageType::MsgHeartbeat, 0xa, 0xb, 1);
    let (status, body) = raw_request(b.addr, "POST", "/raft", &h, encoded(&m)).await;
    assert_eq!((status, body.as_str()), (412, "incompatible version\n"));
    // A good request is accepted and delivered.
    let (status, _) = raw_request(
        b.addr,
        "POST",
        "/raft",
        &peer_headers(CLUSTER, 0xa, 0xb),
        encoded(&m),
    )
    .await;
    assert_eq!(status, 204);
    assert!(b.raft.got_commit(1));
    // Garbage is a bad request.
    let (status, _) = raw_request(
        b.addr,
        "POST",
        "/raft",
        &peer_headers(CLUSTER, 0xa, 0xb),
        Bytes::from_static(&[0xff, 0xff, 0xff]),
    )
    .await;
    assert_eq!(status, 400);
    b.shutdown().await;
}
