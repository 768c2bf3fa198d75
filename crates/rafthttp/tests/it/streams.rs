//! Messages go by pipeline until the peer's reader connects, then by stream, both ways
//! and in order.

use bytes::Bytes;
use raft::eraftpb::{Entry, Message, MessageType};

use crate::harness::{Node, msg, wait_stream, wait_until};

#[tokio::test]
async fn pipeline_first_then_streams_both_ways_in_order() {
    let a = Node::start(0xa).await;
    let b = Node::start(0xb).await;
    // Only `a` knows `b`: `b` pulls no stream from `a`, so `a` must use the pipeline.
    a.transport.add_peer(b.id, vec![b.url()]);
    a.transport
        .send(vec![msg(MessageType::MsgHeartbeat, a.id, b.id, 1)]);
    wait_until("the pipelined message", 5, || b.raft.got_commit(1)).await;
    assert!(
        b.pipeline_posts() >= 1,
        "delivered without a pipeline request"
    );
    assert!(a.transport.active_since(b.id).is_some());

    // Once `b` knows `a`, its readers connect and both directions switch to streams.
    b.transport.add_peer(a.id, vec![a.url()]);
    let marker = wait_stream(&a, &b, 100).await;
    let marker = wait_stream(&b, &a, marker).await;
    assert!(a.requests.count("GET", "/raft/stream/msgapp/b") >= 1);
    assert!(a.requests.count("GET", "/raft/stream/message/b") >= 1);
    assert!(b.requests.count("GET", "/raft/stream/message/a") >= 1);

    // Interleave appends (msgapp stream) and heartbeats (message stream).
    let posts_at_b = b.pipeline_posts();
    let posts_at_a = a.pipeline_posts();
    let base = marker + 1000;
    let mut batch = Vec::new();
    for i in 0..200 {
        let ty = if i % 2 == 0 {
            MessageType::MsgAppend
        } else {
            MessageType::MsgHeartbeat
        };
        batch.push(msg(ty, a.id, b.id, base + i));
    }
    a.transport.send(batch);
    for i in 0..50 {
        b.transport.send(vec![msg(
            MessageType::MsgAppendResponse,
            b.id,
            a.id,
            base + i,
        )]);
    }
    wait_until("all 200 messages at b", 10, || {
        b.raft.got_commit(base + 199)
            && b.raft
                .received_commits(MessageType::MsgAppend)
                .iter()
                .filter(|&&c| c >= base)
                .count()
                == 100
    })
    .await;
    wait_until("all 50 responses at a", 10, || {
        a.raft
            .received_commits(MessageType::MsgAppendResponse)
            .len()
            == 50
    })
    .await;

    let appends: Vec<u64> = b
        .raft
        .received_commits(MessageType::MsgAppend)
        .into_iter()
        .filter(|&c| c >= base)
        .collect();
    let beats: Vec<u64> = b
        .raft
        .received_commits(MessageType::MsgHeartbeat)
        .into_iter()
        .filter(|&c| c >= base)
        .collect();
    assert_eq!(
        appends,
        (0..200).step_by(2).map(|i| base + i).collect::<Vec<_>>()
    );
    assert_eq!(
        beats,
        (1..200).step_by(2).map(|i| base + i).collect::<Vec<_>>()
    );
    assert_eq!(
        a.raft.received_commits(MessageType::MsgAppendResponse),
        (0..50).map(|i| base + i).collect::<Vec<_>>()
    );
    // Nothing of this went by pipeline.
    assert_eq!(b.pipeline_posts(), posts_at_b);
    assert_eq!(a.pipeline_posts(), posts_at_a);
    assert!(b.transport.active_since(a.id).is_some());

    a.transport.send(vec![big_append(a.id, b.id, base + 500)]);
    wait_until("the big streamed message", 10, || {
        b.raft.got_commit(base + 500)
    })
    .await;
    assert_eq!(b.raft.received.lock().last().map(entry_bytes), Some(BIG));
    assert_eq!(b.pipeline_posts(), posts_at_b);

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn probing_answers_health_json() {
    let a = Node::start(0xa).await;
    let (status, body) =
        crate::harness::raw_request(a.addr, "GET", "/raft/probing", &[], bytes::Bytes::new()).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"Health\":true"), "{body}");
    a.shutdown().await;
}

const BIG: usize = 3 * 1024 * 1024;

fn big_append(from: u64, to: u64, commit: u64) -> Message {
    let mut m = msg(MessageType::MsgAppend, from, to, commit);
    m.entries.push(Entry {
        index: 1,
        data: Bytes::from(vec![9u8; BIG]),
        ..Default::default()
    });
    m
}

fn entry_bytes(m: &Message) -> usize {
    m.entries.iter().map(|e| e.data.len()).sum()
}
