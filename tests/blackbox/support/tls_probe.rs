//! A bare rustls client for TLS tests: one handshake with chosen protocol versions and
//! cipher suites, reporting what was negotiated and which certificate the server showed.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::ring::default_provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{
    ClientConfig, ClientConnection, ProtocolVersion, RootCertStore, SupportedCipherSuite,
    SupportedProtocolVersion,
};

pub use rustls::crypto::ring::cipher_suite;
pub use rustls::version::{TLS12, TLS13};

/// What a completed handshake negotiated.
#[derive(Debug)]
pub struct Handshake {
    pub version: ProtocolVersion,
    pub suite: SupportedCipherSuite,
    /// DER of the server's end-entity certificate.
    pub server_cert: Vec<u8>,
}

/// The first certificate of a PEM text, as DER.
pub fn der(cert_pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .expect("PEM certificate")
        .to_vec()
}

/// Handshakes with `127.0.0.1:port`, trusting `ca_pem`, offering only `versions` and
/// (when given) only `suites`. `Err` carries the reason the handshake failed.
pub fn handshake(
    port: u16,
    ca_pem: &str,
    versions: &[&'static SupportedProtocolVersion],
    suites: Option<&[SupportedCipherSuite]>,
) -> Result<Handshake, String> {
    let mut provider = default_provider();
    if let Some(suites) = suites {
        provider.cipher_suites = suites.to_vec();
    }
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("PEM CA"))
        .expect("CA certificate");
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .expect("versions and suites fit")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").expect("server name");
    let mut conn = ClientConnection::new(Arc::new(config), name).expect("client connection");
    let mut sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    let patience = Some(Duration::from_secs(10));
    sock.set_read_timeout(patience)
        .and_then(|()| sock.set_write_timeout(patience))
        .map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        match conn.complete_io(&mut sock) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err("handshake timed out".into());
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(Handshake {
        version: conn.protocol_version().ok_or("no protocol version")?,
        suite: conn.negotiated_cipher_suite().ok_or("no cipher suite")?,
        server_cert: conn
            .peer_certificates()
            .and_then(|chain| chain.first())
            .ok_or("no server certificate")?
            .to_vec(),
    })
}
