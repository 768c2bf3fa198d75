//! A client that never finishes its handshake holds up nobody, and is cut off after the
//! listener's handshake timeout.

use std::time::Duration;

use etcd_transport::{ListenOptions, Listener, TlsInfo};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::pki::{Ca, Files};
use super::{dial_tls, echoes, next_handshake, serve};
use crate::{PATIENCE, url};

#[tokio::test]
async fn a_stalled_handshake_does_not_block_other_clients() {
    let ca = Ca::new("test-ca");
    let files = Files::new();
    let server = files.identity("server", &ca.leaf("etcd-server", &["127.0.0.1"]));
    let listener = Listener::bind(
        &url("https://127.0.0.1:0"),
        &ListenOptions {
            tls: Some(server),
            handshake_timeout: Some(Duration::from_millis(300)),
            ..ListenOptions::default()
        },
    )
    .await
    .unwrap();
    let addr = listener.bound_url().to_string();
    let port = listener.bound_url().port().unwrap();
    let mut handshakes = serve(listener);

    // Connects, then says nothing.
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).await.unwrap();

    let client = TlsInfo {
        trusted_ca_file: Some(files.ca("ca", &ca)),
        ..TlsInfo::default()
    };
    let mut conn = tokio::time::timeout(PATIENCE, dial_tls(&addr, &client))
        .await
        .expect("a second client is served while the first stalls")
        .unwrap();
    assert!(echoes(&mut conn).await);
    assert!(next_handshake(&mut handshakes).await.is_ok());

    // The stalled client is closed once the handshake timeout passes.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stalled.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the stalled connection is closed");
    let err = next_handshake(&mut handshakes).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
}
