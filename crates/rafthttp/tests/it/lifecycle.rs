//! Removing a peer ends its streams; a restarted peer on the same port is reconnected.

use raft::eraftpb::MessageType;

use crate::harness::{Node, msg, wait_stream, wait_until};

#[tokio::test]
async fn remove_peer_closes_its_streams_and_drops_its_messages() {
    let a = Node::start(0xa).await;
    let b = Node::start(0xb).await;
    a.connect(&b);
    let marker = wait_stream(&a, &b, 0).await;
    let mut marker = wait_stream(&b, &a, marker).await;

    a.transport.remove_peer(b.id);
    assert_eq!(a.transport.active_since(b.id), None);
    // `a`'s readers are gone, so `b` loses its streams to `a` and falls back to the
    // pipeline, which `a` still serves.
    let posts = a.pipeline_posts();
    wait_until("b to fall back to the pipeline", 10, || {
        marker += 1;
        b.transport
            .send(vec![msg(MessageType::MsgHeartbeat, b.id, a.id, marker)]);
        a.pipeline_posts() > posts
    })
    .await;
    // `a` no longer sends to `b`: the message is dropped, not even reported.
    let before = b.raft.received.lock().len();
    let unreachable = a.raft.unreachable_count(b.id);
    a.transport
        .send(vec![msg(MessageType::MsgHeartbeat, a.id, b.id, marker + 1)]);
    assert_eq!(a.raft.unreachable_count(b.id), unreachable);
    // A later message from `b` by pipeline arrives; `a`'s message never did.
    let last = marker + 2;
    wait_until("b's pipelined message", 5, || {
        b.transport
            .send(vec![msg(MessageType::MsgHeartbeat, b.id, a.id, last)]);
        a.raft.got_commit(last)
    })
    .await;
    assert!(!b.raft.got_commit(marker + 1));
    assert!(b.raft.received.lock().len() == before);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_peer_restarted_on_the_same_port_is_reconnected() {
    let a = Node::start(0xa).await;
    let b = Node::start(0xb).await;
    a.connect(&b);
    let marker = wait_stream(&a, &b, 0).await;
    let marker = wait_stream(&b, &a, marker).await;

    let addr = b.addr;
    b.shutdown().await;
    let b = Node::start_with(0xb, crate::harness::CLUSTER, addr).await;
    b.transport.add_peer(a.id, vec![a.url()]);
    let marker = wait_stream(&a, &b, marker).await;
    wait_stream(&b, &a, marker).await;
    assert!(a.transport.active_since(b.id).is_some());
    a.shutdown().await;
    b.shutdown().await;
}
