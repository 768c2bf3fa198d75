//! etcd URLs (`http`, `https`, `unix`, `unixs`) and the socket addresses they name.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use url::{Host, Url};

use crate::error::TransportError;

/// What to listen on, parsed from an etcd URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl ListenAddr {
    /// Go's network name for this address (`tcp` or `unix`), used in messages.
    pub fn network(&self) -> &'static str {
        match self {
            ListenAddr::Tcp(_) => "tcp",
            ListenAddr::Unix(_) => "unix",
        }
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Tcp(addr) => addr.fmt(f),
            ListenAddr::Unix(path) => path.display().fmt(f),
        }
    }
}

/// A URL split into what to resolve, before any name lookup happens.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    /// `ip` is set when the host is an IP literal; otherwise `host` must be resolved.
    Tcp {
        host: String,
        ip: Option<IpAddr>,
        port: u16,
    },
    Unix(PathBuf),
}

impl Target {
    /// The address to use when no lookup is needed (IP literals and unix paths).
    fn literal(&self) -> Option<ListenAddr> {
        match self {
            Target::Tcp {
                ip: Some(ip), port, ..
            } => Some(ListenAddr::Tcp(SocketAddr::new(*ip, *port))),
            Target::Tcp { ip: None, .. } => None,
            Target::Unix(path) => Some(ListenAddr::Unix(path.clone())),
        }
    }

    pub(crate) fn host_port(&self) -> String {
        match self {
            Target::Tcp { host, port, .. } => format!("{host}:{port}"),
            Target::Unix(path) => path.display().to_string(),
        }
    }
}

/// Parses `http://host:port`, `https://host:port`, `unix://path`, `unixs://path`.
///
/// The host is resolved (blocking, via the system resolver) unless it is an IP literal;
/// when a name resolves to several addresses the first IPv4 one is preferred, as Go's
/// `net.Listen` does. For unix URLs the socket path is host+path, as etcd does
/// (`unix://localhost:2379` is a file named `localhost:2379` in the working directory).
/// Returns whether the scheme wants TLS (`https`/`unixs`).
///
/// `url::Url` drops a port equal to the scheme's default, so `http://host:80` and
/// `http://host` look the same here; both mean port 80 (443 for https). Use
/// [`parse_etcd_url`] on the raw flag value to reject a missing port as etcd does.
pub fn parse_listen_url(url: &Url) -> Result<(ListenAddr, bool), TransportError> {
    let (target, secure) = classify(url)?;
    let addr = match &target {
        Target::Tcp {
            host,
            ip: None,
            port,
        } => {
            let addrs = (host.as_str(), *port).to_socket_addrs().map_err(|source| {
                TransportError::Resolve {
                    host: host.clone(),
                    source,
                }
            })?;
            ListenAddr::Tcp(pick_listen_addr(host, addrs)?)
        }
        Target::Tcp {
            ip: Some(ip), port, ..
        } => ListenAddr::Tcp(SocketAddr::new(*ip, *port)),
        Target::Unix(path) => ListenAddr::Unix(path.clone()),
    };
    Ok((addr, secure))
}

/// The async twin of [`parse_listen_url`]'s lookup, for use inside the runtime.
pub(crate) async fn resolve_listen(target: &Target) -> Result<ListenAddr, TransportError> {
    if let Some(addr) = target.literal() {
        return Ok(addr);
    }
    let addrs = resolve_all(target).await?;
    let host = match target {
        Target::Tcp { host, .. } => host.as_str(),
        Target::Unix(_) => "",
    };
    Ok(ListenAddr::Tcp(pick_listen_addr(host, addrs)?))
}

/// Every address a TCP target resolves to (an IP literal resolves to itself).
pub(crate) async fn resolve_all(target: &Target) -> Result<Vec<SocketAddr>, TransportError> {
    match target {
        Target::Tcp {
            ip: Some(ip), port, ..
        } => Ok(vec![SocketAddr::new(*ip, *port)]),
        Target::Tcp {
            host,
            ip: None,
            port,
        } => {
            let addrs = tokio::net::lookup_host((host.as_str(), *port))
                .await
                .map_err(|source| TransportError::Resolve {
                    host: host.clone(),
                    source,
                })?;
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                return Err(no_such_host(host));
            }
            Ok(addrs)
        }
        Target::Unix(path) => Err(TransportError::InvalidUrl {
            url: path.display().to_string(),
            reason: "a unix socket path has no network address".into(),
        }),
    }
}

