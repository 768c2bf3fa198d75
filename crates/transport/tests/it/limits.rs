//! `max_connections`: accept waits while the limit's worth of connections are open.

use std::time::Duration;

use etcd_transport::{ListenOptions, Listener, dial};

use crate::{PATIENCE, url};

#[tokio::test]
async fn max_connections_gates_accept_until_a_connection_closes() {
    let opts = ListenOptions {
        max_connections: Some(1),
        ..ListenOptions::default()
    };
    let listener = Listener::bind(&url("http://127.0.0.1:0"), &opts)
        .await
        .unwrap();
    let bound = listener.bound_url();
    let _c1 = dial(&bound, PATIENCE, None, None, None).await.unwrap();
    let _c2 = dial(&bound, PATIENCE, None, None, None).await.unwrap();

    let first = listener.accept().await.unwrap();
    // The second connection is queued in the kernel, but the slot is taken.
    let blocked = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(
        blocked.is_err(),
        "accept must wait while the limit is reached"
    );

    drop(first);
    let second = tokio::time::timeout(PATIENCE, listener.accept())
        .await
        .expect("accept resumes once a connection is closed")
        .unwrap();
    assert!(second.peer_addr().is_some());
}
