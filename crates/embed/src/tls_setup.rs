//! The TLS a member serves and dials with, built from its configuration as etcd's
//! configurePeerListeners / configureClientListeners build it: the shared cipher suites,
//! TLS versions and certificate validity, auto-TLS certificates under
//! `<data-dir>/fixtures`, and the checks that make bad TLS settings fail start-up before
//! anything listens.

use std::fmt;
use std::path::{Path, PathBuf};

use etcd_transport::{TlsInfo, TlsVersion, TransportError, self_signed};
use url::{Position, Url};

use crate::config::{Config, url_string};
use crate::error::EmbedError;

/// Which of a member's two TLS configurations a setting belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsSide {
    /// `--cert-file`, `--auto-tls`, ...: client (and metrics) listeners.
    Client,
    /// `--peer-cert-file`, `--peer-auto-tls`, ...: peer listeners and peer dialing.
    Peer,
}

impl TlsSide {
    fn as_str(self) -> &'static str {
        match self {
            TlsSide::Client => "client",
            TlsSide::Peer => "peer",
        }
    }

    /// The flag that sets `file` on this side.
    fn flag(self, file: TlsFileRole) -> &'static str {
        use TlsFileRole::*;
        match (self, file) {
            (TlsSide::Client, Cert) => "cert-file",
            (TlsSide::Client, Key) => "key-file",
            (TlsSide::Client, TrustedCa) => "trusted-ca-file",
            (TlsSide::Client, Crl) => "client-crl-file",
            (TlsSide::Client, ClientCert) => "client-cert-file",
            (TlsSide::Client, ClientKey) => "client-key-file",
            (TlsSide::Peer, Cert) => "peer-cert-file",
            (TlsSide::Peer, Key) => "peer-key-file",
            (TlsSide::Peer, TrustedCa) => "peer-trusted-ca-file",
            (TlsSide::Peer, Crl) => "peer-crl-file",
            (TlsSide::Peer, ClientCert) => "peer-client-cert-file",
            (TlsSide::Peer, ClientKey) => "peer-client-key-file",
        }
    }
}

impl fmt::Display for TlsSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a TLS file is for; with a [`TlsSide`] it names the flag that set it.
#[derive(Clone, Copy)]
enum TlsFileRole {
    Cert,
    Key,
    TrustedCa,
    Crl,
    ClientCert,
    ClientKey,
}

/// The effective TLS of both sides of a member.
///
/// Invariant: every setting that needs no file has been checked, and every file a
/// side will use (it has a secure listener, or it is the peer side and dials with TLS)
/// could be opened when this was built.
#[derive(Clone, Debug)]
pub(crate) struct MemberTls {
    pub(crate) client: TlsInfo,
    pub(crate) peer: TlsInfo,
}

impl MemberTls {
    /// Builds both sides, generating (or reusing) auto-TLS certificates; peers first,
    /// as etcd configures them first.
    pub(crate) fn build(cfg: &Config) -> Result<MemberTls, EmbedError> {
        let peer = side_tls(cfg, TlsSide::Peer)?;
        let client = side_tls(cfg, TlsSide::Client)?;
        Ok(MemberTls { client, peer })
    }

    /// What the peer transport and the peer client dial with: `None` when no peer
    /// certificate is configured (peers talk plain http; an `https` peer would then be
    /// verified against the system roots, as by any dialer without TLS settings).
    pub(crate) fn peer_dialing(&self) -> Option<TlsInfo> {
        Some(self.peer.clone()).filter(|t| !t.is_empty())
    }
}

/// etcd's `TLSInfo.String()`, for the "starting with ... TLS" log lines.
pub(crate) fn describe(info: &TlsInfo) -> String {
    let show = |p: &Option<PathBuf>| p.as_deref().map(Path::display).map(|d| d.to_string());
    format!(
        "cert = {}, key = {}, client-cert={}, client-key={}, trusted-ca = {}, client-cert-auth = {}, crl-file = {}",
        show(&info.cert_file).unwrap_or_default(),
        show(&info.key_file).unwrap_or_default(),
        show(&info.client_cert_file).unwrap_or_default(),
        show(&info.client_key_file).unwrap_or_default(),
        show(&info.trusted_ca_file).unwrap_or_default(),
        info.client_cert_auth,
        show(&info.crl_file).unwrap_or_default(),
    )
}

