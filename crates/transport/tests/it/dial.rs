//! The dialing side: errors that name their address, schemes, name lookup.

use etcd_transport::{ListenOptions, Listener, TransportError, dial};

use crate::{PATIENCE, round_trip, spawn_echo, url};

#[tokio::test]
async fn refused_connection_names_the_address() {
    let listener = Listener::bind(&url("http://127.0.0.1:0"), &ListenOptions::default())
        .await
        .unwrap();
    let bound = listener.bound_url();
    let port = bound.port().unwrap();
    drop(listener);
    let err = dial(&bound, PATIENCE, None, None, None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("dial tcp 127.0.0.1:{port}: connect: connection refused")
    );
}

#[tokio::test]
async fn missing_unix_socket_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.sock");
    let err = dial(
        &url(&format!("unix://{}", path.display())),
        PATIENCE,
        None,
        None,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            &err,
            TransportError::Connect {
                network: "unix",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("absent.sock"), "{err}");
}

#[tokio::test]
async fn dial_resolves_localhost() {
    let listener = Listener::bind(&url("http://127.0.0.1:0"), &ListenOptions::default())
        .await
        .unwrap();
    let port = listener.bound_url().port().unwrap();
    let _server = spawn_echo(listener);
    let mut client = dial(
        &url(&format!("http://localhost:{port}")),
        PATIENCE,
        None,
        None,
        None,
    )
    .await
    .unwrap();
    round_trip(&mut client, b"by name").await;
}

#[tokio::test]
async fn secure_scheme_connects_before_the_handshake_and_foreign_schemes_are_refused() {
    // Nothing listens on port 1: the TCP connect fails before any TLS happens.
    let err = dial(&url("https://127.0.0.1:1"), PATIENCE, None, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Connect { .. }), "{err:?}");
    let err = dial(&url("ftp://127.0.0.1:1"), PATIENCE, None, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::InvalidUrl { .. }), "{err:?}");
}
