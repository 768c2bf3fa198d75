//! Transport security, black-box: auto TLS on client and peer URLs, mutual TLS from a
//! test CA, peers refusing a member certified by another CA, TLS version and cipher
//! suite policy, allowed peer common names, contradictory allowed-name settings, and
//! certificates rotated on disk without a restart.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::cluster::{Cluster, Schemes};
use crate::support::pki::{Ca, Files, Identity};
use crate::support::tls_probe::{TLS12, TLS13, cipher_suite, der, handshake};
use crate::support::{Member, ctl, ctl_ok, etcdctl, eventually};

/// Fast raft timings so elections settle within a second.
const FAST: &[&str] = &["--heartbeat-interval=50", "--election-timeout=500"];

/// Short etcdctl timeouts for calls that are expected to fail.
const QUICK_FAIL: &[&str] = &["--dial-timeout=1s", "--command-timeout=2s"];

/// etcdctl flags for a TLS connection that does not verify the server (auto TLS).
const SKIP_VERIFY: &[&str] = &["--insecure-transport=false", "--insecure-skip-tls-verify"];

fn flag(name: &str, path: &Path) -> String {
    format!("--{name}={}", path.display())
}

fn ctl_with(etcdctl: &Path, endpoint: &str, tls: &[String], args: &[&str]) -> Output {
    let mut all: Vec<&str> = tls.iter().map(String::as_str).collect();
    all.extend_from_slice(args);
    ctl(etcdctl, endpoint, &all)
}

