//! Per-connection read and write timeouts on accepted and dialed connections.

use std::io;
use std::time::{Duration, Instant};

use etcd_transport::{ListenOptions, Listener, dial};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{PATIENCE, url};

const TIMEOUT: Duration = Duration::from_millis(150);

async fn listener(opts: ListenOptions) -> Listener {
    Listener::bind(&url("http://127.0.0.1:0"), &opts)
        .await
        .unwrap()
}

#[tokio::test]
async fn read_timeout_fires_on_a_silent_peer() {
    let listener = listener(ListenOptions {
        read_timeout: Some(TIMEOUT),
        ..ListenOptions::default()
    })
    .await;
    let _client = dial(&listener.bound_url(), PATIENCE, None, None, None)
        .await
        .unwrap();
    let mut conn = listener.accept().await.unwrap().handshake().await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let err = tokio::time::timeout(PATIENCE, conn.read(&mut buf))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    assert!(started.elapsed() >= TIMEOUT);
}

#[tokio::test]
async fn read_timeout_is_per_read_not_per_connection() {
    let listener = listener(ListenOptions {
        read_timeout: Some(TIMEOUT),
        ..ListenOptions::default()
    })
    .await;
    let mut client = dial(&listener.bound_url(), PATIENCE, None, None, None)
        .await
        .unwrap();
    let mut conn = listener.accept().await.unwrap().handshake().await.unwrap();
    let writer = tokio::spawn(async move {
        // Paced writes: each gap is shorter than the timeout, the total is longer.
        for _ in 0..4 {
            tokio::time::sleep(TIMEOUT / 3).await;
            client.write_all(b"x").await.unwrap();
        }
        client
    });
    let mut buf = [0u8; 4];
    conn.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"xxxx");
    writer.await.unwrap();
}

#[tokio::test]
async fn write_timeout_fires_when_the_peer_does_not_read() {
    let listener = listener(ListenOptions {
        write_timeout: Some(TIMEOUT),
        ..ListenOptions::default()
    })
    .await;
    let _client = dial(&listener.bound_url(), PATIENCE, None, None, None)
        .await
        .unwrap();
    let mut conn = listener.accept().await.unwrap().handshake().await.unwrap();
    let chunk = vec![7u8; 256 * 1024];
    let outcome = tokio::time::timeout(PATIENCE, async {
        // Fill both socket buffers; bounded so a broken timeout cannot loop forever.
        for _ in 0..4096 {
            conn.write_all(&chunk).await?;
        }
        Ok::<_, io::Error>(())
    })
    .await
    .unwrap();
    let err = outcome.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
}

#[tokio::test]
async fn dialed_connections_apply_their_read_timeout() {
    let listener = listener(ListenOptions::default()).await;
    let mut client = dial(&listener.bound_url(), PATIENCE, Some(TIMEOUT), None, None)
        .await
        .unwrap();
    let _server_side = listener.accept().await.unwrap();
    let mut buf = [0u8; 1];
    let err = tokio::time::timeout(PATIENCE, client.read(&mut buf))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
}

#[tokio::test]
async fn writes_keep_a_pending_read_alive() {
    // A server streaming a response to a client that sends nothing meanwhile (a raft
    // stream): the server's pending read must outlive many read timeouts.
    let listener = listener(ListenOptions {
        read_timeout: Some(TIMEOUT),
        write_timeout: Some(TIMEOUT),
        ..ListenOptions::default()
    })
    .await;
    let mut client = dial(&listener.bound_url(), PATIENCE, None, None, None)
        .await
        .unwrap();
    let conn = listener.accept().await.unwrap().handshake().await.unwrap();
    let (mut reader, mut writer) = tokio::io::split(conn);
    let pending_read = tokio::spawn(async move {
        let mut buf = [0u8; 1];
        let started = Instant::now();
        let outcome = reader.read(&mut buf).await;
        (outcome, started.elapsed())
    });
    let heartbeats = 12;
    for _ in 0..heartbeats {
        tokio::time::sleep(TIMEOUT / 3).await;
        writer.write_all(b"h").await.unwrap();
    }
    let mut got = vec![0u8; heartbeats];
    client.read_exact(&mut got).await.unwrap();
    assert!(
        !pending_read.is_finished(),
        "the read was cut while the connection kept writing"
    );
    // Once the writes stop, the connection is idle and the read times out.
    let (outcome, waited) = tokio::time::timeout(PATIENCE, pending_read)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome.unwrap_err().kind(), io::ErrorKind::TimedOut);
    assert!(waited >= TIMEOUT * 4, "{waited:?}");
}
