//! Security flags: client and peer TLS, cipher suites and versions, CORS and host
//! whitelist.

use super::{
    Flag, Kind, Section, check_bool, check_text, opt_path, opt_text, strings, unique_strings,
};
use crate::config::urls::parse_url_list;
use crate::config::values::{parse_bool, parse_u32};

const S: Section = Section::Security;

pub(super) const FLAGS: &[Flag] = &[
    Flag::field(
        S,
        "cert-file",
        Kind::Text,
        "",
        "Path to the client server TLS cert file.",
        |c, v| {
            c.client_tls.cert_file = opt_path(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "key-file",
        Kind::Text,
        "",
        "Path to the client server TLS key file.",
        |c, v| {
            c.client_tls.key_file = opt_path(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "client-cert-auth",
        Kind::Bool,
        "false",
        "Enable client cert authentication.",
        |c, v| {
            c.client_tls.client_cert_auth = parse_bool(v)?;
            Ok(())
        },
    ),
    Flag::other(
        S,
        "client-cert-file",
        Kind::Text,
        "",
        "Path to an explicit peer client TLS cert file otherwise cert file will be used when client auth is required.",
        check_text,
    ),
    Flag::other(
        S,
        "client-key-file",
        Kind::Text,
        "",
        "Path to an explicit peer client TLS key file otherwise key file will be used when client auth is required.",
        check_text,
    ),
    Flag::field(
        S,
        "client-crl-file",
        Kind::Text,
        "",
        "Path to the client certificate revocation list file.",
        |c, v| {
            c.client_tls.crl_file = opt_path(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "client-cert-allowed-hostname",
        Kind::List,
        "",
        "Comma-separated list of SAN hostnames for client cert authentication.",
        |c, v| {
            c.client_tls.allowed_hostname = strings(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "trusted-ca-file",
        Kind::Text,
        "",
        "Path to the client server TLS trusted CA cert file.",
        |c, v| {
            c.client_tls.trusted_ca_file = opt_path(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "auto-tls",
        Kind::Bool,
        "false",
        "Client TLS using generated certificates.",
        |c, v| {
            c.client_tls.auto_tls = parse_bool(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "peer-cert-file",
        Kind::Text,
        "",
        "Path to the peer server TLS cert file.",
        |c, v| {
            c.peer_tls.cert_file = opt_path(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "peer-key-file",
        Kind::Text,
        "",
        "Path to the peer server TLS key file.",
        |c, v| {
            c.peer_tls.key_file = opt_path(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "peer-client-cert-auth",
        Kind::Bool,
        "false",
        "Enable peer client cert authentication.",
        |c, v| {
            c.peer_tls.client_cert_auth = parse_bool(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "peer-trusted-ca-file",
        Kind::Text,
        "",
        "Path to the peer server TLS trusted CA file.",
        |c, v| {
            c.peer_tls.trusted_ca_file = opt_path(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "peer-cert-allowed-cn",
        Kind::List,
        "",
        "Comma-separated list of allowed CNs for inter-peer TLS authentication.",
        |c, v| {
            c.peer_tls.allowed_cn = strings(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "peer-cert-allowed-hostname",
        Kind::List,
        "",
        "Comma-separated list of allowed SAN hostnames for inter-peer TLS authentication.",
        |c, v| {
            c.peer_tls.allowed_hostname = strings(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "peer-auto-tls",
        Kind::Bool,
        "false",
        "Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided.",
        |c, v| {
            c.peer_tls.auto_tls = parse_bool(v)?;
            Ok(())
        },
    ),
    Flag::other(
        S,
        "peer-client-cert-file",
        Kind::Text,
        "",
        "Path to an explicit peer client TLS cert file otherwise peer cert file will be used when client auth is required.",
        check_text,
    ),
    Flag::other(
        S,
        "peer-client-key-file",
        Kind::Text,
        "",
        "Path to an explicit peer client TLS key file otherwise peer key file will be used when client auth is required.",
        check_text,
    ),
    Flag::field(
        S,
        "self-signed-cert-validity",
        Kind::Number,
        "1",
        "The validity period of the client and peer certificates that are automatically generated by etcd when you specify ClientAutoTLS and PeerAutoTLS, the unit is year, and the default is 1.",
        |c, v| {
            c.self_signed_cert_validity = parse_u32(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "peer-crl-file",
        Kind::Text,
        "",
        "Path to the peer certificate revocation list file.",
        |c, v| {
            c.peer_tls.crl_file = opt_path(v);
            Ok(())
        },
    ),
    Flag::other(
        S,
        "peer-skip-client-san-verification",
        Kind::Bool,
        "false",
        "Skip verification of SAN field in client certificate for peer connections.",
        check_bool,
    ),
    Flag::alias(
        S,
        "experimental-peer-skip-client-san-verification",
        Kind::Bool,
        "peer-skip-client-san-verification",
    ),
    Flag::field(
        S,
        "cipher-suites",
        Kind::List,
        "",
        "Comma-separated list of supported TLS cipher suites between client/server and peers (empty will be auto-populated by Go).",
        |c, v| {
            c.cipher_suites = strings(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "cors",
        Kind::List,
        "*",
        "Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all).",
        |c, v| {
            c.cors = match v {
                "" => Vec::new(),
                "*" => vec!["*".to_string()],
                list => {
                    // Validated as URLs, kept as written (the parser would drop `:80`).
                    parse_url_list(list)?;
                    unique_strings(&list.split(',').map(str::trim).collect::<Vec<_>>().join(","))
                }
            };
            Ok(())
        },
    ),
    Flag::field(
        S,
        "host-whitelist",
        Kind::List,
        "*",
        "Acceptable hostnames from HTTP client requests, if server is not secure (empty or * means allow all).",
        |c, v| {
            c.host_whitelist = unique_strings(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "tls-min-version",
        Kind::Text,
        "",
        "Minimum TLS version supported by etcd. Possible values: TLS1.2, TLS1.3.",
        |c, v| {
            c.tls_min_version = opt_text(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "tls-max-version",
        Kind::Text,
        "",
        "Maximum TLS version supported by etcd. Possible values: TLS1.2, TLS1.3 (empty will be auto-populated by Go).",
        |c, v| {
            c.tls_max_version = opt_text(v);
            Ok(())
        },
    ),
];
