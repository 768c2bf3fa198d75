//! Unix socket listeners: bind, accept, stale files and cleanup.

use etcd_transport::{ListenAddr, ListenOptions, Listener, TransportError, dial};

use crate::{PATIENCE, round_trip, spawn_echo, url};

fn unix_url(path: &std::path::Path) -> url::Url {
    url(&format!("unix://{}", path.display()))
}

#[tokio::test]
async fn unix_bind_accept_echo_and_cleanup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("etcd.sock");
    let listener = Listener::bind(&unix_url(&path), &ListenOptions::default())
        .await
        .unwrap();
    assert_eq!(listener.local_addr(), &ListenAddr::Unix(path.clone()));
    assert_eq!(listener.bound_url(), *listener.url());
    assert!(path.exists());

    let bound = listener.bound_url();
    let server = spawn_echo(listener);
    let mut client = dial(&bound, PATIENCE, None, None, None).await.unwrap();
    assert_eq!(client.peer_addr(), None);
    round_trip(&mut client, b"over a unix socket").await;
    drop(client);
    let server_conn = server.await.unwrap();
    assert_eq!(server_conn.peer_addr(), None);
    // spawn_echo moved the listener into the task, which has ended: it is dropped.
    assert!(
        !path.exists(),
        "socket file should be removed with its listener"
    );
}

#[tokio::test]
async fn stale_socket_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let listener = Listener::bind(&unix_url(&path), &ListenOptions::default())
        .await
        .unwrap();
    let bound = listener.bound_url();
    let _server = spawn_echo(listener);
    let mut client = dial(&bound, PATIENCE, None, None, None).await.unwrap();
    round_trip(&mut client, b"fresh").await;
}

#[tokio::test]
async fn regular_file_at_socket_path_is_kept_and_bind_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-socket");
    std::fs::write(&path, b"data").unwrap();
    let err = Listener::bind(&unix_url(&path), &ListenOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            TransportError::Bind {
                network: "unix",
                op: "bind",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"data");
}
