//! TLS listeners and dialers against a test PKI.

mod echo;
mod mtls;
mod pki;
mod policy;
mod rotation;
mod self_signed;
mod slow;

use std::io;

use etcd_transport::{Conn, ListenOptions, Listener, TlsInfo, TlsVersion, TransportError, dial};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::{PATIENCE, url};

/// What the server side saw of one connection's handshake.
#[derive(Debug)]
pub struct Handshaken {
    pub common_name: Option<String>,
    pub version: Option<TlsVersion>,
    pub suite: Option<&'static str>,
}

pub async fn tls_listener(raw: &str, tls: &TlsInfo) -> Listener {
    Listener::bind(
        &url(raw),
        &ListenOptions {
            tls: Some(tls.clone()),
            ..ListenOptions::default()
        },
    )
    .await
    .unwrap()
}

/// Serves `listener` as a real server does: accept, then handshake and echo in a task
/// per connection. Each handshake's outcome is reported on the returned channel.
pub fn serve(listener: Listener) -> mpsc::UnboundedReceiver<io::Result<Handshaken>> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(accepted) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                match accepted.handshake().await {
                    Ok(mut conn) => {
                        let _ = tx.send(Ok(Handshaken {
                            common_name: conn.peer_common_name(),
                            version: conn.tls_version(),
                            suite: conn.cipher_suite(),
                        }));
                        echo(&mut conn).await;
                    }
                    Err(err) => {
                        let _ = tx.send(Err(err));
                    }
                }
            });
        }
    });
    rx
}

async fn echo(conn: &mut Conn) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = conn.read(&mut buf).await {
        if n == 0 || conn.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// The server's view of the next handshake.
pub async fn next_handshake(
    rx: &mut mpsc::UnboundedReceiver<io::Result<Handshaken>>,
) -> io::Result<Handshaken> {
    tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .expect("the server finishes the handshake promptly")
        .expect("the server is running")
}

pub async fn dial_tls(raw: &str, tls: &TlsInfo) -> Result<Conn, TransportError> {
    dial(&url(raw), PATIENCE, None, None, Some(tls)).await
}

/// Whether the connection echoes: false when the server refused it (with TLS 1.3 a
/// client learns that its certificate was refused only on its first read).
pub async fn echoes(conn: &mut Conn) -> bool {
    if conn.write_all(b"ping").await.is_err() {
        return false;
    }
    let mut back = [0u8; 4];
    match tokio::time::timeout(PATIENCE, conn.read_exact(&mut back)).await {
        Ok(Ok(_)) => &back == b"ping",
        Ok(Err(_)) => false,
        Err(_) => panic!("a refused connection must be closed, not left hanging"),
    }
}

/// Dials and reports whether an echo round trip works.
pub async fn accepted_by(raw: &str, tls: &TlsInfo) -> bool {
    match dial_tls(raw, tls).await {
        Ok(mut conn) => echoes(&mut conn).await,
        Err(TransportError::Handshake { .. }) => false,
        Err(other) => panic!("unexpected dial error: {other}"),
    }
}

/// `https://` URL of a bound listener.
pub fn https(listener: &Listener) -> String {
    listener.bound_url().to_string()
}
