//! What a verified peer certificate says about its owner: the common name the auth
//! layer maps to a user, and the SANs the address checks use.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use x509_parser::extensions::GeneralName;

/// The identity in a peer's end-entity certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerCertificate {
    /// The subject's common name; with several, the last one (as Go's `pkix.Name`).
    pub common_name: Option<String>,
    /// DNS SANs, as written (wildcards included).
    pub dns_names: Vec<String>,
    /// IP address SANs.
    pub ip_addresses: Vec<IpAddr>,
}

impl PeerCertificate {
    /// Parses a DER certificate; `None` when it is not a parsable X.509 certificate
    /// (rustls verified it already, so that does not happen for verified peers).
    pub(crate) fn parse(der: &[u8]) -> Option<PeerCertificate> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let common_name = cert
            .subject()
            .iter_common_name()
            .filter_map(|attr| attr.as_str().ok())
            .last()
            .map(str::to_owned);
        let mut out = PeerCertificate {
            common_name,
            ..PeerCertificate::default()
        };
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(dns) => out.dns_names.push((*dns).to_owned()),
                    GeneralName::IPAddress(bytes) => {
                        if let Some(ip) = ip_from_bytes(bytes) {
                            out.ip_addresses.push(ip);
                        }
                    }
                    _ => {}
                }
            }
        }
        Some(out)
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    let v6 = <[u8; 16]>::try_from(bytes).ok()?;
    Some(IpAddr::V6(Ipv6Addr::from(v6)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_common_name_and_sans() {
        let mut params =
            rcgen::CertificateParams::new(vec!["etcd-1.example".into(), "10.0.0.7".into()])
                .unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "root");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let parsed = PeerCertificate::parse(cert.der()).unwrap();
        assert_eq!(parsed.common_name.as_deref(), Some("root"));
        assert_eq!(parsed.dns_names, ["etcd-1.example"]);
        assert_eq!(parsed.ip_addresses, [IpAddr::from([10, 0, 0, 7])]);
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(PeerCertificate::parse(b"\x30\x03abc"), None);
    }
}