fn is_secure(u: &Url) -> bool {
    matches!(u.scheme(), "https" | "unixs")
}

/// The URLs a side listens on, and the hosts (`host:port`, as Go's `url.Host`) its
/// auto-TLS certificate is made for.
fn side_urls(cfg: &Config, side: TlsSide) -> (Vec<&Url>, Vec<String>) {
    let (listen, hosts_from): (Vec<&Url>, Vec<&Url>) = match side {
        TlsSide::Peer => (
            cfg.listen_peer_urls.iter().collect(),
            cfg.listen_peer_urls.iter().collect(),
        ),
        TlsSide::Client => {
            let clients: Vec<&Url> = cfg
                .listen_client_urls
                .iter()
                .chain(&cfg.listen_client_http_urls)
                .collect();
            // Metrics listeners on https use the client TLS, as etcd's.
            let listen = clients
                .iter()
                .copied()
                .chain(&cfg.listen_metrics_urls)
                .collect();
            (listen, clients)
        }
    };
    let hosts = hosts_from
        .iter()
        .map(|u| u[Position::BeforeHost..Position::AfterPort].to_string())
        .filter(|h| !h.is_empty())
        .collect();
    (listen, hosts)
}

/// The side's settings as configured, with the flags kept outside `TlsInfo`.
fn configured(cfg: &Config, side: TlsSide) -> TlsInfo {
    let (mut info, client_cert, client_key) = match side {
        TlsSide::Client => (
            cfg.client_tls.clone(),
            cfg.other_flag("client-cert-file"),
            cfg.other_flag("client-key-file"),
        ),
        TlsSide::Peer => (
            cfg.peer_tls.clone(),
            cfg.other_flag("peer-client-cert-file"),
            cfg.other_flag("peer-client-key-file"),
        ),
    };
    let path = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(PathBuf::from);
    info.client_cert_file = info.client_cert_file.or_else(|| path(client_cert));
    info.client_key_file = info.client_key_file.or_else(|| path(client_key));
    info.skip_client_san_verification = match side {
        // etcd checks client certificate SANs against the remote address on peer
        // listeners only.
        TlsSide::Client => true,
        TlsSide::Peer => {
            info.skip_client_san_verification
                || cfg.other_bool("peer-skip-client-san-verification") == Some(true)
        }
    };
    info
}

/// Copies the member-wide policy (`--cipher-suites`, `--tls-min-version`,
/// `--tls-max-version`, `--self-signed-cert-validity`) into one side.
fn apply_policy(cfg: &Config, side: TlsSide, info: &mut TlsInfo) -> Result<(), EmbedError> {
    let version = |v: &Option<String>| -> Result<Option<TlsVersion>, EmbedError> {
        match v.as_deref() {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|source| EmbedError::Tls { side, source }),
        }
    };
    info.cipher_suites = cfg.cipher_suites.clone();
    info.min_version = version(&cfg.tls_min_version)?;
    info.max_version = version(&cfg.tls_max_version)?;
    info.self_signed_cert_validity_years = cfg.self_signed_cert_validity;
    info.validate()
        .map_err(|source| EmbedError::Tls { side, source })
}

