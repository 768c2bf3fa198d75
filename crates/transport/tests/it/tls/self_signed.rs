//! Auto TLS: self-signed certificates made once, reused, and usable between members.

use std::fs;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;

use etcd_transport::self_signed;
use x509_parser::extensions::GeneralName;

use super::{dial_tls, echoes, https, serve, tls_listener};

fn sans(pem: &[u8]) -> (Vec<String>, Vec<IpAddr>) {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem).unwrap();
    let cert = block.parse_x509().unwrap();
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    let san = cert.subject_alternative_name().unwrap().unwrap();
    for name in &san.value.general_names {
        match name {
            GeneralName::DNSName(d) => dns.push(d.to_string()),
            GeneralName::IPAddress(b) if b.len() == 4 => {
                ips.push(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap()))
            }
            GeneralName::IPAddress(b) => ips.push(IpAddr::from(<[u8; 16]>::try_from(*b).unwrap())),
            _ => {}
        }
    }
    (dns, ips)
}

#[tokio::test]
async fn creates_then_reuses_a_certificate_for_the_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures").join("peer");
    let hosts = vec![
        "127.0.0.1:2380".to_string(),
        "localhost:2380".to_string(),
        "[::1]:2380".to_string(),
    ];
    let info = self_signed(&fixtures, &hosts, 1).unwrap();
    assert!(info.auto_tls && info.insecure_skip_verify);
    let cert_path = info.cert_file.clone().unwrap();
    let key_path = info.key_file.clone().unwrap();
    assert_eq!(cert_path, fixtures.join("cert.pem"));
    assert_eq!(key_path, fixtures.join("key.pem"));
    for path in [&cert_path, &key_path] {
        let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    let cert_pem = fs::read(&cert_path).unwrap();
    let (dns, ips) = sans(&cert_pem);
    assert_eq!(dns, ["localhost"]);
    assert_eq!(
        ips,
        [
            "127.0.0.1".parse::<IpAddr>().unwrap(),
            "::1".parse().unwrap()
        ]
    );

    let again = self_signed(&fixtures, &["10.0.0.1:2380".to_string()], 1).unwrap();
    assert_eq!(again, info);
    assert_eq!(
        fs::read(&cert_path).unwrap(),
        cert_pem,
        "reused, not regenerated"
    );

    // A member serving the self-signed certificate, dialed by another that trusts no CA.
    let listener = tls_listener("https://127.0.0.1:0", &info).await;
    let addr = https(&listener);
    let _handshakes = serve(listener);
    let mut conn = dial_tls(&addr, &info).await.unwrap();
    assert!(echoes(&mut conn).await);
    assert_eq!(
        conn.peer_certificate(),
        None,
        "an unverified certificate identifies nobody"
    );
}

#[tokio::test]
async fn unusable_files_are_regenerated() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("cert.pem"), "garbage").unwrap();
    fs::write(dir.path().join("key.pem"), "garbage").unwrap();
    let info = self_signed(dir.path(), &["localhost".to_string()], 2).unwrap();
    let (dns, _) = sans(&fs::read(info.cert_file.unwrap()).unwrap());
    assert_eq!(dns, ["localhost"]);
}
