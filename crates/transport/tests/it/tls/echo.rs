//! TLS echo over TCP and unix sockets; plaintext and TLS clients on the wrong kind of
//! listener fail promptly.

use std::sync::Arc;
use std::time::Duration;

use etcd_transport::{ListenOptions, Listener, TlsInfo, TransportError, dial};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::pki::{Ca, Files};
use super::{dial_tls, https, next_handshake, serve, tls_listener};
use crate::{PATIENCE, round_trip, url};

fn client_trusting(files: &Files, ca: &Ca) -> TlsInfo {
    TlsInfo {
        trusted_ca_file: Some(files.ca("ca", ca)),
        ..TlsInfo::default()
    }
}

#[tokio::test]
async fn tls_echo_over_tcp_verifies_the_server() {
    let ca = Ca::new("test-ca");
    let files = Files::new();
    let server = files.identity(
        "server",
        &ca.leaf("etcd-server", &["127.0.0.1", "localhost"]),
    );
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    assert!(listener.is_tls());
    let addr = https(&listener);
    let mut handshakes = serve(listener);

    let mut client = dial_tls(&addr, &client_trusting(&files, &ca))
        .await
        .unwrap();
    assert!(client.is_tls());
    assert_eq!(client.peer_common_name().as_deref(), Some("etcd-server"));
    round_trip(&mut client, b"hello over tls").await;
    let seen = next_handshake(&mut handshakes).await.unwrap();
    assert_eq!(
        seen.common_name, None,
        "no client certificate was asked for"
    );

    // By name too: the certificate has a localhost DNS SAN.
    let port = url(&addr).port().unwrap();
    let mut by_name = dial_tls(
        &format!("https://localhost:{port}"),
        &client_trusting(&files, &ca),
    )
    .await
    .unwrap();
    round_trip(&mut by_name, b"by name").await;
}

#[tokio::test]
async fn tls_echo_over_unixs() {
    let ca = Ca::new("test-ca");
    let files = Files::new();
    let server = files.identity("server", &ca.leaf("etcd-server", &["localhost"]));
    let sock = files.dir.path().join("etcd.sock");
    let raw = format!("unixs://{}", sock.display());
    let listener = tls_listener(&raw, &server).await;
    let _handshakes = serve(listener);
    // A path-only unixs URL verifies the server as "localhost".
    let mut client = dial_tls(&raw, &client_trusting(&files, &ca)).await.unwrap();
    assert_eq!(client.peer_addr(), None);
    round_trip(&mut client, b"over a unix socket, encrypted").await;
}

#[tokio::test]
async fn server_from_an_untrusted_ca_is_refused_by_the_dialer() {
    let ca = Ca::new("test-ca");
    let other = Ca::new("other-ca");
    let files = Files::new();
    let server = files.identity("server", &ca.leaf("etcd-server", &["127.0.0.1"]));
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let addr = https(&listener);
    let _handshakes = serve(listener);
    let err = dial_tls(&addr, &client_trusting(&files, &other))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Handshake { .. }), "{err:?}");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");

    // The name must match as well.
    let err = dial_tls(
        &addr,
        &TlsInfo {
            server_name: Some("elsewhere.example".into()),
            ..client_trusting(&files, &ca)
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not valid for name"), "{err}");
}

#[tokio::test]
async fn plaintext_client_on_a_tls_listener_is_closed_promptly() {
    let ca = Ca::new("test-ca");
    let files = Files::new();
    let server = files.identity("server", &ca.leaf("etcd-server", &["127.0.0.1"]));
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let plain = url(&https(&listener).replace("https://", "http://"));
    let mut handshakes = serve(listener);

    let mut client = dial(&plain, PATIENCE, None, None, None).await.unwrap();
    client
        .write_all(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    // Ends (EOF after an alert, or a reset) instead of hanging.
    let _ = tokio::time::timeout(PATIENCE, client.read_to_end(&mut rest))
        .await
        .expect("the server closes a plaintext client at once");
    assert!(!rest.starts_with(b"HTTP/"), "no plaintext answer");
    let err = next_handshake(&mut handshakes).await.unwrap_err();
    assert!(!err.to_string().is_empty());
}

#[tokio::test]
async fn tls_client_on_a_plaintext_listener_fails_promptly() {
    let listener = Listener::bind(&url("http://127.0.0.1:0"), &ListenOptions::default())
        .await
        .unwrap();
    let addr = listener
        .bound_url()
        .to_string()
        .replace("http://", "https://");
    // A plaintext HTTP server: answers whatever it gets with a 400 and closes.
    tokio::spawn(async move {
        while let Ok(accepted) = listener.accept().await {
            tokio::spawn(async move {
                let mut conn = accepted.handshake().await.unwrap();
                let mut buf = [0u8; 1024];
                if conn.read(&mut buf).await.is_ok() {
                    let _ = conn.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n").await;
                }
            });
        }
    });
    let started = tokio::time::Instant::now();
    let err = dial_tls(&addr, &TlsInfo::default()).await.unwrap_err();
    assert!(matches!(err, TransportError::Handshake { .. }), "{err:?}");
    assert!(started.elapsed() < PATIENCE);
}

#[tokio::test]
async fn dial_handshake_is_bounded_by_the_connect_timeout() {
    // A listener that never answers: the handshake would wait forever.
    let listener = Listener::bind(&url("http://127.0.0.1:0"), &ListenOptions::default())
        .await
        .unwrap();
    let addr = listener
        .bound_url()
        .to_string()
        .replace("http://", "https://");
    let err = dial(
        &url(&addr),
        Duration::from_millis(200),
        None,
        None,
        Some(&TlsInfo::default()),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().ends_with("i/o timeout"),
        "handshake timed out: {err}"
    );
    drop(listener);
}

#[tokio::test]
async fn alpn_offers_h2_to_clients_that_ask() {
    let ca = Ca::new("test-ca");
    let files = Files::new();
    let server = files.identity("server", &ca.leaf("etcd-server", &["127.0.0.1"]));
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let port = listener.bound_url().port().unwrap();
    let accept = tokio::spawn(async move {
        let conn = listener.accept().await.unwrap().handshake().await.unwrap();
        conn.alpn_protocol().map(<[u8]>::to_vec)
    });
    // A raw rustls client offering h2, as gRPC clients do.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.pem().as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(accept.await.unwrap().as_deref(), Some(&b"h2"[..]));
}