fn side_tls(cfg: &Config, side: TlsSide) -> Result<TlsInfo, EmbedError> {
    let (listen, hosts) = side_urls(cfg, side);
    let mut info = configured(cfg, side);
    // Checked before any certificate is generated, as etcd checks the suites first.
    apply_policy(cfg, side, &mut info)?;
    if info.auto_tls {
        if info.is_empty() {
            let dir = cfg.data_dir.join("fixtures").join(side.as_str());
            let existed = dir.join("cert.pem").is_file() && dir.join("key.pem").is_file();
            let generated = self_signed(&dir, &hosts, cfg.self_signed_cert_validity)
                .map_err(|source| EmbedError::Tls { side, source })?;
            if !existed {
                tracing::info!(
                    "tls-side" = side.as_str(),
                    dir = %dir.display(),
                    hosts = ?hosts,
                    "certificate-validity-bound-years" = cfg.self_signed_cert_validity,
                    "automatically generate certificates"
                );
            }
            // As etcd, the generated settings replace the configured ones whole; peers
            // then skip verifying each other's self-signed certificates.
            info = TlsInfo {
                skip_client_san_verification: side == TlsSide::Client,
                ..generated
            };
            apply_policy(cfg, side, &mut info)?;
        } else {
            tracing::warn!("ignoring {side} auto TLS since certs given");
        }
    }
    let secure: Vec<&Url> = listen.into_iter().filter(|u| is_secure(u)).collect();
    let dials = side == TlsSide::Peer && !info.is_empty();
    if !secure.is_empty() || dials {
        check_usable(&info, side, &secure, |u| {
            cfg.listen_metrics_urls.contains(u)
        })?;
    }
    Ok(info)
}

