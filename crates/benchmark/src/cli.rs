//! The command line, with etcd benchmark's flag names, turned into [`Options`] and a
//! [`Workload`].

use bytes::Bytes;
use clap::{Args, Parser, Subcommand};

use crate::{
    Consistency, Error, LeaseKeepaliveOptions, Options, PutOptions, RangeOptions, TxnPutOptions,
    WatchLatencyOptions, WatchOptions, Workload,
};

/// A low-level benchmark tool for etcd3, speaking only the v3 gRPC API.
#[derive(Debug, Parser)]
#[command(name = "benchmark", version)]
pub struct Cli {
    /// gRPC endpoints (host:port or http://host:port), comma-separated.
    #[arg(
        long,
        global = true,
        value_delimiter = ',',
        default_value = "127.0.0.1:2379"
    )]
    pub endpoints: Vec<String>,
    /// Total number of gRPC connections.
    #[arg(long, global = true, default_value_t = 1)]
    pub conns: usize,
    /// Total number of gRPC clients.
    #[arg(long, global = true, default_value_t = 1)]
    pub clients: usize,
    /// Total number of requests (default per command).
    #[arg(long, global = true)]
    pub total: Option<u64>,
    /// Send requests only to the leader.
    #[arg(long, global = true)]
    pub target_leader: bool,
    /// Print the summary as one JSON object.
    #[arg(long, global = true)]
    pub json: bool,
    /// Hide the progress bar (always hidden when stdout is not a terminal).
    #[arg(long, global = true)]
    pub no_progress: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Benchmark put.
    Put(PutArgs),
    /// Benchmark range.
    Range(RangeArgs),
    /// Benchmark put with transactions.
    TxnPut(TxnPutArgs),
    /// Benchmark watch fan-out: put-to-delivery latency at every watcher.
    Watch(WatchArgs),
    /// Benchmark the latency between a put's response and the watch event.
    WatchLatency(WatchLatencyArgs),
    /// Benchmark lease keepalive.
    LeaseKeepalive,
}

#[derive(Debug, Args)]
pub struct PutArgs {
    /// Key size of put request.
    #[arg(long, default_value_t = PutOptions::default().key_size)]
    pub key_size: usize,
    /// Value size of put request.
    #[arg(long, default_value_t = PutOptions::default().val_size)]
    pub val_size: usize,
    /// Maximum possible keys.
    #[arg(long, default_value_t = PutOptions::default().key_space_size)]
    pub key_space_size: u64,
    /// Use sequential keys.
    #[arg(long)]
    pub sequential_keys: bool,
}

#[derive(Debug, Args)]
pub struct RangeArgs {
    /// First key of the range.
    pub key: String,
    /// End of the range (exclusive); the single key when omitted.
    pub end: Option<String>,
    /// Linearizable (l) or Serializable (s).
    #[arg(long, default_value = "l")]
    pub consistency: String,
    /// Maximum number of results per range request (0 is no limit).
    #[arg(long, default_value_t = 0)]
    pub limit: i64,
    /// Only return the count of keys.
    #[arg(long)]
    pub count_only: bool,
}

#[derive(Debug, Args)]
pub struct TxnPutArgs {
    /// Number of puts per txn.
    #[arg(long, default_value_t = TxnPutOptions::default().txn_ops)]
    pub txn_ops: usize,
    /// Key size of txn put.
    #[arg(long, default_value_t = TxnPutOptions::default().key_size)]
    pub key_size: usize,
    /// Value size of txn put.
    #[arg(long, default_value_t = TxnPutOptions::default().val_size)]
    pub val_size: usize,
    /// Maximum possible keys.
    #[arg(long, default_value_t = TxnPutOptions::default().key_space_size)]
    pub key_space_size: u64,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Total number of watchers.
    #[arg(long, default_value_t = WatchOptions::default().watchers)]
    pub watchers: usize,
    /// Total watch streams.
    #[arg(long, default_value_t = WatchOptions::default().streams)]
    pub streams: usize,
    /// Total number of keys to be watched.
    #[arg(long, default_value_t = WatchOptions::default().watched_key_total)]
    pub watched_key_total: usize,
    /// Number of put requests.
    #[arg(long, default_value_t = WatchOptions::default().put_total)]
    pub put_total: u64,
    /// Number of keys to put per second (0 is no limit).
    #[arg(long, default_value_t = WatchOptions::default().put_rate)]
    pub put_rate: u64,
    /// Key size of watch request.
    #[arg(long, default_value_t = WatchOptions::default().key_size)]
    pub key_size: usize,
}

