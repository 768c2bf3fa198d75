//! The crate's error type; messages follow Go's `net` package wording so operators see
//! what they would see from etcd (`listen tcp 127.0.0.1:2379: bind: address already in use`).

use std::io;

/// Everything that can go wrong while turning an etcd URL into a socket.
///
/// Every variant names the URL, address or path involved.
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

    /// TLS was requested; this build does not implement it yet.
    #[error("TLS is not supported yet (requested for {url})")]
    TlsUnsupported { url: String },

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

    /// EADDRINUSE without a libc dependency (Linux 98, the BSDs and macOS 48).
    fn libc_eaddrinuse() -> i32 {
        if cfg!(any(target_os = "linux", target_os = "android")) {
            98
        } else {
            48
        }
    }
}
