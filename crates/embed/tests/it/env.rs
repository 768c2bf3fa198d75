//! `ETCD_*` variables through `parse`: use, unknown variables, conflicts, precedence.

use std::time::Duration;

use crate::{fail, run_with, url_strings};

#[test]
fn variables_set_flags_not_given_on_the_command_line() {
    let (c, notices) = run_with(
        &["--name=n1"],
        &[
            ("ETCD_DATA_DIR", "/data"),
            ("ETCD_HEARTBEAT_INTERVAL", "200"),
            ("ETCD_ELECTION_TIMEOUT", "2000"),
            ("ETCD_LISTEN_CLIENT_URLS", "http://127.0.0.1:2379"),
            ("ETCD_ADVERTISE_CLIENT_URLS", "http://127.0.0.1:2379"),
            ("ETCD_AUTO_TLS", "true"),
            ("ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL", "1m"),
            ("HOME", "/root"),
        ],
    );
    assert_eq!(c.name, "n1");
    assert_eq!(c.data_dir.to_str(), Some("/data"));
    assert_eq!(c.heartbeat_interval, Duration::from_millis(200));
    assert_eq!(c.election_timeout, Duration::from_secs(2));
    assert_eq!(
        url_strings(&c.listen_client_urls),
        ["http://127.0.0.1:2379"]
    );
    assert_eq!(
        url_strings(&c.advertise_client_urls),
        ["http://127.0.0.1:2379"]
    );
    assert!(c.client_tls.auto_tls);
    assert_eq!(
        c.other_duration("watch-progress-notify-interval"),
        Some(Duration::from_secs(60))
    );
    // Notices come in flag-name order, as etcd visits its flags.
    let used: Vec<&str> = notices
        .iter()
        .filter(|n| n.starts_with("recognized and used"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        used,
        [
            "recognized and used environment variable ETCD_ADVERTISE_CLIENT_URLS=http://127.0.0.1:2379",
            "recognized and used environment variable ETCD_AUTO_TLS=true",
            "recognized and used environment variable ETCD_DATA_DIR=/data",
            "recognized and used environment variable ETCD_ELECTION_TIMEOUT=2000",
            "recognized and used environment variable ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL=1m",
            "recognized and used environment variable ETCD_HEARTBEAT_INTERVAL=200",
            "recognized and used environment variable ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:2379",
        ]
    );
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn variables_count_as_explicitly_set() {
    let (c, _) = run_with(&[], &[("ETCD_LISTEN_CLIENT_URLS", "http://127.0.0.1:2379")]);
    assert!(c.advertise_client_urls.is_empty());
    assert!(c.validate().is_err());
    let (c, _) = run_with(&[], &[("ETCD_NAME", "n2")]);
    assert_eq!(c.data_dir.to_str(), Some("n2.etcd"));
    assert_eq!(c.initial_cluster, "n2=http://localhost:2380");
}

#[test]
fn unknown_variables_are_reported_not_rejected() {
    let (c, notices) = run_with(
        &[],
        &[
            ("ETCD_UNKNOWN_THING", "x"),
            ("ETCD_NAME", ""),
            ("ETCDCTL_API", "3"),
            ("ETCD_NAME2", "y"),
        ],
    );
    assert_eq!(c.name, "default");
    assert_eq!(
        notices,
        [
            "unrecognized environment variable ETCD_UNKNOWN_THING=x",
            "unrecognized environment variable ETCD_NAME=",
            "unrecognized environment variable ETCD_NAME2=y",
        ]
    );
}

#[test]
fn a_variable_shadowed_by_a_flag_is_a_conflict() {
    let e = fail(&["--name", "bar"], &[("ETCD_NAME", "foo")]);
    assert_eq!(
        e.to_string(),
        "conflicting environment variable \"ETCD_NAME\" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)"
    );
    assert_eq!(e.exit_code(), 1);
}

#[test]
fn an_empty_variable_for_a_given_flag_is_still_a_conflict() {
    // etcd skips empty values, then finds the variable shadowed.
    let e = fail(&["--name", "bar"], &[("ETCD_NAME", "")]);
    assert!(
        e.to_string()
            .starts_with("conflicting environment variable \"ETCD_NAME\"")
    );
}

#[test]
fn bad_values_name_the_variable_and_exit_1() {
    let e = fail(&[], &[("ETCD_SNAPSHOT_COUNT", "abc")]);
    assert_eq!(
        e.to_string(),
        "invalid value \"abc\" for ETCD_SNAPSHOT_COUNT: parse error"
    );
    assert_eq!(e.exit_code(), 1);
    let e = fail(&[], &[("ETCD_FORCE_NEW_CLUSTER", "yes")]);
    assert_eq!(
        e.to_string(),
        "invalid value \"yes\" for ETCD_FORCE_NEW_CLUSTER: parse error"
    );
}

#[test]
fn etcd_version_from_container_images_is_ignored() {
    let (c, notices) = run_with(&[], &[("ETCD_VERSION", "v3.5.9")]);
    assert_eq!(c.name, "default");
    assert_eq!(
        notices,
        ["cannot set special environment variable ETCD_VERSION=v3.5.9"]
    );
}

#[test]
fn help_and_version_ignore_the_environment() {
    let env = crate::env_of(&[("ETCD_SNAPSHOT_COUNT", "abc")]);
    assert!(matches!(
        etcd_embed::config::parse(&crate::argv(&["--version"]), &env),
        Ok(etcd_embed::config::ParseOutcome::Version)
    ));
}