fn pick_listen_addr(
    host: &str,
    addrs: impl IntoIterator<Item = SocketAddr>,
) -> Result<SocketAddr, TransportError> {
    let addrs: Vec<SocketAddr> = addrs.into_iter().collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| no_such_host(host))
}

fn no_such_host(host: &str) -> TransportError {
    TransportError::Resolve {
        host: host.to_owned(),
        source: io::Error::new(io::ErrorKind::NotFound, "no such host"),
    }
}

/// Splits a URL into its target and whether its scheme wants TLS, without lookups.
pub(crate) fn classify(url: &Url) -> Result<(Target, bool), TransportError> {
    let invalid = |reason: &str| TransportError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_owned(),
    };
    let (is_unix, secure) = match url.scheme() {
        "http" => (false, false),
        "https" => (false, true),
        "unix" => (true, false),
        "unixs" => (true, true),
        _ => return Err(invalid("URL scheme must be http, https, unix, or unixs")),
    };
    if is_unix {
        let mut raw = url.host_str().unwrap_or_default().to_owned();
        if let Some(port) = url.port() {
            raw.push_str(&format!(":{port}"));
        }
        raw.push_str(url.path());
        if raw.is_empty() {
            return Err(invalid("missing unix socket path"));
        }
        let path = PathBuf::from(OsString::from_vec(percent_decode(&raw)));
        return Ok((Target::Unix(path), secure));
    }
    if !matches!(url.path(), "" | "/") {
        return Err(invalid("URL must not contain a path"));
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| invalid("missing port in address"))?;
    let (host, ip) = match url.host() {
        Some(Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
        Some(Host::Ipv6(ip)) => (format!("[{ip}]"), Some(IpAddr::V6(ip))),
        Some(Host::Domain(name)) => (name.to_owned(), None),
        None => return Err(invalid("missing host")),
    };
    Ok((Target::Tcp { host, ip, port }, secure))
}

/// Parses one etcd URL flag value the way etcd's `types.NewURLs` does: the scheme must
/// be http, https, unix or unixs, and http(s) URLs need an explicit `host:port` and no
/// path. This sees the raw text, so unlike [`parse_listen_url`] it can tell a missing
/// port from the scheme's default one.
pub fn parse_etcd_url(raw: &str) -> Result<Url, TransportError> {
    let raw = raw.trim();
    let invalid = |reason: &str| TransportError::InvalidUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw).map_err(|err| invalid(&err.to_string()))?;
    let (target, _) = classify(&url)?;
    if matches!(target, Target::Tcp { .. }) {
        if !has_explicit_port(raw) {
            return Err(invalid(
                "URL address does not have the form \"host:port\": missing port in address",
            ));
        }
        if raw_has_path(raw) {
            return Err(invalid("URL must not contain a path"));
        }
    }
    Ok(url)
}

