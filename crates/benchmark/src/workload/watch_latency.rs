//! `watch-latency`: as etcd's, every watcher watches one key while one writer puts to it
//! at `--put-rate`; latency runs from each put's response to the event's delivery.

use std::time::Duration;

use crate::connect::Connections;
use crate::fanout::{self, HEADER_LEN, Origin, Plan};
use crate::keys::random_value;
use crate::{Error, Options, Outcome};

/// Options of `watch-latency`, with etcd benchmark's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchLatencyOptions {
    /// Number of puts.
    pub put_total: u64,
    /// Puts per second; 0 for back to back.
    pub put_rate: u64,
    /// Number of watch streams.
    pub streams: usize,
    /// Watchers on each stream.
    pub watchers_per_stream: usize,
    /// Size of the (random) key in bytes.
    pub key_size: usize,
    /// Value size in bytes; at least the 16-byte stamp is written.
    pub val_size: usize,
}

impl Default for WatchLatencyOptions {
    fn default() -> Self {
        Self {
            put_total: 1000,
            put_rate: 100,
            streams: 10,
            watchers_per_stream: 10,
            key_size: 32,
            val_size: 32,
        }
    }
}

impl WatchLatencyOptions {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.streams == 0 {
            return Err(Error::NotPositive { flag: "streams" });
        }
        if self.watchers_per_stream == 0 {
            return Err(Error::NotPositive {
                flag: "watchers-per-stream",
            });
        }
        if self.key_size == 0 {
            return Err(Error::NotPositive { flag: "key-size" });
        }
        Ok(())
    }

    pub(crate) fn plan(&self) -> Plan {
        Plan {
            name: "watch-latency",
            keys: vec![random_value(self.key_size)],
            watcher_keys: vec![0; self.streams * self.watchers_per_stream],
            streams: self.streams,
            put_total: self.put_total,
            put_rate: self.put_rate,
            value_size: self.val_size.max(HEADER_LEN),
            origin: Origin::PutAcked,
            idle_timeout: Duration::from_secs(10),
        }
    }
}

pub(super) async fn run(
    o: &WatchLatencyOptions,
    options: &Options,
    conns: &Connections,
) -> Result<Outcome, Error> {
    fanout::run(o.plan(), options, conns).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_puts_every_watcher_on_one_key() {
        let o = WatchLatencyOptions {
            streams: 3,
            watchers_per_stream: 4,
            key_size: 5,
            val_size: 4,
            ..WatchLatencyOptions::default()
        };
        let plan = o.plan();
        assert_eq!(plan.keys.len(), 1);
        assert_eq!(plan.keys[0].len(), 5);
        assert_eq!(plan.watcher_keys.len(), 12);
        assert!(plan.watcher_keys.iter().all(|&k| k == 0));
        assert_eq!(plan.value_size, HEADER_LEN);
        assert_eq!(plan.origin, Origin::PutAcked);
    }

    #[test]
    fn validation() {
        assert!(WatchLatencyOptions::default().validate().is_ok());
        let o = WatchLatencyOptions {
            watchers_per_stream: 0,
            ..WatchLatencyOptions::default()
        };
        assert!(matches!(
            o.validate(),
            Err(Error::NotPositive {
                flag: "watchers-per-stream"
            })
        ));
    }
}
