//! The standard workloads of the comparison, with etcd benchmark's defaults where the
//! issue states nothing, and how each is pointed at a cluster.

use anyhow::{Context, Result, bail};
use benchmark::{
    Consistency, LeaseKeepaliveOptions, Options, Outcome, PutOptions, RangeOptions, TxnPutOptions,
    WatchOptions, Workload,
};
use etcd_api::etcdserverpb::PutRequest;
use etcd_api::etcdserverpb::kv_client::KvClient;

/// The key the range workloads read, written before they run (as etcd's docs do with
/// `etcdctl put foo bar`).
const RANGE_KEY: &str = "foo";
const RANGE_VALUE: &str = "bar";

/// Where a workload's requests go in a cluster of more than one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Writes: `--target-leader`.
    Leader,
    /// Reads: connections spread round-robin over all members.
    AllMembers,
}

/// One standard workload.
#[derive(Debug, Clone)]
pub struct Standard {
    /// Name in reports and for `--only`.
    pub name: &'static str,
    pub clients: usize,
    pub conns: usize,
    pub target: Target,
    pub workload: Workload,
}

/// Every standard workload, in the order they run against each cluster.
pub fn standard(quick: bool) -> Vec<Standard> {
    let scale = |full: u64, small: u64| if quick { small } else { full };
    let range = |consistency| {
        Workload::Range(RangeOptions {
            key: RANGE_KEY.into(),
            consistency,
            total: scale(100_000, 20_000),
            ..RangeOptions::default()
        })
    };
    vec![
        Standard {
            name: "put-256",
            clients: 256,
            conns: 64,
            target: Target::Leader,
            workload: Workload::Put(PutOptions {
                total: scale(100_000, 20_000),
                key_size: 8,
                val_size: 256,
                key_space_size: 100_000,
                sequential_keys: false,
            }),
        },
        Standard {
            name: "put-1",
            clients: 1,
            conns: 1,
            target: Target::Leader,
            workload: Workload::Put(PutOptions {
                total: scale(2_000, 500),
                val_size: 256,
                ..PutOptions::default()
            }),
        },
        Standard {
            name: "range-l-256",
            clients: 256,
            conns: 64,
            target: Target::AllMembers,
            workload: range(Consistency::Linearizable),
        },
        Standard {
            name: "range-s-256",
            clients: 256,
            conns: 64,
            target: Target::AllMembers,
            workload: range(Consistency::Serializable),
        },
        Standard {
            name: "txn-put-64",
            clients: 64,
            conns: 16,
            target: Target::Leader,
            workload: Workload::TxnPut(TxnPutOptions {
                total: scale(20_000, 5_000),
                val_size: 256,
                key_space_size: 100_000,
                ..TxnPutOptions::default()
            }),
        },
        Standard {
            name: "watch-1000",
            clients: 1,
            conns: 3,
            target: Target::AllMembers,
            workload: Workload::Watch(WatchOptions {
                put_total: scale(1_000, 200),
                ..WatchOptions::default()
            }),
        },
        Standard {
            name: "lease-keepalive",
            clients: 1,
            conns: 1,
            target: Target::Leader,
            workload: Workload::LeaseKeepalive(LeaseKeepaliveOptions {
                total: scale(10_000, 2_000),
            }),
        },
    ]
}

/// The standard workloads, or only the one named.
pub fn select(only: Option<&str>, quick: bool) -> Result<Vec<Standard>> {
    let all = standard(quick);
    let Some(only) = only else {
        return Ok(all);
    };
    let names: Vec<&str> = all.iter().map(|w| w.name).collect();
    match all.into_iter().find(|w| w.name == only) {
        Some(w) => Ok(vec![w]),
        None => bail!(
            "unknown workload {only:?}; expected one of {}",
            names.join(", ")
        ),
    }
}

