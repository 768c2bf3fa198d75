//! How a local cluster of `etcd` members is laid out and started: names m1..mN on free
//! loopback ports, the `--initial-cluster` that ties them together, and each member's
//! command line. `cargo xtask cluster`, `cargo xtask bench` and the black-box cluster
//! tests all start members through this, so they run the same flags.

use std::net::TcpListener;
use std::path::Path;

/// One member of a local cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSpec {
    pub name: String,
    pub client_port: u16,
    pub peer_port: u16,
    /// `http` or `https`.
    pub client_scheme: &'static str,
    /// `http` or `https`.
    pub peer_scheme: &'static str,
}

impl MemberSpec {
    /// A member on `client_port` and `peer_port` of 127.0.0.1, plain http.
    pub fn new(name: impl Into<String>, client_port: u16, peer_port: u16) -> Self {
        MemberSpec {
            name: name.into(),
            client_port,
            peer_port,
            client_scheme: "http",
            peer_scheme: "http",
        }
    }

    pub fn client_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.client_scheme, self.client_port)
    }

    pub fn peer_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.peer_scheme, self.peer_port)
    }

    /// The member's flags: its name, data dir, URLs and the cluster it bootstraps or
    /// joins (`state` is `new` or `existing`).
    pub fn args(
        &self,
        data_dir: &Path,
        initial_cluster: &str,
        token: &str,
        state: &str,
    ) -> Vec<String> {
        let (client, peer) = (self.client_url(), self.peer_url());
        vec![
            format!("--name={}", self.name),
            format!("--data-dir={}", data_dir.display()),
            format!("--listen-client-urls={client}"),
            format!("--advertise-client-urls={client}"),
            format!("--listen-peer-urls={peer}"),
            format!("--initial-advertise-peer-urls={peer}"),
            format!("--initial-cluster={initial_cluster}"),
            format!("--initial-cluster-state={state}"),
            format!("--initial-cluster-token={token}"),
        ]
    }
}

/// `n` distinct ports nobody listens on right now (another process may still take one
/// before a member binds it).
pub fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    // Hold all listeners until every port is chosen so none repeats.
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// `--initial-cluster` for `members`: `name=peer-url,...`.
pub fn initial_cluster(members: &[MemberSpec]) -> String {
    members
        .iter()
        .map(|m| format!("{}={}", m.name, m.peer_url()))
        .collect::<Vec<_>>()
        .join(",")
}

/// `size` plain-http members named m1..mN on free ports, and their `--initial-cluster`.
pub fn plan(size: usize) -> std::io::Result<(Vec<MemberSpec>, String)> {
    let ports = free_ports(size * 2)?;
    let members: Vec<MemberSpec> = (0..size)
        .map(|i| MemberSpec::new(format!("m{}", i + 1), ports[2 * i], ports[2 * i + 1]))
        .collect();
    let initial = initial_cluster(&members);
    Ok((members, initial))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_names_members_and_ties_them_together() {
        let (members, initial) = plan(3).unwrap();
        let names: Vec<_> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["m1", "m2", "m3"]);
        let mut ports: Vec<u16> = members
            .iter()
            .flat_map(|m| [m.client_port, m.peer_port])
            .collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 6, "every port distinct");
        assert_eq!(
            initial,
            format!(
                "m1=http://127.0.0.1:{},m2=http://127.0.0.1:{},m3=http://127.0.0.1:{}",
                members[0].peer_port, members[1].peer_port, members[2].peer_port
            )
        );
    }

    #[test]
    fn args_carry_the_urls_in_their_schemes() {
        let mut m = MemberSpec::new("m1", 1, 2);
        m.peer_scheme = "https";
        let args = m.args(Path::new("d"), "m1=https://127.0.0.1:2", "t", "existing");
        assert!(args.contains(&"--listen-client-urls=http://127.0.0.1:1".to_string()));
        assert!(args.contains(&"--initial-advertise-peer-urls=https://127.0.0.1:2".to_string()));
        assert!(args.contains(&"--initial-cluster-state=existing".to_string()));
        assert!(args.contains(&"--data-dir=d".to_string()));
    }
}
