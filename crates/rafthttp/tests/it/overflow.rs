//! A peer that is down: `send` returns at once and a full queue reports unreachable.

use raft::eraftpb::MessageType;

use crate::harness::{Node, msg, wait_until};

#[tokio::test]
async fn send_to_a_dead_peer_never_blocks_and_overflow_reports_unreachable() {
    let a = Node::start(0xa).await;
    // A port with nothing listening.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    a.transport.add_peer(0xb, vec![format!("http://{dead}")]);

    let batch: Vec<_> = (0..2000)
        .map(|i| msg(MessageType::MsgHeartbeat, a.id, 0xb, i))
        .collect();
    a.transport.send(batch);
    // Everything beyond the pipeline queue (64) and the requests in flight (4) was
    // dropped synchronously, each with an unreachable report.
    let reported = a.raft.unreachable_count(0xb);
    assert!(
        reported >= 2000 - 64 - 4,
        "only {reported} unreachable reports"
    );
    // Failed pipeline requests report unreachable too.
    wait_until("a failed request's report", 5, || {
        a.raft.unreachable_count(0xb) > reported
    })
    .await;
    assert_eq!(a.transport.active_since(0xb), None);
    // Messages to unknown members are dropped quietly.
    a.transport
        .send(vec![msg(MessageType::MsgHeartbeat, a.id, 0xdead, 1)]);
    assert_eq!(a.raft.unreachable_count(0xdead), 0);
    a.shutdown().await;
}
