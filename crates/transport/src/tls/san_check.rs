//! etcd's `checkSAN` on peer listeners: a client certificate that names addresses (IP
//! or DNS SANs) must name the address the client connects from.

use std::io;
use std::net::IpAddr;

use super::peer_cert::PeerCertificate;

fn refused(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, message)
}

/// Passes when the certificate has no SANs, an IP SAN equals `remote`, or a DNS SAN
/// matches `remote` by reverse lookup (wildcards by suffix) or forward lookup.
pub(crate) async fn check_client_san(cert: &PeerCertificate, remote: IpAddr) -> io::Result<()> {
    if cert.ip_addresses.is_empty() && cert.dns_names.is_empty() {
        return Ok(());
    }
    let remote = remote.to_canonical();
    if !cert.ip_addresses.is_empty() {
        if cert
            .ip_addresses
            .iter()
            .any(|ip| ip.to_canonical() == remote)
        {
            return Ok(());
        }
        if cert.dns_names.is_empty() {
            let valid: Vec<String> = cert.ip_addresses.iter().map(IpAddr::to_string).collect();
            return Err(refused(format!(
                "x509: certificate is valid for {}, not {remote}",
                valid.join(", ")
            )));
        }
    }
    if host_in_dns(remote, &cert.dns_names).await {
        return Ok(());
    }
    Err(refused(format!(
        "tls: {:?} does not match any of DNSNames {:?}",
        remote.to_string(),
        cert.dns_names
    )))
}

async fn host_in_dns(remote: IpAddr, dns_names: &[String]) -> bool {
    let (wildcards, names): (Vec<&String>, Vec<&String>) =
        dns_names.iter().partition(|n| n.starts_with("*."));
    let reverse = tokio::task::spawn_blocking(move || dns_lookup::lookup_addr(&remote))
        .await
        .ok()
        .and_then(Result::ok);
    if let Some(name) = reverse {
        let name = name.strip_suffix('.').unwrap_or(&name);
        let by_wildcard = wildcards.iter().any(|wc| name.ends_with(&wc[1..]));
        if by_wildcard || names.iter().any(|n| n.as_str() == name) {
            return true;
        }
    }
    for name in names {
        let Ok(addrs) = tokio::net::lookup_host((name.as_str(), 0)).await else {
            continue;
        };
        if addrs.into_iter().any(|a| a.ip().to_canonical() == remote) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(dns: &[&str], ips: &[IpAddr]) -> PeerCertificate {
        PeerCertificate {
            common_name: None,
            dns_names: dns.iter().map(|s| s.to_string()).collect(),
            ip_addresses: ips.to_vec(),
        }
    }

    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn no_sans_passes() {
        check_client_san(&cert(&[], &[]), LOOPBACK).await.unwrap();
    }

    #[tokio::test]
    async fn ip_sans_must_contain_the_remote_address() {
        check_client_san(&cert(&[], &[LOOPBACK]), LOOPBACK)
            .await
            .unwrap();
        // A v4-mapped v6 peer (dual-stack listener) is the same address.
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        check_client_san(&cert(&[], &[LOOPBACK]), mapped)
            .await
            .unwrap();
        let other: IpAddr = "10.9.9.9".parse().unwrap();
        let err = check_client_san(&cert(&[], &[other]), LOOPBACK)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(
            err.to_string(),
            "x509: certificate is valid for 10.9.9.9, not 127.0.0.1"
        );
    }

    #[tokio::test]
    async fn dns_sans_resolve_forward() {
        check_client_san(&cert(&["localhost"], &[]), LOOPBACK)
            .await
            .unwrap();
        let err = check_client_san(&cert(&["no-such-host.invalid"], &[]), LOOPBACK)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("tls: \"127.0.0.1\" does not match any of DNSNames"),
            "{err}"
        );
    }
}
