//! A benchmark tool for etcd, modelled on etcd's `tools/benchmark`, speaking only the v3
//! gRPC API so it measures any etcd: ours or the reference.
//!
//! [`run`] connects as [`Options`] say and runs one [`Workload`]; the [`Outcome`] prints
//! as etcd's text report or as one JSON object. The `benchmark` binary is a thin shell
//! over [`cli::Cli`] and [`run`].

pub mod cli;
mod connect;
mod driver;
mod endpoint;
mod error;
mod failure;
mod fanout;
mod keys;
mod options;
mod outcome;
mod progress;
mod recorder;
mod render;
mod summary;
mod workload;

pub use endpoint::parse_endpoints;
pub use error::Error;
pub use keys::encode_key;
pub use options::Options;
pub use outcome::Outcome;
pub use recorder::Recorder;
pub use summary::{Bucket, HISTOGRAM_INTERVALS, LatencyMs, PERCENTILES, Percentile, Summary};
pub use workload::{
    Consistency, LeaseKeepaliveOptions, PutOptions, RangeOptions, TxnPutOptions,
    WatchLatencyOptions, WatchOptions, Workload, run,
};
