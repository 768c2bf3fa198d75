//! Client certificate authentication: trust, CRLs, allowed CN/hostname, the client's
//! common name on the connection, and the SAN check of peer listeners.

use etcd_transport::TlsInfo;

use super::pki::{Ca, Files, Leaf};
use super::{accepted_by, dial_tls, echoes, https, next_handshake, serve, tls_listener};

/// A CA, a server certificate for 127.0.0.1 and the files directory.
struct Setup {
    ca: Ca,
    files: Files,
    server: TlsInfo,
    client_base: TlsInfo,
}

fn setup() -> Setup {
    let ca = Ca::new("test-ca");
    let files = Files::new();
    let ca_file = files.ca("ca", &ca);
    let server = TlsInfo {
        trusted_ca_file: Some(ca_file.clone()),
        client_cert_auth: true,
        ..files.identity("server", &ca.leaf("etcd-server", &["127.0.0.1"]))
    };
    let client_base = TlsInfo {
        trusted_ca_file: Some(ca_file),
        ..TlsInfo::default()
    };
    Setup {
        ca,
        files,
        server,
        client_base,
    }
}

impl Setup {
    /// Client settings presenting `leaf` (stored under `name`).
    fn client(&self, name: &str, leaf: &Leaf) -> TlsInfo {
        let id = self.files.identity(name, leaf);
        TlsInfo {
            client_cert_file: id.cert_file,
            client_key_file: id.key_file,
            ..self.client_base.clone()
        }
    }
}

#[tokio::test]
async fn trusted_client_is_served_and_its_common_name_is_reported() {
    let s = setup();
    let listener = tls_listener("https://127.0.0.1:0", &s.server).await;
    let addr = https(&listener);
    let mut handshakes = serve(listener);
    let alice = s.client("alice", &s.ca.leaf("alice", &[]));
    let mut conn = dial_tls(&addr, &alice).await.unwrap();
    assert!(echoes(&mut conn).await);
    let seen = next_handshake(&mut handshakes).await.unwrap();
    assert_eq!(seen.common_name.as_deref(), Some("alice"));
}

#[tokio::test]
async fn clients_without_a_trusted_certificate_are_refused() {
    let s = setup();
    let listener = tls_listener("https://127.0.0.1:0", &s.server).await;
    let addr = https(&listener);
    let mut handshakes = serve(listener);

    assert!(!accepted_by(&addr, &s.client_base).await, "no certificate");
    let err = next_handshake(&mut handshakes).await.unwrap_err();
    assert!(
        err.to_string().contains("peer sent no certificates"),
        "{err}"
    );

    let stranger = Ca::new("other-ca");
    let mallory = s.client("mallory", &stranger.leaf("mallory", &[]));
    assert!(!accepted_by(&addr, &mallory).await, "foreign CA");
    let err = next_handshake(&mut handshakes).await.unwrap_err();
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
}

#[tokio::test]
async fn a_trusted_ca_alone_requires_client_certificates_as_etcd() {
    let s = setup();
    let server = TlsInfo {
        client_cert_auth: false,
        ..s.server.clone()
    };
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let addr = https(&listener);
    let _handshakes = serve(listener);
    assert!(!accepted_by(&addr, &s.client_base).await);
    let bob = s.client("bob", &s.ca.leaf("bob", &[]));
    assert!(accepted_by(&addr, &bob).await);
}

#[tokio::test]
async fn revoked_client_certificates_are_refused() {
    let s = setup();
    let revoked = s.ca.leaf("revoked", &[]);
    let good = s.ca.leaf("good", &[]);
    let crl = s.files.write("crl.pem", &s.ca.crl(&[&revoked]));
    let server = TlsInfo {
        crl_file: Some(crl),
        ..s.server.clone()
    };
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let addr = https(&listener);
    let mut handshakes = serve(listener);

    assert!(!accepted_by(&addr, &s.client("revoked", &revoked)).await);
    let err = next_handshake(&mut handshakes).await.unwrap_err();
    assert!(err.to_string().contains("Revoked"), "{err}");
    assert!(accepted_by(&addr, &s.client("good", &good)).await);
}

