//! An etcdctl 3.4 session against a single member, each command checked on its output
//! (expected outputs recorded from etcd 3.4 itself).

use crate::support::{Member, ctl, ctl_ok, ctl_stdin, etcdctl};

#[test]
fn etcdctl_kv_session() {
    let Some(ctlbin) = etcdctl() else { return };
    let m = Member::start(&[]);
    let ep = m.endpoint();
    let run = |args: &[&str]| ctl_ok(&ctlbin, &ep, args);

    assert_eq!(run(&["put", "foo", "bar"]), "OK\n"); // rev 2
    assert_eq!(run(&["put", "foo2", "baz"]), "OK\n"); // rev 3
    assert_eq!(run(&["put", "zoo", "1"]), "OK\n"); // rev 4
    assert_eq!(run(&["put", "foo", "bar2"]), "OK\n"); // rev 5

    assert_eq!(run(&["get", "foo"]), "foo\nbar2\n");
    assert_eq!(run(&["get", "--prefix", "foo"]), "foo\nbar2\nfoo2\nbaz\n");
    assert_eq!(run(&["get", "foo", "--rev=2"]), "foo\nbar\n");
    assert_eq!(run(&["get", "--prefix", "foo", "--limit=1"]), "foo\nbar2\n");
    assert_eq!(
        run(&[
            "get",
            "--prefix",
            "foo",
            "--sort-by=MODIFY",
            "--order=DESCEND"
        ]),
        "foo\nbar2\nfoo2\nbaz\n"
    );
    assert_eq!(
        run(&[
            "get",
            "--prefix",
            "foo",
            "--sort-by=MODIFY",
            "--order=ASCEND"
        ]),
        "foo2\nbaz\nfoo\nbar2\n"
    );
    assert_eq!(
        run(&["get", "--prefix", "foo", "--keys-only"]),
        "foo\n\nfoo2\n\n"
    );
    assert_eq!(run(&["get", "--from-key", "foo2"]), "foo2\nbaz\nzoo\n1\n");

    let json: serde_json::Value =
        serde_json::from_str(&run(&["get", "foo", "-w", "json"])).unwrap();
    assert_eq!(json["header"]["revision"], 5);
    assert_eq!(json["count"], 1);
    let kv = &json["kvs"][0];
    assert_eq!(kv["key"], "Zm9v"); // base64("foo")
    assert_eq!(kv["value"], "YmFyMg=="); // base64("bar2")
    assert_eq!(
        (
            kv["create_revision"].as_i64(),
            kv["mod_revision"].as_i64(),
            kv["version"].as_i64()
        ),
        (Some(2), Some(5), Some(2))
    );
    assert_ne!(json["header"]["cluster_id"], 0);
    assert_ne!(json["header"]["member_id"], 0);

    assert_eq!(run(&["del", "--prev-kv", "foo2"]), "1\nfoo2\nbaz\n"); // rev 6
    assert_eq!(run(&["del", "nothing"]), "0\n");

    // Interactive txn: compares, success ops, failure ops, each section ended by a blank line.
    let out = ctl_stdin(
        &ctlbin,
        &ep,
        &["txn", "-i"],
        "value(\"foo\") = \"bar2\"\n\nput foo ok\n\nput x y\n\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.ends_with("SUCCESS\n\nOK\n"), "{stdout}");
    let out = ctl_stdin(
        &ctlbin,
        &ep,
        &["txn", "-i"],
        "value(\"foo\") = \"nope\"\n\nput foo no\n\nget zoo\n\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.ends_with("FAILURE\n\nzoo\n1\n"), "{stdout}");
    assert_eq!(run(&["get", "foo"]), "foo\nok\n");
    assert_eq!(
        run(&["get", "x"]),
        "",
        "the success branch's other put must not run on failure"
    );

    assert_eq!(run(&["compaction", "3"]), "compacted revision 3\n");
    let out = ctl(&ctlbin, &ep, &["get", "foo", "--rev=2"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("Error: etcdserver: mvcc: required revision has been compacted")
    );
    let out = ctl(&ctlbin, &ep, &["get", "foo", "--rev=100"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("Error: etcdserver: mvcc: required revision is a future revision")
    );

    // endpoint status: "endpoint, id, version, db size, is leader, is learner, term, index, applied index, errors"
    let status = run(&["endpoint", "status"]);
    let fields: Vec<&str> = status.trim_end().split(", ").collect();
    assert_eq!(fields[0], ep);
    assert_eq!(fields[2], etcd_server::SERVER_VERSION);
    assert_eq!(fields[4], "true", "single member is leader: {status}");
    assert_eq!(fields[5], "false");
    let json: serde_json::Value =
        serde_json::from_str(&run(&["endpoint", "status", "-w", "json"])).unwrap();
    let st = &json[0]["Status"];
    assert_eq!(st["leader"], st["header"]["member_id"]);
    assert!(st["raftIndex"].as_u64().unwrap() >= 7);
    assert_eq!(st["raftIndex"], st["raftAppliedIndex"]);
    assert!(st["dbSize"].as_u64().unwrap() > 0);

    // etcdctl 3.4 prints the health line on stderr.
    let out = ctl(&ctlbin, &ep, &["endpoint", "health"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let health =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        health.starts_with(&format!("{ep} is healthy: successfully committed proposal")),
        "{health}"
    );
}