fn ctl_with_ok(etcdctl: &Path, endpoint: &str, tls: &[String], args: &[&str]) -> String {
    let out = ctl_with(etcdctl, endpoint, tls, args);
    assert!(
        out.status.success(),
        "etcdctl {tls:?} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// etcdctl's `--cacert/--cert/--key` for `identity` (no client certificate if None).
fn etcdctl_tls(ca: &Path, identity: Option<&Identity>) -> Vec<String> {
    let mut args = vec![flag("cacert", ca)];
    if let Some(id) = identity {
        args.push(flag("cert", &id.cert));
        args.push(flag("key", &id.key));
    }
    args
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A single member serving clients over https with `identity`, plus `extra` flags.
fn tls_member(identity: &Identity, extra: &[String]) -> Member {
    let mut args = vec![
        flag("cert-file", &identity.cert),
        flag("key-file", &identity.key),
    ];
    args.extend(extra.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut m = Member::new(&args);
    m.client_scheme = "https";
    m.spawn();
    m.wait_ready();
    m
}

/// `etcdctl member add NAME --peer-urls=URL`, retried while the cluster answers
/// `etcdserver: unhealthy cluster`: with --strict-reconfig-check a member refuses
/// membership changes until it has been connected to its peers for 5 s (etcd's
/// HealthInterval), which peer connections cut by the peer read timeout would prevent.
fn member_add(etcdctl: &Path, endpoints: &str, name: &str, peer_url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let peer_urls = format!("--peer-urls={peer_url}");
    loop {
        let out = ctl(etcdctl, endpoints, &["member", "add", name, &peer_urls]);
        if out.status.success() {
            return;
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("etcdserver: unhealthy cluster") && Instant::now() < deadline,
            "etcdctl member add {name}: {err}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Adds a member m3 with `args` (its peer TLS flags) to `c` and starts it, then asserts
/// it exits without joining because the peers refused its certificate (`who` names it in
/// the failure messages). Returns it for further checks.
fn start_refused_joiner(etcdctl: &Path, c: &Cluster, args: Vec<String>, who: &str) -> Member {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ep = c.endpoints();
    let mut joiner = Member::new(&args);
    joiner.name = "m3".into();
    joiner.peer_scheme = "https";
    joiner.token = c.token.clone();
    joiner.cluster_state = "existing";
    joiner.initial_cluster = Some(c.initial_cluster_with(&format!("m3={}", joiner.peer_url())));
    member_add(etcdctl, &ep, "m3", &joiner.peer_url());

    joiner.spawn();
    let status = joiner.wait_exit(Duration::from_secs(30));
    assert!(!status.success(), "{who} must not join");
    let log = joiner.log();
    assert!(
        log.contains("could not retrieve cluster information"),
        "{who} fails to join: {log}"
    );
    assert!(
        log.contains("fatal alert"),
        "{who} logs the peers' refusal of its certificate: {log}"
    );
    joiner
}

#[test]
fn auto_tls_cluster_serves_https_and_refuses_plaintext() {
    let Some(etcdctl) = etcdctl() else { return };
    let mut args = FAST.to_vec();
    args.extend(["--auto-tls", "--peer-auto-tls"]);
    let mut c = Cluster::start_with(3, &args, Schemes::HTTPS);
    let tls = owned(SKIP_VERIFY);

    ctl_with_ok(
        &etcdctl,
        &c.members[0].endpoint(),
        &tls,
        &["put", "k", "v1"],
    );
    let got = ctl_with_ok(&etcdctl, &c.members[2].endpoint(), &tls, &["get", "k"]);
    assert_eq!(got, "k\nv1\n");

    let plaintext = format!("http://127.0.0.1:{}", c.members[1].client_port);
    let refused = ctl_with(&etcdctl, &plaintext, &owned(QUICK_FAIL), &["get", "k"]);
    assert!(
        !refused.status.success(),
        "a plaintext client must be refused: {}",
        String::from_utf8_lossy(&refused.stdout)
    );

    // The certificates live in the data directory and survive a restart.
    let m = &mut c.members[1];
    for side in ["client", "peer"] {
        let fixtures = m.data_dir().join("fixtures").join(side);
        assert!(fixtures.join("cert.pem").is_file(), "{side} certificate");
        assert!(fixtures.join("key.pem").is_file(), "{side} key");
    }
    let peer_cert = m.data_dir().join("fixtures/peer/cert.pem");
    let before = std::fs::read(&peer_cert).expect("peer certificate");
    assert!(m.log().contains("starting with peer TLS"));
    m.terminate();
    m.spawn();
    m.wait_ready();
    assert_eq!(
        std::fs::read(&peer_cert).expect("peer certificate"),
        before,
        "a restart reuses the generated certificate"
    );
    let got = ctl_with_ok(&etcdctl, &c.members[1].endpoint(), &tls, &["get", "k"]);
    assert_eq!(got, "k\nv1\n");
}

#[test]
fn mutual_tls_needs_a_client_certificate_from_the_trusted_ca() {
    let Some(etcdctl) = etcdctl() else { return };
    let files = Files::new();
    let ca = Ca::new("etcd test CA");
    let other_ca = Ca::new("someone else's CA");
    let ca_file = files.ca("ca", &ca);
    let server = files.identity("server", &ca.leaf("server"));
    let client = files.identity("client", &ca.leaf("root"));
    let stranger = files.identity("stranger", &other_ca.leaf("root"));
    let m = tls_member(
        &server,
        &[
            "--client-cert-auth".to_string(),
            flag("trusted-ca-file", &ca_file),
        ],
    );
    let ep = m.endpoint();

    let good = etcdctl_tls(&ca_file, Some(&client));
    ctl_with_ok(&etcdctl, &ep, &good, &["put", "k", "v"]);
    assert_eq!(ctl_with_ok(&etcdctl, &ep, &good, &["get", "k"]), "k\nv\n");

    for (what, identity) in [
        ("no client certificate", None),
        ("a certificate from another CA", Some(&stranger)),
    ] {
        let mut args = etcdctl_tls(&ca_file, identity);
        args.extend(owned(QUICK_FAIL));
        let out = ctl_with(&etcdctl, &ep, &args, &["get", "k"]);
        assert!(
            !out.status.success(),
            "a client with {what} must be refused: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    assert!(
        m.log().contains("rejected connection"),
        "refused handshakes are logged"
    );
    // The listener keeps serving after refusing clients.
    assert_eq!(ctl_with_ok(&etcdctl, &ep, &good, &["get", "k"]), "k\nv\n");
}

#[test]
fn peers_refuse_a_member_certified_by_another_ca() {
    let Some(etcdctl) = etcdctl() else { return };
    let files = Files::new();
    let ca = Ca::new("etcd peer CA");
    let other_ca = Ca::new("intruder CA");
    let ca_file = files.ca("peer-ca", &ca);
    let peer = files.identity("peer", &ca.leaf("peer"));
    let intruder_cert = files.identity("intruder", &other_ca.leaf("peer"));
    let peer_flags = |id: &Identity| {
        vec![
            "--peer-client-cert-auth".to_string(),
            flag("peer-trusted-ca-file", &ca_file),
            flag("peer-cert-file", &id.cert),
            flag("peer-key-file", &id.key),
        ]
    };
    let mut args: Vec<String> = owned(FAST);
    args.extend(peer_flags(&peer));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let schemes = Schemes {
        client: "http",
        peer: "https",
    };
    let c = Cluster::start_with(2, &args, schemes);
    let ep = c.endpoints();
    ctl_ok(&etcdctl, &ep, &["put", "before", "1"]);

    let mut intruder_args: Vec<String> = owned(FAST);
    intruder_args.extend(peer_flags(&intruder_cert));
    let _intruder = start_refused_joiner(&etcdctl, &c, intruder_args, "the intruder");
    eventually(Duration::from_secs(10), "members log the refusal", || {
        c.members
            .iter()
            .any(|m| m.log().contains("rejected connection"))
    });

    // Two of three members are a quorum: the cluster keeps serving.
    ctl_ok(&etcdctl, &ep, &["put", "after", "2"]);
    assert_eq!(ctl_ok(&etcdctl, &ep, &["get", "after"]), "after\n2\n");
}

#[test]
fn peer_cert_allowed_cn_admits_only_members_with_that_common_name() {
    let Some(etcdctl) = etcdctl() else { return };
    let files = Files::new();
    let ca = Ca::new("etcd peer CA");
    let ca_file = files.ca("peer-ca", &ca);
    let peer = files.identity("peer", &ca.leaf("etcd-peer"));
    // Same CA, so only the common name policy can refuse it.
    let outsider = files.identity("outsider", &ca.leaf("not-a-peer"));
    let peer_flags = |id: &Identity| {
        vec![
            "--peer-client-cert-auth".to_string(),
            "--peer-cert-allowed-cn=etcd-peer".to_string(),
            flag("peer-trusted-ca-file", &ca_file),
            flag("peer-cert-file", &id.cert),
            flag("peer-key-file", &id.key),
        ]
    };
    let mut args: Vec<String> = owned(FAST);
    args.extend(peer_flags(&peer));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let schemes = Schemes {
        client: "http",
        peer: "https",
    };
    let c = Cluster::start_with(2, &args, schemes);
    let formed = Instant::now();
    let ep = c.endpoints();
    ctl_ok(&etcdctl, &ep, &["put", "before", "1"]);
    assert_eq!(ctl_ok(&etcdctl, &ep, &["get", "before"]), "before\n1\n");

    let mut outsider_args: Vec<String> = owned(FAST);
    outsider_args.extend(peer_flags(&outsider));
    let _joiner = start_refused_joiner(&etcdctl, &c, outsider_args, "a member with another CN");
    eventually(Duration::from_secs(10), "members log the refusal", || {
        c.members.iter().any(|m| {
            let log = m.log();
            log.contains("rejected connection")
                && log.contains("client certificate authentication failed")
        })
    });

    // Two of three members are a quorum: the cluster keeps serving.
    ctl_ok(&etcdctl, &ep, &["put", "after", "2"]);
    assert_eq!(ctl_ok(&etcdctl, &ep, &["get", "after"]), "after\n2\n");

    // Peer listeners time out connections idle for 5 s (etcd's ConnReadTimeout); the
    // raft streams between the members, which their dialers never write to, must
    // outlive that.
    let outlive = Duration::from_secs(7);
    if let Some(rest) = outlive.checked_sub(formed.elapsed()) {
        std::thread::sleep(rest);
    }
    ctl_ok(&etcdctl, &ep, &["put", "later", "3"]);
    for m in &c.members {
        let log = m.log();
        assert!(
            !log.contains("lost TCP streaming connection"),
            "{}: peer streams must not be cut by the peer read timeout: {log}",
            m.name
        );
    }
}

#[test]
fn tls_min_version_refuses_older_handshakes() {
    let files = Files::new();
    let ca = Ca::new("etcd test CA");
    let server = files.identity("server", &ca.leaf("server"));
    let m = tls_member(&server, &owned(&["--tls-min-version=TLS1.3"]));

    let old = handshake(m.client_port, &ca.pem(), &[&TLS12], None);
    assert!(old.is_err(), "a TLS 1.2 handshake must fail: {old:?}");
    let new = handshake(m.client_port, &ca.pem(), &[&TLS13], None).expect("TLS 1.3");
    assert_eq!(new.version, rustls::ProtocolVersion::TLSv1_3);
}

#[test]
fn cipher_suites_restrict_tls12() {
    let files = Files::new();
    let ca = Ca::new("etcd test CA");
    let server = files.identity("server", &ca.leaf("server"));
    let m = tls_member(
        &server,
        &owned(&["--cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]),
    );
    let allowed = cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    let other = cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;

    let refused = handshake(m.client_port, &ca.pem(), &[&TLS12], Some(&[other]));
    assert!(
        refused.is_err(),
        "a suite outside --cipher-suites must not be negotiated: {refused:?}"
    );
    let hs = handshake(m.client_port, &ca.pem(), &[&TLS12], Some(&[other, allowed]))
        .expect("the allowed suite is negotiated");
    assert_eq!(hs.version, rustls::ProtocolVersion::TLSv1_2);
    assert_eq!(hs.suite.suite(), allowed.suite());
}

#[test]
fn unknown_cipher_suite_is_a_startup_error() {
    let mut m = Member::new(&["--cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,NOPE"]);
    m.spawn();
    let status = m.wait_exit(Duration::from_secs(30));
    assert!(!status.success());
    let log = m.log();
    assert!(
        log.contains(r#"unexpected TLS cipher suite \"NOPE\""#),
        "the error names the suite: {log}"
    );
    assert!(
        !log.contains("now serving"),
        "nothing is served with a bad TLS policy: {log}"
    );
}

#[test]
fn allowed_cn_and_allowed_hostname_together_are_a_startup_error() {
    let mut m = Member::new(&[
        "--peer-cert-allowed-cn=etcd-peer",
        "--peer-cert-allowed-hostname=peer.etcd.local",
    ]);
    m.spawn();
    let status = m.wait_exit(Duration::from_secs(30));
    assert!(!status.success());
    let log = m.log();
    assert!(
        log.contains(
            r#"AllowedCN and AllowedHostname are mutually exclusive (cn=\"etcd-peer\", hostname=\"peer.etcd.local\")"#
        ),
        "etcd's error names both settings: {log}"
    );
    assert!(
        !log.contains("now serving"),
        "nothing is served with a contradictory TLS policy: {log}"
    );
}

#[test]
fn replaced_certificate_is_served_without_restart() {
    let Some(etcdctl) = etcdctl() else { return };
    let files = Files::new();
    let ca = Ca::new("etcd test CA");
    let ca_file = files.ca("ca", &ca);
    let first = ca.leaf("server-1");
    let server = files.identity("server", &first);
    let m = tls_member(&server, &[]);

    let shown = handshake(m.client_port, &ca.pem(), &[&TLS13], None).expect("handshake");
    assert_eq!(shown.server_cert, der(&first.cert_pem));

    let second = ca.leaf("server-2");
    files.identity("server", &second);
    let expected = der(&second.cert_pem);
    eventually(Duration::from_secs(10), "the new certificate", || {
        handshake(m.client_port, &ca.pem(), &[&TLS13], None)
            .is_ok_and(|hs| hs.server_cert == expected)
    });
    // Clients verifying against the CA keep working across the rotation.
    let tls = etcdctl_tls(&ca_file, None);
    ctl_with_ok(&etcdctl, &m.endpoint(), &tls, &["put", "k", "v"]);
}
