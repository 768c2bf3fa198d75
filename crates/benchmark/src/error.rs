//! The crate's error type: everything that stops a benchmark before or while it runs.
//! Failed requests are not errors of this kind; they are counted in the summary.

/// Why a benchmark could not be set up or completed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--endpoints` was empty.
    #[error("no endpoints given")]
    NoEndpoints,

    /// An endpoint is not a plain `host:port` or `http://host:port`.
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A count or size flag that must be at least 1 was 0.
    #[error("expected positive --{flag}")]
    NotPositive {
        /// The flag's name, without dashes.
        flag: &'static str,
    },

    /// More distinct keys were asked for than keys of that size can express.
    #[error("{keys} distinct keys do not fit in --key-size {key_size} bytes")]
    KeySpaceTooLarge {
        /// Number of distinct keys wanted.
        keys: u64,
        /// Key size in bytes.
        key_size: usize,
    },

    /// `--consistency` was neither `l` nor `s`.
    #[error("invalid consistency {value:?}: expected l (linearizable) or s (serializable)")]
    InvalidConsistency {
        /// The value as given.
        value: String,
    },

    /// `--total` was given to a workload that counts puts with `--put-total`.
    #[error("--total does not apply to {workload}; use --put-total")]
    TotalNotApplicable {
        /// The workload's name.
        workload: &'static str,
    },

    /// A gRPC connection could not be established.
    #[error("failed to connect to {endpoint}: {source}")]
    Connect {
        /// The endpoint URI.
        endpoint: String,
        /// The transport's reason.
        #[source]
        source: tonic::transport::Error,
    },

    /// `--target-leader` found no endpoint that is the leader.
    #[error("failed to find a leader endpoint among {endpoints:?}")]
    NoLeader {
        /// The endpoints asked.
        endpoints: Vec<String>,
    },

    /// A preparatory request (lease grant, watch creation) failed.
    #[error("{step} failed: {message}")]
    Setup {
        /// What was being prepared.
        step: &'static str,
        /// The server's or transport's reason.
        message: String,
    },

    /// Per-client latency histograms could not be merged.
    #[error("merging latency histograms: {0}")]
    Histogram(#[from] hdrhistogram::AdditionError),

    /// A benchmark task panicked or was cancelled.
    #[error("benchmark task failed: {0}")]
    Task(#[from] tokio::task::JoinError),

    /// The summary could not be encoded as JSON.
    #[error("encoding the summary as JSON: {0}")]
    Json(#[from] serde_json::Error),
}