/// The authority of a raw URL: after `scheme://`, before any path, query or fragment,
/// without user info.
fn raw_authority(raw: &str) -> &str {
    let rest = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// Whether anything (even a lone `/`) follows the authority; etcd refuses it.
fn raw_has_path(raw: &str) -> bool {
    let rest = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    rest[..rest.find(['?', '#']).unwrap_or(rest.len())].contains('/')
}

fn has_explicit_port(raw: &str) -> bool {
    let authority = raw_authority(raw);
    let after_host = if authority.starts_with('[') {
        authority.find(']').map_or("", |end| &authority[end + 1..])
    } else {
        authority.rfind(':').map_or("", |at| &authority[at..])
    };
    after_host
        .strip_prefix(':')
        .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

/// Decodes `%XX` escapes; malformed escapes are kept as they are.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<(ListenAddr, bool), TransportError> {
        parse_listen_url(&Url::parse(raw).unwrap())
    }

    fn tcp(addr: &str) -> ListenAddr {
        ListenAddr::Tcp(addr.parse().unwrap())
    }

    #[test]
    fn http_and_https_ip_literals() {
        assert_eq!(
            parse("http://127.0.0.1:2379").unwrap(),
            (tcp("127.0.0.1:2379"), false)
        );
        assert_eq!(
            parse("https://10.0.0.1:2380").unwrap(),
            (tcp("10.0.0.1:2380"), true)
        );
        assert_eq!(parse("http://[::1]:0").unwrap(), (tcp("[::1]:0"), false));
        assert_eq!(
            parse("http://0.0.0.0:2379/").unwrap(),
            (tcp("0.0.0.0:2379"), false)
        );
    }

    #[test]
    fn localhost_resolves_preferring_ipv4() {
        assert_eq!(
            parse("https://localhost:2380").unwrap(),
            (tcp("127.0.0.1:2380"), true)
        );
    }

    #[test]
    fn unresolvable_host_is_a_resolve_error() {
        let err = parse("http://no-such-host.invalid:2379").unwrap_err();
        assert!(matches!(err, TransportError::Resolve { .. }), "{err:?}");
        assert!(
            err.to_string().starts_with("lookup no-such-host.invalid:"),
            "{err}"
        );
    }

    #[test]
    fn default_port_is_implied_by_url_normalisation() {
        assert_eq!(parse("http://127.0.0.1").unwrap().0, tcp("127.0.0.1:80"));
        assert_eq!(parse("https://127.0.0.1").unwrap().0, tcp("127.0.0.1:443"));
    }

    #[test]
    fn unix_path_is_host_plus_path() {
        assert_eq!(
            parse("unix://localhost:2379").unwrap(),
            (ListenAddr::Unix("localhost:2379".into()), false)
        );
        assert_eq!(
            parse("unixs:///var/run/etcd.sock").unwrap(),
            (ListenAddr::Unix("/var/run/etcd.sock".into()), true)
        );
        assert_eq!(
            parse("unix://sub/dir%20x.sock").unwrap().0,
            ListenAddr::Unix("sub/dir x.sock".into())
        );
    }

    #[test]
    fn rejected_urls_name_the_url_and_reason() {
        let err = parse("ftp://127.0.0.1:2121").unwrap_err();
        assert!(matches!(err, TransportError::InvalidUrl { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "invalid URL \"ftp://127.0.0.1:2121/\": URL scheme must be http, https, unix, or unixs"
        );
        let err = parse("http://127.0.0.1:2379/v3").unwrap_err();
        assert!(err.to_string().contains("must not contain a path"), "{err}");
        let err = parse("unix:").unwrap_err();
        assert!(
            err.to_string().contains("missing unix socket path"),
            "{err}"
        );
    }

    #[test]
    fn etcd_url_needs_an_explicit_port() {
        for raw in [
            "http://127.0.0.1",
            "https://localhost",
            "http://[::1]",
            "http://[::1]:",
        ] {
            let err = parse_etcd_url(raw).unwrap_err();
            assert!(
                err.to_string().contains("missing port in address"),
                "{raw}: {err}"
            );
        }
        let url = parse_etcd_url(" http://127.0.0.1:80 ").unwrap();
        assert_eq!(url.port_or_known_default(), Some(80));
        assert_eq!(
            parse_listen_url(&parse_etcd_url("http://[::1]:0").unwrap())
                .unwrap()
                .0,
            tcp("[::1]:0")
        );
        assert!(parse_etcd_url("http://user@127.0.0.1:2379").is_ok());
        assert!(parse_etcd_url("unix://localhost:2379").is_ok());
        assert!(parse_etcd_url("unix:///var/run/etcd.sock").is_ok());
    }

    #[test]
    fn etcd_url_refuses_paths_and_bad_schemes() {
        for raw in [
            "http://127.0.0.1:2379/",
            "http://127.0.0.1:2379/x",
            "ftp://a:1",
            "nonsense",
        ] {
            assert!(
                matches!(parse_etcd_url(raw), Err(TransportError::InvalidUrl { .. })),
                "{raw}"
            );
        }
        assert!(parse_etcd_url("http://127.0.0.1:2379?x=1").is_ok());
    }
}