/// The checks a listener or dialer would make on first use, made up front.
fn check_usable(
    info: &TlsInfo,
    side: TlsSide,
    secure: &[&Url],
    is_metrics: impl Fn(&Url) -> bool,
) -> Result<(), EmbedError> {
    if let (true, Some(url)) = (info.is_empty(), secure.first()) {
        return Err(match side {
            TlsSide::Client if is_metrics(url) => EmbedError::MetricsTlsRequired,
            TlsSide::Client => EmbedError::ClientTlsRequired {
                url: url_string(url),
            },
            TlsSide::Peer => EmbedError::Listen(TransportError::TlsRequired {
                url: url_string(url),
            }),
        });
    }
    if info.cert_file.is_none() != info.key_file.is_none() {
        let show = |p: &Option<PathBuf>| {
            p.as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        return Err(EmbedError::Tls {
            side,
            source: TransportError::TlsConfig {
                reason: format!(
                    "KeyFile and CertFile must both be present[key: {}, cert: {}]",
                    show(&info.key_file),
                    show(&info.cert_file)
                ),
            },
        });
    }
    if info.client_cert_auth && info.trusted_ca_file.is_none() && !secure.is_empty() {
        return Err(EmbedError::TlsFlagNeeds {
            flag: match side {
                TlsSide::Client => "client-cert-auth",
                TlsSide::Peer => "peer-client-cert-auth",
            },
            needs: side.flag(TlsFileRole::TrustedCa),
        });
    }
    let files = [
        (TlsFileRole::Cert, &info.cert_file),
        (TlsFileRole::Key, &info.key_file),
        (TlsFileRole::TrustedCa, &info.trusted_ca_file),
        (TlsFileRole::Crl, &info.crl_file),
        (TlsFileRole::ClientCert, &info.client_cert_file),
        (TlsFileRole::ClientKey, &info.client_key_file),
    ];
    for (role, path) in files {
        let Some(path) = path else { continue };
        if let Err(err) = std::fs::File::open(path) {
            return Err(EmbedError::TlsFile {
                flag: side.flag(role),
                path: path.clone(),
                reason: go_io_message(&err),
            });
        }
    }
    Ok(())
}

/// An I/O error as Go prints it: lower-case, without Rust's ` (os error N)`.
fn go_io_message(err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) => &text[..at],
        None => text.as_str(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// A member with its data dir in `dir` and the given client and peer URLs.
    fn config(dir: &Path, client: &str, peer: &str) -> Config {
        Config {
            data_dir: dir.join("data"),
            listen_client_urls: vec![url(client)],
            advertise_client_urls: vec![url(client)],
            listen_peer_urls: vec![url(peer)],
            initial_advertise_peer_urls: vec![url(peer)],
            ..Config::default()
        }
    }

    fn err(cfg: &Config) -> String {
        MemberTls::build(cfg).unwrap_err().to_string()
    }

    #[test]
    fn plain_members_have_no_tls() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path(), "http://127.0.0.1:2379", "http://127.0.0.1:2380");
        let tls = MemberTls::build(&cfg).unwrap();
        assert!(tls.client.is_empty() && tls.peer.is_empty());
        assert!(tls.peer_dialing().is_none());
        assert!(tls.client.skip_client_san_verification);
        assert!(!tls.peer.skip_client_san_verification);
        assert!(!dir.path().join("data").exists(), "nothing is generated");
    }

    #[test]
    fn policy_is_copied_into_both_sides() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path(), "http://127.0.0.1:2379", "http://127.0.0.1:2380");
        cfg.cipher_suites = vec!["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".into()];
        cfg.tls_min_version = Some("TLS1.2".into());
        cfg.tls_max_version = Some("TLS1.2".into());
        cfg.self_signed_cert_validity = 3;
        let tls = MemberTls::build(&cfg).unwrap();
        for side in [&tls.client, &tls.peer] {
            assert_eq!(
                side.cipher_suites,
                ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
            );
            assert_eq!(side.min_version, Some(TlsVersion::Tls12));
            assert_eq!(side.max_version, Some(TlsVersion::Tls12));
            assert_eq!(side.self_signed_cert_validity_years, 3);
        }
    }

    #[test]
    fn bad_policy_fails_naming_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path(), "http://127.0.0.1:2379", "http://127.0.0.1:2380");
        cfg.cipher_suites = vec!["NOPE".into()];
        cfg.peer_tls.auto_tls = true;
        assert_eq!(err(&cfg), "peer TLS: unexpected TLS cipher suite \"NOPE\"");
        assert!(
            !cfg.data_dir.join("fixtures").exists(),
            "no certificate is generated for a configuration that cannot start"
        );
        cfg.cipher_suites.clear();
        cfg.tls_min_version = Some("TLS1.3".into());
        cfg.tls_max_version = Some("TLS1.2".into());
        assert_eq!(
            err(&cfg),
            "peer TLS: min version (TLS1.3) is greater than max version (TLS1.2)"
        );
    }

    #[test]
    fn auto_tls_generates_once_per_side_and_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(
            dir.path(),
            "https://127.0.0.1:2379",
            "https://127.0.0.1:2380",
        );
        cfg.client_tls.auto_tls = true;
        cfg.peer_tls.auto_tls = true;
        cfg.peer_tls.client_cert_auth = true;
        let tls = MemberTls::build(&cfg).unwrap();
        let fixtures = cfg.data_dir.join("fixtures");
        assert_eq!(
            tls.client.cert_file.as_deref(),
            Some(fixtures.join("client/cert.pem").as_path())
        );
        assert_eq!(
            tls.peer.key_file.as_deref(),
            Some(fixtures.join("peer/key.pem").as_path())
        );
        assert!(
            tls.peer.insecure_skip_verify,
            "self-signed peers skip verification"
        );
        assert!(
            !tls.peer.client_cert_auth,
            "generated settings replace the configured ones, as etcd's"
        );
        assert!(tls.client.skip_client_san_verification);
        assert!(tls.peer_dialing().is_some());

        let before = std::fs::read(fixtures.join("peer/cert.pem")).unwrap();
        let again = MemberTls::build(&cfg).unwrap();
        assert_eq!(again.peer.cert_file, tls.peer.cert_file);
        assert_eq!(
            std::fs::read(fixtures.join("peer/cert.pem")).unwrap(),
            before,
            "a restart reuses the certificate"
        );
    }

    #[test]
    fn auto_tls_yields_to_given_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path(), "http://127.0.0.1:2379", "http://127.0.0.1:2380");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, "x").unwrap();
        std::fs::write(&key, "x").unwrap();
        cfg.peer_tls.cert_file = Some(cert.clone());
        cfg.peer_tls.key_file = Some(key);
        cfg.peer_tls.auto_tls = true;
        let tls = MemberTls::build(&cfg).unwrap();
        assert_eq!(tls.peer.cert_file, Some(cert));
        assert!(!cfg.data_dir.join("fixtures").exists());
    }

    #[test]
    fn secure_urls_need_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(
            dir.path(),
            "https://127.0.0.1:2379",
            "http://127.0.0.1:2380",
        );
        assert_eq!(
            err(&cfg),
            "TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme"
        );
        let cfg = config(
            dir.path(),
            "http://127.0.0.1:2379",
            "https://127.0.0.1:2380",
        );
        assert_eq!(
            err(&cfg),
            "cannot listen on TLS for https://127.0.0.1:2380: KeyFile and CertFile are not presented"
        );
        let mut cfg = config(dir.path(), "http://127.0.0.1:2379", "http://127.0.0.1:2380");
        cfg.listen_metrics_urls = vec![url("https://127.0.0.1:2381")];
        assert_eq!(
            err(&cfg),
            "client TLS key/cert (--cert-file, --key-file) must be provided for metrics secure url"
        );
    }

    #[test]
    fn missing_files_are_named_with_their_flag() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(
            dir.path(),
            "https://127.0.0.1:2379",
            "http://127.0.0.1:2380",
        );
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "x").unwrap();
        let missing = dir.path().join("missing-key.pem");
        cfg.client_tls.cert_file = Some(cert.clone());
        cfg.client_tls.key_file = Some(missing.clone());
        assert_eq!(
            err(&cfg),
            format!(
                "--key-file {}: no such file or directory",
                missing.display()
            )
        );
        cfg.client_tls.key_file = None;
        assert!(err(&cfg).contains("KeyFile and CertFile must both be present"));
        cfg.client_tls.key_file = Some(cert.clone());
        cfg.client_tls.client_cert_auth = true;
        assert_eq!(err(&cfg), "--client-cert-auth requires --trusted-ca-file");
    }

    #[test]
    fn plain_client_urls_ignore_client_files_but_peers_dial_with_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path(), "http://127.0.0.1:2379", "http://127.0.0.1:2380");
        let missing = dir.path().join("nope.pem");
        cfg.client_tls.cert_file = Some(missing.clone());
        cfg.client_tls.key_file = Some(missing.clone());
        assert!(MemberTls::build(&cfg).is_ok(), "etcd ignores them on http");
        cfg.peer_tls.cert_file = Some(missing.clone());
        cfg.peer_tls.key_file = Some(missing.clone());
        assert!(err(&cfg).starts_with("--peer-cert-file "));
    }

    #[test]
    fn peer_client_certificate_flags_reach_the_dialer() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path(), "http://127.0.0.1:2379", "http://127.0.0.1:2380");
        let file = dir.path().join("f.pem");
        std::fs::write(&file, "x").unwrap();
        cfg.peer_tls.cert_file = Some(file.clone());
        cfg.peer_tls.key_file = Some(file.clone());
        let text = file.display().to_string();
        cfg.other_flags
            .insert("peer-client-cert-file".into(), text.clone());
        cfg.other_flags.insert("peer-client-key-file".into(), text);
        cfg.other_flags
            .insert("peer-skip-client-san-verification".into(), "true".into());
        let dialing = MemberTls::build(&cfg).unwrap().peer_dialing().unwrap();
        assert_eq!(dialing.client_cert_file, Some(file.clone()));
        assert_eq!(dialing.client_key_file, Some(file));
        assert!(dialing.skip_client_san_verification);
    }

    #[test]
    fn hosts_are_go_url_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path(), "https://[::1]:2379", "https://localhost:2380");
        cfg.listen_client_http_urls = vec![url("http://10.0.0.1:8080")];
        assert_eq!(
            side_urls(&cfg, TlsSide::Client).1,
            ["[::1]:2379", "10.0.0.1:8080"]
        );
        assert_eq!(side_urls(&cfg, TlsSide::Peer).1, ["localhost:2380"]);
    }

    #[test]
    fn description_matches_etcds() {
        let info = TlsInfo {
            cert_file: Some("s.pem".into()),
            key_file: Some("s-key.pem".into()),
            trusted_ca_file: Some("ca.pem".into()),
            client_cert_auth: true,
            ..TlsInfo::default()
        };
        assert_eq!(
            describe(&info),
            "cert = s.pem, key = s-key.pem, client-cert=, client-key=, trusted-ca = ca.pem, client-cert-auth = true, crl-file = "
        );
    }
}
