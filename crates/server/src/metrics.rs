//! Metric names, as etcd exports them, so existing dashboards and alerts keep working.

pub const HAS_LEADER: &str = "etcd_server_has_leader";
pub const IS_LEADER: &str = "etcd_server_is_leader";
pub const IS_LEARNER: &str = "etcd_server_is_learner";
pub const LEADER_CHANGES: &str = "etcd_server_leader_changes_seen_total";
pub const PROPOSALS_COMMITTED: &str = "etcd_server_proposals_committed_total";
pub const PROPOSALS_APPLIED: &str = "etcd_server_proposals_applied_total";
pub const PROPOSALS_PENDING: &str = "etcd_server_proposals_pending";
pub const PROPOSALS_FAILED: &str = "etcd_server_proposals_failed_total";
pub const SLOW_READ_INDEXES: &str = "etcd_server_slow_read_indexes_total";
pub const READ_INDEXES_FAILED: &str = "etcd_server_read_indexes_failed_total";
pub const SERVER_ID: &str = "etcd_server_id";
pub const SERVER_VERSION: &str = "etcd_server_version";
pub const CLUSTER_VERSION: &str = "etcd_cluster_version";
pub const HEARTBEAT_SEND_FAILURES: &str = "etcd_server_heartbeat_send_failures_total";
pub const SNAPSHOT_APPLY_IN_PROGRESS: &str = "etcd_server_snapshot_apply_in_progress_total";
pub const WAL_FSYNC_SECONDS: &str = "etcd_disk_wal_fsync_duration_seconds";
pub const WAL_WRITE_BYTES: &str = "etcd_disk_wal_write_bytes_total";
pub const BACKEND_COMMIT_SECONDS: &str = "etcd_disk_backend_commit_duration_seconds";
pub const BACKEND_SNAPSHOT_SECONDS: &str = "etcd_disk_backend_snapshot_duration_seconds";
pub const DB_TOTAL_SIZE: &str = "etcd_mvcc_db_total_size_in_bytes";
pub const DB_TOTAL_SIZE_IN_USE: &str = "etcd_mvcc_db_total_size_in_use_in_bytes";
pub const MVCC_PUT_TOTAL: &str = "etcd_mvcc_put_total";
pub const MVCC_DELETE_TOTAL: &str = "etcd_mvcc_delete_total";
pub const MVCC_RANGE_TOTAL: &str = "etcd_mvcc_range_total";
pub const MVCC_TXN_TOTAL: &str = "etcd_mvcc_txn_total";
pub const DEBUGGING_KEYS_TOTAL: &str = "etcd_debugging_mvcc_keys_total";
pub const QUOTA_BACKEND_BYTES: &str = "etcd_server_quota_backend_bytes";
pub const APPLY_SLOW: &str = "etcd_server_slow_apply_total";
pub const LEASE_GRANTED: &str = "etcd_debugging_lease_granted_total";
pub const LEASE_REVOKED: &str = "etcd_debugging_lease_revoked_total";
pub const LEASE_RENEWED: &str = "etcd_debugging_lease_renewed_total";
/// Counted by the leader once the revoke of an expired lease applied (etcd's server
/// metric, hence its subsystem).
pub const LEASE_EXPIRED: &str = "etcd_debugging_server_lease_expired_total";
/// Histogram of granted TTLs in seconds, observed by the lessor at each grant.
pub const LEASE_TTL: &str = etcd_lease::LEASE_TTL_METRIC;

/// Handles of the metrics touched on every request, registered once per member. Naming
/// a metric looks it up in the recorder (a hash and a registry lock): about 1% of a
/// member's CPU under 256-client puts, when done per request.
#[derive(Clone)]
pub(crate) struct Meters {
    pub put_total: metrics::Counter,
    pub delete_total: metrics::Counter,
    pub txn_total: metrics::Counter,
    pub range_total: metrics::Counter,
    pub proposals_pending: metrics::Gauge,
}

impl Meters {
    /// Registers with the process's recorder, which must be installed first: handles
    /// taken before stay detached from it.
    pub fn register() -> Self {
        Meters {
            put_total: metrics::counter!(MVCC_PUT_TOTAL),
            delete_total: metrics::counter!(MVCC_DELETE_TOTAL),
            txn_total: metrics::counter!(MVCC_TXN_TOTAL),
            range_total: metrics::counter!(MVCC_RANGE_TOTAL),
            proposals_pending: metrics::gauge!(PROPOSALS_PENDING),
        }
    }
}

