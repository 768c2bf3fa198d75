//! Blackhole: nothing passes while it is set; traffic resumes once it is cleared.

use raft::eraftpb::MessageType;

use crate::harness::{Node, msg, wait_stream, wait_until};

#[tokio::test]
async fn nothing_passes_while_blackholed_and_traffic_resumes_after() {
    let a = Node::start(0xa).await;
    let b = Node::start(0xb).await;
    a.connect(&b);
    let marker = wait_stream(&a, &b, 0).await;
    let marker = wait_stream(&b, &a, marker).await;
    let seen_by_a = a.raft.received.lock().len();
    let seen_by_b = b.raft.received.lock().len();

    a.transport.set_blackhole(true);
    // `b` keeps sending to `a` until a failure shows its traffic is being refused
    // (the stream torn down, then pipeline requests answered 503).
    let unreachable = b.raft.unreachable_count(a.id);
    let mut m = marker;
    wait_until("b to notice a is blackholed", 10, || {
        m += 1;
        b.transport
            .send(vec![msg(MessageType::MsgHeartbeat, b.id, a.id, m)]);
        a.transport
            .send(vec![msg(MessageType::MsgHeartbeat, a.id, b.id, m)]);
        b.raft.unreachable_count(a.id) > unreachable
    })
    .await;
    assert_eq!(
        a.raft.received.lock().len(),
        seen_by_a,
        "a received while blackholed"
    );
    assert_eq!(
        b.raft.received.lock().len(),
        seen_by_b,
        "b received from a blackholed a"
    );
    let (status, _) =
        crate::harness::raw_request(a.addr, "GET", "/raft/probing", &[], bytes::Bytes::new()).await;
    assert_eq!(status, 503);

    a.transport.set_blackhole(false);
    let after = m + 1000;
    wait_until("traffic from a to b again", 10, || {
        a.transport
            .send(vec![msg(MessageType::MsgHeartbeat, a.id, b.id, after)]);
        b.raft.got_commit(after)
    })
    .await;
    wait_until("traffic from b to a again", 10, || {
        b.transport
            .send(vec![msg(MessageType::MsgHeartbeat, b.id, a.id, after)]);
        a.raft.got_commit(after)
    })
    .await;
    // Messages `a` was asked to send while blackholed were dropped, never delivered late.
    assert!(
        !b.raft
            .received
            .lock()
            .iter()
            .any(|x| x.commit > marker && x.commit <= m)
    );
    // Streams come back too.
    let marker = wait_stream(&a, &b, after + 1).await;
    wait_stream(&b, &a, marker).await;
    a.shutdown().await;
    b.shutdown().await;
}
