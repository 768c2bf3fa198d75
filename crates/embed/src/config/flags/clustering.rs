//! Clustering flags: advertised URLs, bootstrap (static, discovery), raft behaviour,
//! compaction.

use super::{
    Flag, Kind, Section, check_bool, check_duration, check_text, choice, set_urls, text,
    unique_strings,
};
use crate::config::settings::ClusterState;
use crate::config::values::parse_bool;

const S: Section = Section::Clustering;

pub(super) const FLAGS: &[Flag] = &[
    Flag::field(
        S,
        "initial-advertise-peer-urls",
        Kind::List,
        "http://localhost:2380",
        "List of this member's peer URLs to advertise to the rest of the cluster.",
        |c, v| set_urls(&mut c.initial_advertise_peer_urls, v),
    ),
    Flag::field(
        S,
        "initial-cluster",
        Kind::Text,
        "default=http://localhost:2380",
        "Initial cluster configuration for bootstrapping.",
        |c, v| {
            c.initial_cluster = text(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "initial-cluster-state",
        Kind::Text,
        "new",
        "Initial cluster state ('new' when bootstrapping a new cluster or 'existing' when adding new members to an existing cluster).\n    After successful initialization (bootstrapping or adding), flag is ignored on restarts.",
        |c, v| {
            c.initial_cluster_state = match choice(v, &["new", "existing"])?.as_str() {
                "existing" => ClusterState::Existing,
                _ => ClusterState::New,
            };
            Ok(())
        },
    ),
    Flag::field(
        S,
        "initial-cluster-token",
        Kind::Text,
        "etcd-cluster",
        "Initial cluster token for the etcd cluster during bootstrap.\n    Specifying this can protect you from unintended cross-cluster interaction when running multiple clusters.",
        |c, v| {
            c.initial_cluster_token = text(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "advertise-client-urls",
        Kind::List,
        "http://localhost:2379",
        "List of this member's client URLs to advertise to the public.\n    The client URLs advertised should be accessible to machines that talk to etcd cluster. etcd client libraries parse these URLs to connect to the cluster.",
        |c, v| set_urls(&mut c.advertise_client_urls, v),
    ),
    Flag::field(
        S,
        "discovery",
        Kind::Text,
        "",
        "Discovery URL used to bootstrap the cluster (v2 discovery).",
        |c, v| {
            c.discovery = text(v);
            Ok(())
        },
    ),
    Flag::other(
        S,
        "discovery-fallback",
        Kind::Text,
        "proxy",
        "Expected behavior ('exit' or 'proxy') when discovery services fails.\n    \"proxy\" supports v2 API only.",
        |v| choice(v, &["exit", "proxy"]).map(drop),
    ),
    Flag::other(
        S,
        "discovery-proxy",
        Kind::Text,
        "",
        "HTTP proxy to use for traffic to discovery service.",
        check_text,
    ),
    Flag::field(
        S,
        "discovery-srv",
        Kind::Text,
        "",
        "DNS srv domain used to bootstrap the cluster.",
        |c, v| {
            c.discovery_srv = text(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "discovery-srv-name",
        Kind::Text,
        "",
        "Suffix to the dns srv name queried when bootstrapping.",
        |c, v| {
            c.discovery_srv_name = text(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "discovery-endpoints",
        Kind::List,
        "",
        "V3 discovery: List of gRPC endpoints of the discovery service.",
        |c, v| {
            c.discovery_endpoints = unique_strings(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "discovery-token",
        Kind::Text,
        "",
        "V3 discovery: discovery token for the etcd cluster to be bootstrapped.",
        |c, v| {
            c.discovery_token = text(v);
            Ok(())
        },
    ),
    Flag::other(
        S,
        "discovery-dial-timeout",
        Kind::Duration,
        "2s",
        "V3 discovery: dial timeout for client connections.",
        check_duration,
    ),
    Flag::other(
        S,
        "discovery-request-timeout",
        Kind::Duration,
        "5s",
        "V3 discovery: timeout for discovery requests (excluding dial timeout).",
        check_duration,
    ),
    Flag::other(
        S,
        "discovery-keepalive-time",
        Kind::Duration,
        "2s",
        "V3 discovery: keepalive time for client connections.",
        check_duration,
    ),
    Flag::other(
        S,
        "discovery-keepalive-timeout",
        Kind::Duration,
        "6s",
        "V3 discovery: keepalive timeout for client connections.",
        check_duration,
    ),
    Flag::other(
        S,
        "discovery-insecure-transport",
        Kind::Bool,
        "true",
        "V3 discovery: disable transport security for client connections.",
        check_bool,
    ),
    Flag::other(
        S,
        "discovery-insecure-skip-tls-verify",
        Kind::Bool,
        "false",
        "V3 discovery: skip server certificate verification (CAUTION: this option should be enabled only for testing purposes).",
        check_bool,
    ),
    Flag::other(
        S,
        "discovery-cert",
        Kind::Text,
        "",
        "V3 discovery: identify secure client using this TLS certificate file.",
        check_text,
    ),
    Flag::other(
        S,
        "discovery-key",
        Kind::Text,
        "",
        "V3 discovery: identify secure client using this TLS key file.",
        check_text,
    ),
    Flag::other(
        S,
        "discovery-cacert",
        Kind::Text,
        "",
        "V3 discovery: verify certificates of TLS-enabled secure servers using this CA bundle.",
        check_text,
    ),
    Flag::other(
        S,
        "discovery-user",
        Kind::Text,
        "",
        "V3 discovery: username[:password] for authentication (prompt if password is not supplied).",
        check_text,
    ),
    Flag::other(
        S,
        "discovery-password",
        Kind::Text,
        "",
        "V3 discovery: password for authentication (if this option is used, --user option shouldn't include password).",
        check_text,
    ),
    Flag::field(
        S,
        "strict-reconfig-check",
        Kind::Bool,
        "true",
        "Reject reconfiguration requests that would cause quorum loss.",
        |c, v| {
            c.strict_reconfig_check = parse_bool(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "pre-vote",
        Kind::Bool,
        "true",
        "Enable to run an additional Raft election phase.",
        |c, v| {
            c.pre_vote = parse_bool(v)?;
            Ok(())
        },
    ),
    Flag::field(
        S,
        "auto-compaction-retention",
        Kind::Text,
        "0",
        "Auto compaction retention length. 0 means disable auto compaction.",
        |c, v| {
            c.auto_compaction_retention = text(v);
            Ok(())
        },
    ),
    Flag::field(
        S,
        "auto-compaction-mode",
        Kind::Text,
        "periodic",
        "Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention.",
        |c, v| {
            c.auto_compaction_mode = super::listed_choice(v, &["periodic", "revision"])?;
            Ok(())
        },
    ),
    Flag::other(
        S,
        "enable-v2",
        Kind::Bool,
        "false",
        "Accept etcd V2 client requests (accepted, not implemented).",
        check_bool,
    ),
    Flag::other(
        S,
        "v2-deprecation",
        Kind::Text,
        "not-yet",
        "Phase of v2store deprecation ('not-yet', 'write-only', 'write-only-drop-data' or 'gone').",
        |v| {
            choice(
                v,
                &["not-yet", "write-only", "write-only-drop-data", "gone"],
            )
            .map(drop)
        },
    ),
];
