//! The crate's error type; messages follow Go's `net` package wording so operators see
//! what they would see from etcd (`listen tcp 127.0.0.1:2379: bind: address already in use`),
//! and TLS errors follow etcd's (`unexpected TLS cipher suite "X"`).

use std::io;
use std::path::PathBuf;

use crate::tls::TlsVersion;

/// Everything that can go wrong while turning an etcd URL into a (TLS) connection.
///
/// Every variant names the URL, address, file or setting involved.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The URL cannot be used for listening or dialing (bad scheme, missing port, ...).
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// The host of a URL could not be resolved to an address.
    #[error("lookup {host}: {}", os_message(.source))]
    Resolve { host: String, source: io::Error },

    /// Creating, configuring, binding or listening on a socket failed.
    /// `op` is the failing step (`socket`, `setsockopt`, `bind`, `listen`).
    #[error("listen {network} {addr}: {op}: {}", os_message(.source))]
    Bind {
        network: &'static str,
        addr: String,
        op: &'static str,
        source: io::Error,
    },

    /// Connecting to a URL failed or did not finish within the connect timeout.
    #[error("dial {network} {addr}: connect: {}", os_message(.source))]
    Connect {
        network: &'static str,
        addr: String,
        source: io::Error,
    },

    /// A secure scheme (`https`, `unixs`) was given without a certificate and key.
    #[error("cannot listen on TLS for {url}: KeyFile and CertFile are not presented")]
    TlsRequired { url: String },

    /// A TLS file (certificate, key, CA bundle, CRL) cannot be read, parsed or used.
    /// `what` names the role of the file (`certificate`, `key`, `trusted CA`, `CRL`).
    #[error("{what} file {}: {reason}", path.display())]
    TlsFile {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },

    /// The TLS settings contradict each other (only one of certificate and key,
    /// client certificate authentication without a CA, a malformed allowed hostname, ...).
    #[error("{reason}")]
    TlsConfig { reason: String },

    /// Both allowed common names and allowed hostnames are set: etcd accepts only one of
    /// the two policies. The lists are shown comma-joined, as etcd shows its flags' values.
    #[error(
        "AllowedCN and AllowedHostname are mutually exclusive (cn={}, hostname={})",
        go_quote(&.cn.join(",")),
        go_quote(&.hostname.join(","))
    )]
    AllowedNamesExclusive {
        cn: Vec<String>,
        hostname: Vec<String>,
    },

    /// A cipher suite name (Go's spelling) that is unknown or that rustls does not
    /// implement (CBC, RC4, 3DES and static-RSA suites).
    #[error("unexpected TLS cipher suite {name:?}")]
    UnsupportedCipherSuite { name: String },

    /// A TLS version other than `TLS1.2` and `TLS1.3`.
    #[error("unexpected TLS version {value:?} (must be one of: TLS1.2, TLS1.3)")]
    InvalidTlsVersion { value: String },

    /// The minimum TLS version is above the maximum.
    #[error("min version ({min}) is greater than max version ({max})")]
    TlsVersionRange { min: TlsVersion, max: TlsVersion },

    /// The TLS handshake with a dialed server failed (bad certificate, protocol
    /// mismatch, a plaintext server, or no answer within the connect timeout).
    #[error("tls: handshake with {addr} failed: {source}")]
    Handshake { addr: String, source: io::Error },

    /// Generating or storing a self-signed certificate (auto TLS) failed.
    #[error("cannot create self-signed certificate in {}: {reason}", dir.display())]
    SelfCert { dir: PathBuf, reason: String },

    /// Any other I/O failure; `op` says what was being done to `target`.
    #[error("{op} {target}: {}", os_message(.source))]
    Io {
        op: &'static str,
        target: String,
        source: io::Error,
    },
}

/// Renders an I/O error the way Go prints an errno: lower-case, without the
/// trailing `(os error N)` that Rust appends.
pub(crate) fn os_message(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) if err.raw_os_error().is_some() => &text[..at],
        _ => text.as_str(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Go's `%q` of a string (`strconv.Quote`), as etcd's and Go's flag messages show
/// values (clients and operators match on them).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_message_matches_go_wording() {
        let err = io::Error::from_raw_os_error(libc_eaddrinuse());
        assert_eq!(os_message(&err), "address already in use");
    }

    #[test]
    fn os_message_keeps_custom_text() {
        let err = io::Error::new(io::ErrorKind::TimedOut, "i/o timeout");
        assert_eq!(os_message(&err), "i/o timeout");
    }

    #[test]
    fn bind_error_names_the_address() {
        let err = TransportError::Bind {
            network: "tcp",
            addr: "127.0.0.1:2379".into(),
            op: "bind",
            source: io::Error::from_raw_os_error(libc_eaddrinuse()),
        };
        assert_eq!(
            err.to_string(),
            "listen tcp 127.0.0.1:2379: bind: address already in use"
        );
    }

    #[test]
    fn go_quote_escapes_as_go() {
        assert_eq!(go_quote("etcd-peer"), r#""etcd-peer""#);
        assert_eq!(go_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(go_quote("x\ny\u{1}"), r#""x\ny\x01""#);
        assert_eq!(go_quote(""), r#""""#);
    }

    /// EADDRINUSE without a libc dependency (Linux 98, the BSDs and macOS 48).
    fn libc_eaddrinuse() -> i32 {
        if cfg!(any(target_os = "linux", target_os = "android")) {
            98
        } else {
            48
        }
    }
}