#[tokio::test]
async fn allowed_cn_admits_only_listed_common_names() {
    let s = setup();
    let server = TlsInfo {
        allowed_cn: vec!["member-1".into(), "member-2".into()],
        ..s.server.clone()
    };
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let addr = https(&listener);
    let mut handshakes = serve(listener);

    assert!(accepted_by(&addr, &s.client("m2", &s.ca.leaf("member-2", &[]))).await);
    assert!(next_handshake(&mut handshakes).await.is_ok());
    assert!(!accepted_by(&addr, &s.client("m9", &s.ca.leaf("member-9", &[]))).await);
    let err = next_handshake(&mut handshakes).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("client certificate authentication failed"),
        "{err}"
    );
}

#[tokio::test]
async fn allowed_hostname_matches_the_client_certificate_sans() {
    let s = setup();
    let server = TlsInfo {
        allowed_hostname: vec!["member-1.etcd.local".into()],
        // These certificates name hosts other than the test's loopback address.
        skip_client_san_verification: true,
        ..s.server.clone()
    };
    let listener = tls_listener("https://127.0.0.1:0", &server).await;
    let addr = https(&listener);
    let _handshakes = serve(listener);

    let wildcard = s.ca.leaf("whatever", &["*.etcd.local"]);
    assert!(accepted_by(&addr, &s.client("wild", &wildcard)).await);
    let exact = s.ca.leaf("whatever", &["member-1.etcd.local"]);
    assert!(accepted_by(&addr, &s.client("exact", &exact)).await);
    let other = s.ca.leaf("member-1.etcd.local", &["member-2.etcd.local"]);
    assert!(
        !accepted_by(&addr, &s.client("other", &other)).await,
        "the CN does not count as a hostname"
    );
}

#[tokio::test]
async fn allowed_cn_and_allowed_hostname_together_fail_bind_and_dial() {
    let s = setup();
    let both = |info: &TlsInfo| TlsInfo {
        allowed_cn: vec!["member-1".into()],
        allowed_hostname: vec!["member-1.etcd.local".into()],
        ..info.clone()
    };
    let expected = r#"AllowedCN and AllowedHostname are mutually exclusive (cn="member-1", hostname="member-1.etcd.local")"#;
    let err = etcd_transport::Listener::bind(
        &crate::url("https://127.0.0.1:0"),
        &etcd_transport::ListenOptions {
            tls: Some(both(&s.server)),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            etcd_transport::TransportError::AllowedNamesExclusive { .. }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), expected);
    // A dialer applies the same policy to the server's certificate, so it refuses too,
    // before connecting.
    let err = dial_tls("https://127.0.0.1:1", &both(&s.client_base))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), expected);
}

#[tokio::test]
async fn peer_listeners_check_client_sans_against_the_client_address() {
    let s = setup();
    let listener = tls_listener("https://127.0.0.1:0", &s.server).await;
    let addr = https(&listener);
    let mut handshakes = serve(listener);

    let here = s.ca.leaf("peer-here", &["127.0.0.1"]);
    assert!(accepted_by(&addr, &s.client("here", &here)).await);
    assert!(next_handshake(&mut handshakes).await.is_ok());

    let elsewhere = s.ca.leaf("peer-elsewhere", &["10.9.9.9"]);
    assert!(!accepted_by(&addr, &s.client("elsewhere", &elsewhere)).await);
    let err = next_handshake(&mut handshakes).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "x509: certificate is valid for 10.9.9.9, not 127.0.0.1"
    );

    // Client listeners skip the check, as etcd's do.
    let client_side = TlsInfo {
        skip_client_san_verification: true,
        ..s.server.clone()
    };
    let listener = tls_listener("https://127.0.0.1:0", &client_side).await;
    let addr = https(&listener);
    let _handshakes = serve(listener);
    assert!(accepted_by(&addr, &s.client("elsewhere", &elsewhere)).await);
}

#[tokio::test]
async fn client_auth_without_a_ca_is_a_start_up_error() {
    let s = setup();
    let server = TlsInfo {
        trusted_ca_file: None,
        ..s.server.clone()
    };
    let err = etcd_transport::Listener::bind(
        &crate::url("https://127.0.0.1:0"),
        &etcd_transport::ListenOptions {
            tls: Some(server),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "client certificate authentication needs a trusted CA file"
    );
}
