//! Clusters of member processes for black-box tests: started together on free ports,
//! with the helpers cluster tests need (leader, kill, restart, join, partition).

use std::time::{Duration, Instant};

use super::{Member, rt};

/// Environment variable naming a file whose existence cuts a member off from its peers
/// (fault injection, read by the binary).
pub const BLACKHOLE_ENV: &str = "ETCDRS_FAILPOINT_PEER_BLACKHOLE_FILE";

/// etcd's HealthInterval: with `--strict-reconfig-check` (the default) a member refuses
/// membership changes with "etcdserver: unhealthy cluster" until it has been connected to
/// every voter for this long, e.g. for a few seconds after a cluster starts.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(5);

pub struct Cluster {
    pub members: Vec<Member>,
    pub token: String,
}

/// URL schemes of a cluster's client and peer URLs.
#[derive(Clone, Copy, Debug)]
pub struct Schemes {
    pub client: &'static str,
    pub peer: &'static str,
}

impl Schemes {
    pub const HTTP: Schemes = Schemes {
        client: "http",
        peer: "http",
    };
    pub const HTTPS: Schemes = Schemes {
        client: "https",
        peer: "https",
    };
}

impl Cluster {
    /// `size` members named m1..mN, started and ready.
    pub fn start(size: usize, extra_args: &[&str]) -> Cluster {
        Cluster::start_with(size, extra_args, Schemes::HTTP)
    }

    /// Like [`Cluster::start`], with the given URL schemes.
    pub fn start_with(size: usize, extra_args: &[&str], schemes: Schemes) -> Cluster {
        let mut c = Cluster::configure(size, extra_args, schemes);
        // All members start before any waits: none is ready until a quorum runs.
        for m in &mut c.members {
            m.spawn();
        }
        for m in &mut c.members {
            m.wait_ready();
        }
        c
    }

    /// `size` members named m1..mN, configured as one new cluster, not started.
    pub fn configure(size: usize, extra_args: &[&str], schemes: Schemes) -> Cluster {
        let mut members: Vec<Member> = (0..size)
            .map(|i| {
                let mut m = Member::new(extra_args);
                m.name = format!("m{}", i + 1);
                m.client_scheme = schemes.client;
                m.peer_scheme = schemes.peer;
                m
            })
            .collect();
        let specs: Vec<_> = members.iter().map(Member::spec).collect();
        let initial = etcd_launcher::initial_cluster(&specs);
        let token = format!("cluster-{}", members[0].peer_port);
        for m in &mut members {
            m.initial_cluster = Some(initial.clone());
            m.token = token.clone();
            let blackhole = m.dir.path().join("blackhole");
            m.env
                .push((BLACKHOLE_ENV.into(), blackhole.display().to_string()));
        }
        Cluster { members, token }
    }

    /// Waits until the started cluster accepts membership changes: every member connects
    /// to its peers before it is ready, so [`HEALTH_INTERVAL`] (plus a margin) after
    /// [`Cluster::start`] returned, all have been connected for the health interval.
    pub fn wait_reconfigurable(&self) {
        std::thread::sleep(HEALTH_INTERVAL + Duration::from_millis(500));
    }

    /// `--initial-cluster` of the members plus `extra` (`name=peer-url`), for a member
    /// joining the cluster.
    pub fn initial_cluster_with(&self, extra: &str) -> String {
        self.members
            .iter()
            .map(|m| format!("{}={}", m.name, m.peer_url()))
            .chain([extra.to_string()])
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn endpoints(&self) -> String {
        self.members
            .iter()
            .filter(|m| m.has_child())
            .map(Member::endpoint)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The index of the member every running member agrees is leader, waiting up to
    /// `timeout` for one.
    pub fn leader(&mut self, timeout: Duration) -> usize {
        let all: Vec<usize> = (0..self.members.len()).collect();
        self.leader_among(&all, timeout)
    }

    /// Like [`Cluster::leader`], asking only the members in `among`.
    pub fn leader_among(&mut self, among: &[usize], timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.current_leader(among) {
                return i;
            }
            assert!(
                Instant::now() < deadline,
                "no agreed leader within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn current_leader(&mut self, among: &[usize]) -> Option<usize> {
        let running: Vec<usize> = among
            .iter()
            .copied()
            .filter(|&i| self.members[i].is_running())
            .collect();
        let r = rt();
        let mut leaders = Vec::new();
        let mut ids = Vec::new();
        for &i in &running {
            let st = r.block_on(async {
                let mut c = etcd_client::Client::connect([self.members[i].endpoint()], None)
                    .await
                    .ok()?;
                tokio::time::timeout(Duration::from_secs(2), c.status())
                    .await
                    .ok()?
                    .ok()
            })?;
            leaders.push(st.leader());
            ids.push(st.header()?.member_id());
        }
        let first = *leaders.first()?;
        if first == 0 || leaders.iter().any(|l| *l != first) {
            return None;
        }
        ids.iter().position(|id| *id == first).map(|p| running[p])
    }

    /// Cuts member `i` off from every peer (both directions) or heals it, and waits until
    /// the member has logged that it did.
    pub fn partition(&self, i: usize, cut: bool) {
        let m = &self.members[i];
        let marker = format!("\"cut\":{cut}");
        let before = m.log().matches(&marker).count();
        let file = m.dir.path().join("blackhole");
        if cut {
            std::fs::write(&file, b"").expect("create blackhole file");
        } else {
            let _ = std::fs::remove_file(&file);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while m.log().matches(&marker).count() == before {
            assert!(
                Instant::now() < deadline,
                "member {} did not apply the partition switch",
                m.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
