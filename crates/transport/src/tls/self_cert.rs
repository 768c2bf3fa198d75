//! Auto TLS (etcd's `SelfCert`): a self-signed ECDSA P-256 certificate for a member's
//! hosts, generated once into a directory and reused afterwards.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};

use super::info::TlsInfo;
use super::pem;
use crate::error::TransportError;

/// Makes (or reuses) `dir/cert.pem` and `dir/key.pem`: a self-signed certificate valid
/// for `validity_years` for `hosts` (`host`, `host:port` or `[v6]:port`; IPs become IP
/// SANs, names DNS SANs), usable as server and client certificate.
///
/// Existing files are reused when they parse and belong together, whatever hosts they
/// name (as etcd). The directory is created 0700 and both files are written 0600.
/// The returned [`TlsInfo`] presents the certificate on both sides and skips verifying
/// the other side's certificate, as etcd does for self-signed members.
pub fn self_signed(
    dir: &Path,
    hosts: &[String],
    validity_years: u32,
) -> Result<TlsInfo, TransportError> {
    let fail = |reason: String| TransportError::SelfCert {
        dir: dir.to_owned(),
        reason,
    };
    if validity_years == 0 {
        return Err(fail("validity must be at least one year".into()));
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|err| fail(format!("create directory: {err}")))?;
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    let info = TlsInfo {
        cert_file: Some(cert_path.clone()),
        key_file: Some(key_path.clone()),
        client_cert_file: Some(cert_path.clone()),
        client_key_file: Some(key_path.clone()),
        auto_tls: true,
        insecure_skip_verify: true,
        self_signed_cert_validity_years: validity_years,
        ..TlsInfo::default()
    };
    if cert_path.exists() && key_path.exists() {
        let provider = rustls::crypto::ring::default_provider();
        match pem::certified_key(&cert_path, &key_path, &provider) {
            Ok(_) => {
                tracing::info!(path = %cert_path.display(), "reusing self-signed certificate");
                return Ok(info);
            }
            Err(err) => {
                tracing::warn!(%err, "existing self-signed certificate unusable; regenerating")
            }
        }
    }

    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|err| fail(format!("generate key: {err}")))?;
    let params = params(hosts, validity_years).map_err(fail)?;
    let cert = params
        .self_signed(&key)
        .map_err(|err| fail(format!("sign certificate: {err}")))?;
    write_private(&key_path, key.serialize_pem().as_bytes()).map_err(fail)?;
    write_private(&cert_path, cert.pem().as_bytes()).map_err(fail)?;
    tracing::info!(path = %cert_path.display(), ?hosts, "created self-signed certificate");
    Ok(info)
}

fn params(hosts: &[String], validity_years: u32) -> Result<CertificateParams, String> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "etcd");
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now;
    params.not_after = now + time::Duration::days(365 * i64::from(validity_years));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    for host in hosts {
        let host = host_part(host);
        if host.is_empty() {
            continue;
        }
        let san = match host.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(
                host.try_into()
                    .map_err(|err| format!("host {host:?}: {err}"))?,
            ),
        };
        if !params.subject_alt_names.contains(&san) {
            params.subject_alt_names.push(san);
        }
    }
    Ok(params)
}

/// The host of `host:port`, `[v6]:port`, `[v6]`, a bare host or a bare IPv6 address.
fn host_part(entry: &str) -> &str {
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => entry,
    }
}

/// Writes `bytes` to `path` with mode 0600, via a temporary file renamed into place.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut tmp = PathBuf::from(path);
    tmp.set_extension("pem.tmp");
    let _ = fs::remove_file(&tmp);
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|err| format!("write {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_part_strips_ports_and_brackets() {
        assert_eq!(host_part("127.0.0.1:2380"), "127.0.0.1");
        assert_eq!(host_part("localhost:2380"), "localhost");
        assert_eq!(host_part("[::1]:2380"), "::1");
        assert_eq!(host_part("[::1]"), "::1");
        assert_eq!(host_part("::1"), "::1");
        assert_eq!(host_part("etcd.example"), "etcd.example");
    }

    #[test]
    fn zero_years_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = self_signed(dir.path(), &[], 0).unwrap_err();
        assert!(matches!(err, TransportError::SelfCert { .. }), "{err:?}");
    }
}