impl Standard {
    /// The equivalent `benchmark` command line (endpoints left out).
    pub fn command_line(&self) -> String {
        let mut line = match &self.workload {
            Workload::Put(o) => format!(
                "put --total {} --key-size {} --val-size {} --key-space-size {}",
                o.total, o.key_size, o.val_size, o.key_space_size
            ),
            Workload::Range(o) => format!(
                "range {} --consistency {} --total {}",
                String::from_utf8_lossy(&o.key),
                match o.consistency {
                    Consistency::Linearizable => "l",
                    Consistency::Serializable => "s",
                },
                o.total
            ),
            Workload::TxnPut(o) => format!(
                "txn-put --total {} --txn-ops {} --key-size {} --val-size {} --key-space-size {}",
                o.total, o.txn_ops, o.key_size, o.val_size, o.key_space_size
            ),
            Workload::Watch(o) => format!(
                "watch --watchers {} --streams {} --watched-key-total {} --put-total {}",
                o.watchers, o.streams, o.watched_key_total, o.put_total
            ),
            Workload::WatchLatency(o) => format!(
                "watch-latency --put-total {} --streams {} --watchers-per-stream {}",
                o.put_total, o.streams, o.watchers_per_stream
            ),
            Workload::LeaseKeepalive(o) => format!("lease-keepalive --total {}", o.total),
        };
        line.push_str(&format!(
            " --clients {} --conns {}",
            self.clients, self.conns
        ));
        if self.target == Target::Leader {
            line.push_str(" [--target-leader with 3 members]");
        }
        line
    }

    /// The connection options for a cluster with these client URLs.
    pub fn options(&self, endpoints: &[String]) -> Options {
        Options {
            endpoints: endpoints.to_vec(),
            conns: self.conns,
            clients: self.clients,
            target_leader: endpoints.len() > 1 && self.target == Target::Leader,
            progress: false,
            ..Options::default()
        }
    }

    /// Prepares the cluster (the range workloads need their key) and runs the workload.
    pub async fn run(&self, endpoints: &[String]) -> Result<Outcome> {
        if matches!(self.workload, Workload::Range(_)) {
            write_range_key(endpoints).await?;
        }
        benchmark::run(&self.options(endpoints), &self.workload)
            .await
            .with_context(|| format!("benchmark {}", self.name))
    }
}

async fn write_range_key(endpoints: &[String]) -> Result<()> {
    let endpoint = endpoints.first().context("a cluster without endpoints")?;
    let mut kv = KvClient::connect(endpoint.clone())
        .await
        .with_context(|| format!("connect to {endpoint}"))?;
    kv.put(PutRequest {
        key: RANGE_KEY.into(),
        value: RANGE_VALUE.into(),
        ..PutRequest::default()
    })
    .await
    .with_context(|| format!("write the range key {RANGE_KEY:?}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(w: &Workload) -> u64 {
        match w {
            Workload::Put(o) => o.total,
            Workload::Range(o) => o.total,
            Workload::TxnPut(o) => o.total,
            Workload::Watch(o) => o.put_total,
            Workload::WatchLatency(o) => o.put_total,
            Workload::LeaseKeepalive(o) => o.total,
        }
    }

    #[test]
    fn names_are_unique_and_workloads_valid() {
        let all = standard(false);
        let mut names: Vec<&str> = all.iter().map(|w| w.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for w in &all {
            assert!(w.workload.validate().is_ok(), "{}", w.name);
            assert!(w.options(&["http://a:1".into()]).validate().is_ok());
        }
    }

    #[test]
    fn the_issue_s_put_256_and_quick_totals() {
        let w = &select(Some("put-256"), false).unwrap()[0];
        assert_eq!((w.clients, w.conns), (256, 64));
        assert_eq!(
            w.command_line(),
            "put --total 100000 --key-size 8 --val-size 256 --key-space-size 100000 \
             --clients 256 --conns 64 [--target-leader with 3 members]"
        );
        for (full, quick) in standard(false).iter().zip(standard(true).iter()) {
            assert!(
                total(&quick.workload) < total(&full.workload),
                "{}",
                full.name
            );
        }
        let quick = select(Some("range-l-256"), true).unwrap();
        assert_eq!(total(&quick[0].workload), 20_000);
    }

    #[test]
    fn writes_target_the_leader_only_in_clusters() {
        let put = &select(Some("put-1"), false).unwrap()[0];
        let one = ["http://a:1".to_owned()];
        let three = ["http://a:1", "http://b:2", "http://c:3"].map(String::from);
        assert!(!put.options(&one).target_leader);
        assert!(put.options(&three).target_leader);
        let range = &select(Some("range-s-256"), false).unwrap()[0];
        let options = range.options(&three);
        assert!(!options.target_leader);
        assert_eq!(options.endpoints.len(), 3);
    }

    #[test]
    fn unknown_workload_names_the_choices() {
        let err = select(Some("nope"), false).unwrap_err().to_string();
        assert!(
            err.contains("put-256") && err.contains("lease-keepalive"),
            "{err}"
        );
        assert_eq!(select(None, true).unwrap().len(), standard(true).len());
    }
}