/// Bucket bounds for the disk latency histograms, as etcd uses: 1 ms doubling to ~8 s.
pub fn disk_latency_buckets() -> Vec<f64> {
    (0..14).map(|i| 0.001 * f64::powi(2.0, i)).collect()
}

/// Every histogram with the bucket bounds etcd gives it; the exporter must use these
/// (without them a histogram is exported as a summary).
pub fn histogram_buckets() -> Vec<(&'static str, Vec<f64>)> {
    vec![
        (WAL_FSYNC_SECONDS, disk_latency_buckets()),
        (BACKEND_COMMIT_SECONDS, disk_latency_buckets()),
        (BACKEND_SNAPSHOT_SECONDS, disk_latency_buckets()),
        (LEASE_TTL, etcd_lease::lease_ttl_buckets()),
    ]
}

/// Registers descriptions so /metrics carries HELP lines like etcd's.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        HAS_LEADER,
        "Whether or not a leader exists. 1 is existence, 0 is not."
    );
    describe_gauge!(
        IS_LEADER,
        "Whether or not this member is a leader. 1 if is, 0 otherwise."
    );
    describe_gauge!(
        IS_LEARNER,
        "Whether or not this member is a learner. 1 if is, 0 otherwise."
    );
    describe_counter!(LEADER_CHANGES, "The number of leader changes seen.");
    describe_gauge!(
        PROPOSALS_COMMITTED,
        "The total number of consensus proposals committed."
    );
    describe_gauge!(
        PROPOSALS_APPLIED,
        "The total number of consensus proposals applied."
    );
    describe_gauge!(
        PROPOSALS_PENDING,
        "The current number of pending proposals to commit."
    );
    describe_counter!(
        PROPOSALS_FAILED,
        "The total number of failed proposals seen."
    );
    // etcd exports the failure counter from the start, so rate() alerts see a zero.
    metrics::counter!(PROPOSALS_FAILED).increment(0);
    describe_counter!(
        SLOW_READ_INDEXES,
        "The total number of pending read indexes not in sync with leader's or timed out read index requests."
    );
    describe_counter!(
        READ_INDEXES_FAILED,
        "The total number of failed read indexes seen."
    );
    describe_gauge!(
        SERVER_ID,
        "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID."
    );
    describe_gauge!(
        SERVER_VERSION,
        "Which version is running. 1 for 'server_version' label with current version."
    );
    describe_gauge!(
        CLUSTER_VERSION,
        "Which version is running. 1 for 'cluster_version' label with current cluster version"
    );
    describe_histogram!(
        WAL_FSYNC_SECONDS,
        Unit::Seconds,
        "The latency distributions of fsync called by WAL."
    );
    describe_counter!(WAL_WRITE_BYTES, "Total number of bytes written in WAL.");
    describe_histogram!(
        BACKEND_COMMIT_SECONDS,
        Unit::Seconds,
        "The latency distributions of commit called by backend."
    );
    describe_histogram!(
        BACKEND_SNAPSHOT_SECONDS,
        Unit::Seconds,
        "The latency distribution of backend snapshots."
    );
    describe_gauge!(
        DB_TOTAL_SIZE,
        "Total size of the underlying database physically allocated in bytes."
    );
    describe_gauge!(
        DB_TOTAL_SIZE_IN_USE,
        "Total size of the underlying database logically in use in bytes."
    );
    describe_counter!(MVCC_PUT_TOTAL, "Total number of puts seen by this member.");
    describe_counter!(
        MVCC_DELETE_TOTAL,
        "Total number of deletes seen by this member."
    );
    describe_counter!(
        MVCC_RANGE_TOTAL,
        "Total number of ranges seen by this member."
    );
    describe_counter!(MVCC_TXN_TOTAL, "Total number of txns seen by this member.");
    describe_gauge!(
        QUOTA_BACKEND_BYTES,
        "Current backend storage quota size in bytes."
    );
    describe_counter!(
        APPLY_SLOW,
        "The total number of slow apply requests (likely overloaded from slow disk)."
    );
    describe_counter!(LEASE_GRANTED, "The total number of granted leases.");
    describe_counter!(LEASE_REVOKED, "The total number of revoked leases.");
    describe_counter!(
        LEASE_RENEWED,
        "The number of renewed leases seen by the leader."
    );
    describe_counter!(LEASE_EXPIRED, "The total number of expired leases.");
    describe_histogram!(LEASE_TTL, "Bucketed histogram of lease TTLs.");
    // etcd exports its lease counters from the start, at 0.
    for name in [LEASE_GRANTED, LEASE_REVOKED, LEASE_RENEWED, LEASE_EXPIRED] {
        metrics::counter!(name).increment(0);
    }
}
