//! Every command-line error: etcd's message (as checked against etcd 3.4.23) and its
//! exit code.

use crate::{fail, run};

#[test]
fn command_line_errors_and_exit_codes() {
    let cases: &[(&[&str], &str, i32)] = &[
        (&["--foo"], "flag provided but not defined: -foo", 2),
        (&["-foo=1"], "flag provided but not defined: -foo", 2),
        (&["---name"], "bad flag syntax: ---name", 2),
        (&["-=x"], "bad flag syntax: -=x", 2),
        (
            &["--heartbeat-interval"],
            "flag needs an argument: -heartbeat-interval",
            2,
        ),
        (
            &["--snapshot-count", "abc"],
            "invalid value \"abc\" for flag -snapshot-count: parse error",
            2,
        ),
        (
            &["--snapshot-count=-1"],
            "invalid value \"-1\" for flag -snapshot-count: parse error",
            2,
        ),
        (
            &["--snapshot-count=99999999999999999999999"],
            "invalid value \"99999999999999999999999\" for flag -snapshot-count: value out of range",
            2,
        ),
        (
            &["--debug=abc"],
            "invalid boolean value \"abc\" for -debug: parse error",
            2,
        ),
        (
            &["--version=maybe"],
            "invalid boolean value \"maybe\" for -version: parse error",
            2,
        ),
        (
            &["--initial-cluster-state", "foo"],
            "invalid value \"foo\" for flag -initial-cluster-state: invalid value",
            2,
        ),
        (
            &["--max-concurrent-streams", "abc"],
            "invalid value \"abc\" for flag -max-concurrent-streams: strconv.ParseUint: parsing \"abc\": invalid syntax",
            2,
        ),
        (
            &["--listen-client-urls", "foo"],
            "invalid value \"foo\" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: foo",
            2,
        ),
        (
            &["--listen-client-urls", "http://a:1/x"],
            "invalid value \"http://a:1/x\" for flag -listen-client-urls: URL must not contain a path: http://a:1/x",
            2,
        ),
        (
            &["--listen-client-urls", "http://a"],
            "invalid value \"http://a\" for flag -listen-client-urls: URL address does not have the form \"host:port\": http://a",
            2,
        ),
        (
            &["--cors", "foo"],
            "invalid value \"foo\" for flag -cors: URL scheme must be http, https, unix, or unixs: foo",
            2,
        ),
        (
            &["--grpc-keepalive-min-time", "5"],
            "invalid value \"5\" for flag -grpc-keepalive-min-time: parse error",
            2,
        ),
        (
            &["--log-level", "foo"],
            "invalid value \"foo\" for flag -log-level: must be one of debug, info, warn, error, panic, fatal",
            2,
        ),
        (
            &["--logger", "foo"],
            "invalid value \"foo\" for flag -logger: must be one of zap, capnslog",
            2,
        ),
        (
            &["--auto-compaction-mode", "foo"],
            "invalid value \"foo\" for flag -auto-compaction-mode: must be one of periodic, revision",
            2,
        ),
        (
            &["--proxy", "maybe"],
            "invalid value \"maybe\" for flag -proxy: invalid value",
            2,
        ),
        (&["positional"], "'positional' is not a valid flag", 1),
        (&["--", "--name"], "'--name' is not a valid flag", 1),
        (&["--name", "a", "b"], "'b' is not a valid flag", 1),
    ];
    for (args, message, code) in cases {
        let e = fail(args, &[]);
        assert_eq!(e.to_string(), *message, "{args:?}");
        assert_eq!(e.exit_code(), *code, "{args:?}");
        assert_eq!(e.shows_usage(), *code == 2, "{args:?}");
    }
}

#[test]
fn validation_errors_exit_1() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--election-timeout", "1"],
            "--election-timeout[1ms] should be at least as 5 times as --heartbeat-interval[100ms]",
        ),
        (
            &["--election-timeout", "60000"],
            "--election-timeout[60000ms] is too long, and should be set less than 50000ms",
        ),
        (
            &["--heartbeat-interval", "0"],
            "--heartbeat-interval must be >0 (set to 0ms)",
        ),
        (
            &["--snapshot-count", "0"],
            "--snapshot-count must be >0 (set to 0)",
        ),
        (
            &["--max-request-bytes", "0"],
            "--max-request-bytes must be >0 (set to 0)",
        ),
        (
            &["--listen-client-urls", "http://127.0.0.1:2379"],
            "--advertise-client-urls is required when --listen-client-urls is set explicitly",
        ),
        (
            &[
                "--listen-client-urls",
                "http://example.com:2379",
                "--advertise-client-urls=http://a:1",
            ],
            "expected IP in URL for binding (http://example.com:2379)",
        ),
        (
            &[
                "--name",
                "n1",
                "--initial-cluster",
                "n2=http://localhost:2380",
            ],
            "couldn't find local name \"n1\" in the initial cluster configuration",
        ),
        (
            &["--initial-cluster", "default=http://10.0.0.1:2380"],
            "--initial-cluster has default=http://10.0.0.1:2380 but missing from --initial-advertise-peer-urls=http://localhost:2380 (resolved urls: \"http://localhost:2380\" != \"http://10.0.0.1:2380\")",
        ),
        (
            &["--initial-cluster", "default"],
            "URL scheme must be http, https, unix, or unixs: ",
        ),
        (
            &[
                "--discovery-srv",
                "example.com",
                "--initial-cluster",
                "default=http://localhost:2380",
            ],
            "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", \"discovery\" or \"discovery-srv\"",
        ),
        (
            &[
                "--tls-min-version",
                "TLS1.3",
                "--cipher-suites",
                "TLS_AES_128_GCM_SHA256",
            ],
            "cipher suites cannot be configured when only TLS1.3 is enabled",
        ),
        (
            &["--log-outputs", "default,stderr"],
            "multi logoutput for \"default\" is not supported yet",
        ),
    ];
    for (args, message) in cases {
        let e = run(args).validate().unwrap_err();
        assert_eq!(e.to_string(), *message, "{args:?}");
        assert_eq!(e.exit_code(), 1, "{args:?}");
        assert!(!e.shows_usage());
    }
}
