//! Protocol policy: minimum/maximum TLS version and TLS 1.2 cipher suites.

use etcd_transport::{ListenOptions, Listener, TlsInfo, TlsVersion, TransportError};

use super::pki::{Ca, Files};
use super::{accepted_by, dial_tls, echoes, https, next_handshake, serve, tls_listener};
use crate::url;

/// Server settings (ECDSA certificate for 127.0.0.1) and a client trusting its CA.
fn pair() -> (Files, TlsInfo, TlsInfo) {
    let ca = Ca::new("test-ca");
    let files = Files::new();
    let server = files.identity("server", &ca.leaf("etcd-server", &["127.0.0.1"]));
    let client = TlsInfo {
        trusted_ca_file: Some(files.ca("ca", &ca)),
        ..TlsInfo::default()
    };
    (files, server, client)
}

fn tls12_client(client: &TlsInfo, suites: &[&str]) -> TlsInfo {
    TlsInfo {
        max_version: Some(TlsVersion::Tls12),
        cipher_suites: suites.iter().map(|s| s.to_string()).collect(),
        ..client.clone()
    }
}

#[tokio::test]
async fn min_version_tls13_refuses_a_tls12_only_client() {
    let (_files, server, client) = pair();
    let server = TlsInfo {
        min_version: Some(TlsVersion::Tls13),
        ..server
    };
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let addr = https(&listener);
    let mut handshakes = serve(listener);

    let err = dial_tls(&addr, &tls12_client(&client, &[]))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Handshake { .. }), "{err:?}");
    let err = next_handshake(&mut handshakes).await.unwrap_err();
    assert!(err.to_string().contains("Tls12NotOffered"), "{err}");

    let mut modern = dial_tls(&addr, &client).await.unwrap();
    assert_eq!(modern.tls_version(), Some(TlsVersion::Tls13));
    assert!(echoes(&mut modern).await);
    let seen = next_handshake(&mut handshakes).await.unwrap();
    assert_eq!(seen.version, Some(TlsVersion::Tls13));
}

#[tokio::test]
async fn max_version_tls12_is_negotiated_down() {
    let (_files, server, client) = pair();
    let server = TlsInfo {
        max_version: Some(TlsVersion::Tls12),
        ..server
    };
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let addr = https(&listener);
    let _handshakes = serve(listener);
    let mut conn = dial_tls(&addr, &client).await.unwrap();
    assert_eq!(conn.tls_version(), Some(TlsVersion::Tls12));
    assert!(echoes(&mut conn).await);
}

#[tokio::test]
async fn cipher_suites_restrict_what_a_tls12_client_can_negotiate() {
    let (_files, server, client) = pair();
    let server = TlsInfo {
        cipher_suites: vec!["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384".into()],
        ..server
    };
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let addr = https(&listener);
    let mut handshakes = serve(listener);

    let only_128 = tls12_client(&client, &["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]);
    assert!(!accepted_by(&addr, &only_128).await);
    assert!(next_handshake(&mut handshakes).await.is_err());

    // A client offering every suite gets the one the server allows.
    let mut conn = dial_tls(&addr, &tls12_client(&client, &[])).await.unwrap();
    assert_eq!(
        conn.cipher_suite(),
        Some("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
    );
    assert!(echoes(&mut conn).await);
    let seen = next_handshake(&mut handshakes).await.unwrap();
    assert_eq!(seen.suite, Some("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"));

    // TLS 1.3 is not restricted by the list.
    let modern = dial_tls(&addr, &client).await.unwrap();
    assert_eq!(modern.tls_version(), Some(TlsVersion::Tls13));
}

#[tokio::test]
async fn bad_policy_is_a_bind_error_naming_it() {
    let (_files, server, _client) = pair();
    let bind = |tls: TlsInfo| async move {
        Listener::bind(
            &url("https://127.0.0.1:0"),
            &ListenOptions {
                tls: Some(tls),
                ..ListenOptions::default()
            },
        )
        .await
    };
    let err = bind(TlsInfo {
        cipher_suites: vec![
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
            "TLS_NO_SUCH_SUITE".into(),
        ],
        ..server.clone()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(&err, TransportError::UnsupportedCipherSuite { name } if name == "TLS_NO_SUCH_SUITE"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "unexpected TLS cipher suite \"TLS_NO_SUCH_SUITE\""
    );

    let err = bind(TlsInfo {
        min_version: Some(TlsVersion::Tls13),
        max_version: Some(TlsVersion::Tls12),
        ..server
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, TransportError::TlsVersionRange { .. }),
        "{err:?}"
    );
}
