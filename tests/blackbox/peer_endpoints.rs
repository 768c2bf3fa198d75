//! The peer port as other members and operators see it (/version, /members), and a
//! restart from an existing data directory, which ignores the --initial-cluster* flags.

use crate::http_endpoints::http_get;
use crate::support::{Member, rt};

#[test]
fn peer_port_serves_version_and_members() {
    let m = Member::start(&[]);
    let (code, body) = http_get(m.peer_port, "/version");
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["etcdserver"], etcd_server::SERVER_VERSION);

    let (code, body) = http_get(m.peer_port, "/members");
    assert_eq!(code, 200, "{body}");
    let members: serde_json::Value = serde_json::from_str(&body).expect("json");
    let members = members.as_array().expect("an array of members");
    assert_eq!(members.len(), 1, "{body}");
    assert_eq!(members[0]["name"], "default");
    assert_eq!(members[0]["peerURLs"][0], m.peer_url());
    assert_eq!(members[0]["clientURLs"][0], m.endpoint());
}

#[test]
fn a_restart_ignores_the_initial_cluster_flags() {
    let mut m = Member::start(&[]);
    let (cluster_id, member_id) = rt().block_on(async {
        let mut c = m.client().await;
        c.put("kept", "yes", None).await.expect("put");
        let h = c.status().await.expect("status");
        let h = h.header().expect("header");
        (h.cluster_id(), h.member_id())
    });
    m.terminate();
    // Flags that would bootstrap another cluster: another token and a second member
    // that does not exist. From an existing data dir they are ignored, as etcd does.
    m.token = "another-token".into();
    m.initial_cluster = Some(format!("default={},ghost=http://127.0.0.1:1", m.peer_url()));
    m.cluster_state = "existing";
    m.spawn();
    m.wait_ready();
    rt().block_on(async {
        let mut c = m.client().await;
        let h = c.status().await.expect("status");
        let h = h.header().expect("header");
        assert_eq!((h.cluster_id(), h.member_id()), (cluster_id, member_id));
        let r = c.get("kept", None).await.expect("get");
        assert_eq!(r.kvs()[0].value_str().unwrap(), "yes");
        assert_eq!(c.member_list().await.expect("members").members().len(), 1);
    });
}
