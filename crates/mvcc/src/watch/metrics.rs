//! etcd's names for the watch metrics, so existing dashboards keep working.

/// Gauge: watchers of all streams.
pub(crate) const WATCHER_TOTAL: &str = "etcd_debugging_mvcc_watcher_total";
/// Gauge: open watch streams.
pub(crate) const WATCH_STREAM_TOTAL: &str = "etcd_debugging_mvcc_watch_stream_total";
/// Gauge: watchers behind the current revision (catching up from history).
pub(crate) const SLOW_WATCHER_TOTAL: &str = "etcd_debugging_mvcc_slow_watcher_total";
/// Counter: events handed to watch streams.
pub(crate) const EVENTS_TOTAL: &str = "etcd_debugging_mvcc_events_total";
/// Gauge: events handed to watch streams and not yet taken by their consumers.
pub(crate) const PENDING_EVENTS_TOTAL: &str = "etcd_debugging_mvcc_pending_events_total";

/// Registers etcd's help texts for the metrics above (once per process).
pub(crate) fn describe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        metrics::describe_gauge!(WATCHER_TOTAL, "Total number of watchers.");
        metrics::describe_gauge!(WATCH_STREAM_TOTAL, "Total number of watch streams.");
        metrics::describe_gauge!(
            SLOW_WATCHER_TOTAL,
            "Total number of unsynced slow watchers."
        );
        metrics::describe_counter!(EVENTS_TOTAL, "Total number of events sent by this member.");
        metrics::describe_gauge!(
            PENDING_EVENTS_TOTAL,
            "Total number of pending events to be sent."
        );
    });
}