#[derive(Debug, Args)]
pub struct WatchLatencyArgs {
    /// Total number of put requests.
    #[arg(long, default_value_t = WatchLatencyOptions::default().put_total)]
    pub put_total: u64,
    /// Number of keys to put per second (0 is no limit).
    #[arg(long, default_value_t = WatchLatencyOptions::default().put_rate)]
    pub put_rate: u64,
    /// Total watch streams.
    #[arg(long, default_value_t = WatchLatencyOptions::default().streams)]
    pub streams: usize,
    /// Total watchers per stream.
    #[arg(long, default_value_t = WatchLatencyOptions::default().watchers_per_stream)]
    pub watchers_per_stream: usize,
    /// Key size of watch response.
    #[arg(long, default_value_t = WatchLatencyOptions::default().key_size)]
    pub key_size: usize,
    /// Value size of watch response.
    #[arg(long, default_value_t = WatchLatencyOptions::default().val_size)]
    pub val_size: usize,
}

/// A parsed command line, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub options: Options,
    pub workload: Workload,
    /// Print JSON instead of text.
    pub json: bool,
}

impl Cli {
    /// Resolves per-command defaults; the bar shows only on a terminal without
    /// `--no-progress`.
    pub fn into_invocation(self, stdout_is_terminal: bool) -> Result<Invocation, Error> {
        let total = self.total;
        let workload = match self.command {
            Command::Put(a) => Workload::Put(PutOptions {
                total: total.unwrap_or(PutOptions::default().total),
                key_size: a.key_size,
                val_size: a.val_size,
                key_space_size: a.key_space_size,
                sequential_keys: a.sequential_keys,
            }),
            Command::Range(a) => Workload::Range(RangeOptions {
                key: Bytes::from(a.key),
                end: a.end.map(Bytes::from).unwrap_or_default(),
                consistency: a.consistency.parse::<Consistency>()?,
                total: total.unwrap_or(RangeOptions::default().total),
                limit: a.limit,
                count_only: a.count_only,
            }),
            Command::TxnPut(a) => Workload::TxnPut(TxnPutOptions {
                total: total.unwrap_or(TxnPutOptions::default().total),
                txn_ops: a.txn_ops,
                key_size: a.key_size,
                val_size: a.val_size,
                key_space_size: a.key_space_size,
            }),
            Command::Watch(a) => {
                if total.is_some() {
                    return Err(Error::TotalNotApplicable { workload: "watch" });
                }
                Workload::Watch(WatchOptions {
                    watchers: a.watchers,
                    streams: a.streams,
                    watched_key_total: a.watched_key_total,
                    put_total: a.put_total,
                    put_rate: a.put_rate,
                    key_size: a.key_size,
                })
            }
            Command::WatchLatency(a) => {
                if total.is_some() {
                    return Err(Error::TotalNotApplicable {
                        workload: "watch-latency",
                    });
                }
                Workload::WatchLatency(WatchLatencyOptions {
                    put_total: a.put_total,
                    put_rate: a.put_rate,
                    streams: a.streams,
                    watchers_per_stream: a.watchers_per_stream,
                    key_size: a.key_size,
                    val_size: a.val_size,
                })
            }
            Command::LeaseKeepalive => Workload::LeaseKeepalive(LeaseKeepaliveOptions {
                total: total.unwrap_or(LeaseKeepaliveOptions::default().total),
            }),
        };
        Ok(Invocation {
            options: Options {
                endpoints: self.endpoints,
                conns: self.conns,
                clients: self.clients,
                target_leader: self.target_leader,
                progress: stdout_is_terminal && !self.no_progress,
                ..Options::default()
            },
            workload,
            json: self.json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Invocation, Error> {
        let cli = Cli::try_parse_from(std::iter::once("benchmark").chain(args.iter().copied()))
            .map_err(|e| Error::Setup {
                step: "parse",
                message: e.to_string(),
            })?;
        cli.into_invocation(true)
    }

    #[test]
    fn put_defaults_are_etcds() {
        let inv = parse(&["put"]).unwrap();
        assert_eq!(inv.workload, Workload::Put(PutOptions::default()));
        assert_eq!(inv.options.endpoints, ["127.0.0.1:2379"]);
        assert_eq!((inv.options.conns, inv.options.clients), (1, 1));
        assert!(inv.options.progress);
        assert!(!inv.json);
    }

    #[test]
    fn global_flags_anywhere() {
        let inv = parse(&[
            "--endpoints=a:1,http://b:2",
            "--conns",
            "100",
            "put",
            "--clients",
            "1000",
            "--total",
            "5",
            "--sequential-keys",
            "--key-space-size",
            "7",
            "--json",
            "--no-progress",
            "--target-leader",
        ])
        .unwrap();
        assert_eq!(inv.options.endpoints, ["a:1", "http://b:2"]);
        assert_eq!((inv.options.conns, inv.options.clients), (100, 1000));
        assert!(inv.json && inv.options.target_leader && !inv.options.progress);
        let Workload::Put(put) = inv.workload else {
            panic!("not put");
        };
        assert_eq!((put.total, put.key_space_size), (5, 7));
        assert!(put.sequential_keys);
    }

    #[test]
    fn progress_hidden_off_terminal() {
        let cli = Cli::try_parse_from(["benchmark", "lease-keepalive"]).unwrap();
        let inv = cli.into_invocation(false).unwrap();
        assert!(!inv.options.progress);
        assert_eq!(
            inv.workload,
            Workload::LeaseKeepalive(LeaseKeepaliveOptions { total: 10_000 })
        );
    }

    #[test]
    fn range_arguments() {
        let inv = parse(&["range", "foo", "fop", "--consistency", "s", "--limit", "3"]).unwrap();
        let Workload::Range(r) = inv.workload else {
            panic!("not range");
        };
        assert_eq!((&r.key[..], &r.end[..]), (&b"foo"[..], &b"fop"[..]));
        assert_eq!(r.consistency, Consistency::Serializable);
        assert_eq!((r.limit, r.total), (3, 10_000));
        let inv = parse(&["range", "k"]).unwrap();
        assert!(
            matches!(inv.workload, Workload::Range(r) if r.end.is_empty()
            && r.consistency == Consistency::Linearizable)
        );
        assert!(matches!(
            parse(&["range", "k", "--consistency", "x"]),
            Err(Error::InvalidConsistency { .. })
        ));
    }

    #[test]
    fn watch_commands() {
        let inv = parse(&[
            "watch",
            "--watchers",
            "20",
            "--streams",
            "2",
            "--put-rate",
            "5",
        ])
        .unwrap();
        assert_eq!(
            inv.workload,
            Workload::Watch(WatchOptions {
                watchers: 20,
                streams: 2,
                put_rate: 5,
                ..WatchOptions::default()
            })
        );
        let inv = parse(&["watch-latency", "--watchers-per-stream", "3"]).unwrap();
        assert_eq!(
            inv.workload,
            Workload::WatchLatency(WatchLatencyOptions {
                watchers_per_stream: 3,
                ..WatchLatencyOptions::default()
            })
        );
        assert!(matches!(
            parse(&["watch", "--total", "3"]),
            Err(Error::TotalNotApplicable { workload: "watch" })
        ));
    }

    #[test]
    fn txn_put_arguments() {
        let inv = parse(&["txn-put", "--txn-ops", "4", "--total", "9"]).unwrap();
        assert_eq!(
            inv.workload,
            Workload::TxnPut(TxnPutOptions {
                txn_ops: 4,
                total: 9,
                ..TxnPutOptions::default()
            })
        );
    }
}
