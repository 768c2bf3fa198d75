//! The workloads and the entry point that runs one of them.

mod lease_keepalive;
mod put;
mod range;
mod txn_put;
mod watch;
mod watch_latency;

pub use lease_keepalive::LeaseKeepaliveOptions;
pub use put::PutOptions;
pub use range::{Consistency, RangeOptions};
pub use txn_put::TxnPutOptions;
pub use watch::WatchOptions;
pub use watch_latency::WatchLatencyOptions;

use crate::connect::dial;
use crate::{Error, Options, Outcome};

/// One benchmark, with its own options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workload {
    Put(PutOptions),
    Range(RangeOptions),
    TxnPut(TxnPutOptions),
    Watch(WatchOptions),
    WatchLatency(WatchLatencyOptions),
    LeaseKeepalive(LeaseKeepaliveOptions),
}

impl Workload {
    /// The subcommand name, also the summary's `workload`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Put(_) => "put",
            Self::Range(_) => "range",
            Self::TxnPut(_) => "txn-put",
            Self::Watch(_) => "watch",
            Self::WatchLatency(_) => "watch-latency",
            Self::LeaseKeepalive(_) => "lease-keepalive",
        }
    }

    /// Checks the workload's options without connecting.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Self::Put(o) => o.validate(),
            Self::Range(_) | Self::LeaseKeepalive(_) => Ok(()),
            Self::TxnPut(o) => o.validate(),
            Self::Watch(o) => o.validate(),
            Self::WatchLatency(o) => o.validate(),
        }
    }
}

/// Connects as `options` say and runs `workload` to completion. Failed requests are
/// counted in the outcome; only setup failures (bad options, unreachable endpoints,
/// refused lease grants or watch creations) are errors.
pub async fn run(options: &Options, workload: &Workload) -> Result<Outcome, Error> {
    options.validate()?;
    workload.validate()?;
    let conns = dial(options).await?;
    match workload {
        Workload::Put(o) => put::run(o, options, &conns).await,
        Workload::Range(o) => range::run(o, options, &conns).await,
        Workload::TxnPut(o) => txn_put::run(o, options, &conns).await,
        Workload::Watch(o) => watch::run(o, options, &conns).await,
        Workload::WatchLatency(o) => watch_latency::run(o, options, &conns).await,
        Workload::LeaseKeepalive(o) => lease_keepalive::run(o, options, &conns).await,
    }
}
