//! Certificate rotation: files replaced on disk are used from the next handshake on.

use std::fs;

use etcd_transport::TlsInfo;

use super::pki::{Ca, Files};
use super::{dial_tls, echoes, https, serve, tls_listener};

#[tokio::test]
async fn replaced_certificate_is_presented_on_the_next_handshake() {
    let ca = Ca::new("test-ca");
    let files = Files::new();
    let server = files.identity("server", &ca.leaf("server-a", &["127.0.0.1"]));
    let client = TlsInfo {
        trusted_ca_file: Some(files.ca("ca", &ca)),
        ..TlsInfo::default()
    };
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let addr = https(&listener);
    let _handshakes = serve(listener);

    let mut first = dial_tls(&addr, &client).await.unwrap();
    assert_eq!(first.peer_common_name().as_deref(), Some("server-a"));

    // Rotate as tools do: write new files aside, then rename them into place.
    let next = ca.leaf("server-b", &["127.0.0.1"]);
    let staged = Files::new();
    let staged_id = staged.identity("server", &next);
    let (Some(cert), Some(key)) = (&server.cert_file, &server.key_file) else {
        unreachable!("identity sets both files");
    };
    fs::rename(staged_id.key_file.unwrap(), key).unwrap();
    fs::rename(staged_id.cert_file.unwrap(), cert).unwrap();

    let mut second = dial_tls(&addr, &client).await.unwrap();
    assert_eq!(second.peer_common_name().as_deref(), Some("server-b"));
    assert!(echoes(&mut second).await);
    // The connection made before the rotation is unaffected.
    assert!(echoes(&mut first).await);
}

#[tokio::test]
async fn a_broken_rotation_keeps_the_previous_certificate() {
    let ca = Ca::new("test-ca");
    let files = Files::new();
    let server = files.identity("server", &ca.leaf("server-a", &["127.0.0.1"]));
    let client = TlsInfo {
        trusted_ca_file: Some(files.ca("ca", &ca)),
        ..TlsInfo::default()
    };
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let addr = https(&listener);
    let _handshakes = serve(listener);

    // Only the certificate is replaced: it no longer matches the key.
    let next = ca.leaf("server-b", &["127.0.0.1"]);
    fs::write(server.cert_file.as_ref().unwrap(), &next.cert_pem).unwrap();
    let mut conn = dial_tls(&addr, &client).await.unwrap();
    assert_eq!(conn.peer_common_name().as_deref(), Some("server-a"));
    assert!(echoes(&mut conn).await);

    // Once the key follows, the new pair is used.
    fs::write(server.key_file.as_ref().unwrap(), &next.key_pem).unwrap();
    let conn = dial_tls(&addr, &client).await.unwrap();
    assert_eq!(conn.peer_common_name().as_deref(), Some("server-b"));
}
