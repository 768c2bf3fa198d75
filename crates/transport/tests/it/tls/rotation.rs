//! Certificate rotation: files replaced on disk are used from the next handshake on, by
//! listeners (server certificates) and by dialers (client certificates).

use std::fs;

use etcd_transport::TlsInfo;

use super::pki::{Ca, Files, Leaf};
use super::{dial_tls, echoes, https, next_handshake, serve, tls_listener};

/// Replaces the certificate and key files of `id` with `leaf` as rotation tools do:
/// new files written aside, then renamed into place (key first).
fn rotate(id: &TlsInfo, leaf: &Leaf) {
    let staged = Files::new();
    let staged_id = staged.identity("next", leaf);
    let (Some(cert), Some(key)) = (&id.cert_file, &id.key_file) else {
        unreachable!("identity sets both files");
    };
    fs::rename(staged_id.key_file.unwrap(), key).unwrap();
    fs::rename(staged_id.cert_file.unwrap(), cert).unwrap();
}

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

    rotate(&server, &ca.leaf("server-b", &["127.0.0.1"]));

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

#[tokio::test]
async fn a_dialer_presents_its_rotated_client_certificate_on_the_next_dial() {
    let ca = Ca::new("test-ca");
    let files = Files::new();
    let ca_file = files.ca("ca", &ca);
    let server = TlsInfo {
        trusted_ca_file: Some(ca_file.clone()),
        client_cert_auth: true,
        ..files.identity("server", &ca.leaf("etcd-server", &["127.0.0.1"]))
    };
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let addr = https(&listener);
    let mut handshakes = serve(listener);

    // A dialer presents `client_cert_file` when set (--peer-client-cert-file), else
    // its `cert_file` (--peer-cert-file): both are re-read on each dial.
    for (name, dedicated) in [("client", true), ("peer", false)] {
        let id = files.identity(name, &ca.leaf(&format!("{name}-a"), &[]));
        let client = if dedicated {
            TlsInfo {
                trusted_ca_file: Some(ca_file.clone()),
                client_cert_file: id.cert_file.clone(),
                client_key_file: id.key_file.clone(),
                ..TlsInfo::default()
            }
        } else {
            TlsInfo {
                trusted_ca_file: Some(ca_file.clone()),
                ..id.clone()
            }
        };
        let mut first = dial_tls(&addr, &client).await.unwrap();
        assert!(echoes(&mut first).await);
        let seen = next_handshake(&mut handshakes).await.unwrap();
        assert_eq!(seen.common_name, Some(format!("{name}-a")));

        rotate(&id, &ca.leaf(&format!("{name}-b"), &[]));

        let mut second = dial_tls(&addr, &client).await.unwrap();
        assert!(echoes(&mut second).await);
        let seen = next_handshake(&mut handshakes).await.unwrap();
        assert_eq!(
            seen.common_name,
            Some(format!("{name}-b")),
            "the dial after the rotation presents the new certificate"
        );
        // The connection made before the rotation is unaffected.
        assert!(echoes(&mut first).await);
    }
}
