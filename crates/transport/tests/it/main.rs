//! Integration tests of etcd-transport: real sockets on loopback and in temp dirs, TLS
//! against a PKI generated per test.

mod dial;
mod limits;
mod tcp;
mod timeouts;
mod tls;
mod unix;

use std::time::Duration;

use etcd_transport::{Conn, Listener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// Generous bound for things that should happen at once; only hit when a test fails.
pub const PATIENCE: Duration = Duration::from_secs(5);

pub fn url(raw: &str) -> Url {
    Url::parse(raw).unwrap()
}

/// Accepts one connection and echoes what it reads until EOF.
pub fn spawn_echo(listener: Listener) -> tokio::task::JoinHandle<Conn> {
    tokio::spawn(async move {
        let mut conn = listener.accept().await.unwrap().handshake().await.unwrap();
        let mut buf = [0u8; 1024];
        loop {
            let n = conn.read(&mut buf).await.unwrap();
            if n == 0 {
                return conn;
            }
            conn.write_all(&buf[..n]).await.unwrap();
        }
    })
}

/// Sends `msg` over `conn` and expects it back.
pub async fn round_trip(conn: &mut Conn, msg: &[u8]) {
    conn.write_all(msg).await.unwrap();
    let mut back = vec![0u8; msg.len()];
    tokio::time::timeout(PATIENCE, conn.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back, msg);
}
