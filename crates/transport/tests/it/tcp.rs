//! TCP listeners: binding, accepting, port reuse, TLS set-up errors.

use etcd_transport::{ListenAddr, ListenOptions, Listener, TlsInfo, TransportError, dial};
use tokio::io::AsyncReadExt;

use crate::{PATIENCE, round_trip, spawn_echo, url};

async fn bind(raw: &str, opts: &ListenOptions) -> Result<Listener, TransportError> {
    Listener::bind(&url(raw), opts).await
}

fn port_of(listener: &Listener) -> u16 {
    match listener.local_addr() {
        ListenAddr::Tcp(addr) => addr.port(),
        other => panic!("expected a TCP address, got {other:?}"),
    }
}

#[tokio::test]
async fn bind_port_zero_then_accept_and_echo() {
    let listener = bind("http://127.0.0.1:0", &ListenOptions::default())
        .await
        .unwrap();
    let port = port_of(&listener);
    assert_ne!(port, 0);
    assert_eq!(listener.url().as_str(), "http://127.0.0.1:0/");
    let bound = listener.bound_url();
    assert_eq!(bound.as_str(), format!("http://127.0.0.1:{port}/"));

    let server = spawn_echo(listener);
    let mut client = dial(&bound, PATIENCE, None, None, None).await.unwrap();
    assert_eq!(client.peer_addr(), Some(([127, 0, 0, 1], port).into()));
    round_trip(&mut client, b"hello etcd").await;
    let client_addr = client.local_addr();
    drop(client);
    let server_conn = server.await.unwrap();
    assert_eq!(server_conn.peer_addr(), client_addr);
}

#[tokio::test]
async fn ipv6_loopback_echo() {
    let listener = bind("http://[::1]:0", &ListenOptions::default())
        .await
        .unwrap();
    let bound = listener.bound_url();
    assert_eq!(bound.host_str(), Some("[::1]"));
    let _server = spawn_echo(listener);
    let mut client = dial(&bound, PATIENCE, None, None, None).await.unwrap();
    round_trip(&mut client, b"v6").await;
}

#[tokio::test]
async fn localhost_binds_ipv4_loopback() {
    let listener = bind("http://localhost:0", &ListenOptions::default())
        .await
        .unwrap();
    let ListenAddr::Tcp(addr) = listener.local_addr() else {
        panic!("expected TCP");
    };
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_eq!(listener.bound_url().host_str(), Some("localhost"));
}

#[tokio::test]
async fn rebind_after_close_with_reuse_address() {
    let first = bind("http://127.0.0.1:0", &ListenOptions::default())
        .await
        .unwrap();
    let port = port_of(&first);
    let bound = first.bound_url();
    // Leave a connection closed by the server side in TIME_WAIT.
    let mut client = dial(&bound, PATIENCE, None, None, None).await.unwrap();
    let accepted = first.accept().await.unwrap();
    drop(accepted);
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).await.unwrap();
    drop(client);
    drop(first);

    let again = bind(
        &format!("http://127.0.0.1:{port}"),
        &ListenOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(port_of(&again), port);
}

#[tokio::test]
async fn second_bind_on_same_port_fails_with_a_clear_error() {
    let first = bind("http://127.0.0.1:0", &ListenOptions::default())
        .await
        .unwrap();
    let port = port_of(&first);
    let err = bind(
        &format!("http://127.0.0.1:{port}"),
        &ListenOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, TransportError::Bind { op: "bind", .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("listen tcp 127.0.0.1:{port}: bind: address already in use")
    );
}

#[tokio::test]
async fn reuse_port_on_both_listeners_shares_the_port() {
    let opts = ListenOptions {
        reuse_port: true,
        ..ListenOptions::default()
    };
    let first = bind("http://127.0.0.1:0", &opts).await.unwrap();
    let port = port_of(&first);
    let second = bind(&format!("http://127.0.0.1:{port}"), &opts)
        .await
        .unwrap();
    assert_eq!(port_of(&second), port);
}

#[tokio::test]
async fn secure_schemes_need_usable_tls_files() {
    let err = bind("https://127.0.0.1:0", &ListenOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::TlsRequired { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "cannot listen on TLS for https://127.0.0.1:0/: KeyFile and CertFile are not presented"
    );

    let tls = TlsInfo {
        cert_file: Some("server.pem".into()),
        key_file: Some("server-key.pem".into()),
        ..TlsInfo::default()
    };
    let opts = ListenOptions {
        tls: Some(tls),
        ..ListenOptions::default()
    };
    // The files are loaded at bind time: a missing one is named.
    let err = bind("https://127.0.0.1:0", &opts).await.unwrap_err();
    assert!(
        matches!(
            &err,
            TransportError::TlsFile {
                what: "certificate",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "certificate file server.pem: no such file or directory"
    );
    // etcd serves plaintext on http:// even when certificates are configured.
    bind("http://127.0.0.1:0", &opts).await.unwrap();
}

#[tokio::test]
async fn dropping_a_listener_refuses_new_connections() {
    let listener = bind("http://127.0.0.1:0", &ListenOptions::default())
        .await
        .unwrap();
    let bound = listener.bound_url();
    drop(listener);
    let err = dial(&bound, PATIENCE, None, None, None).await.unwrap_err();
    assert!(matches!(err, TransportError::Connect { .. }), "{err:?}");
}
