//! `watch`: fan-out. Many watchers over several streams watch a set of keys while one
//! writer puts to them; each event's latency runs from the put's send to its delivery.

use std::time::Duration;

use crate::connect::Connections;
use crate::fanout::{self, HEADER_LEN, Origin, Plan};
use crate::keys::{check_key_space, encode_key};
use crate::{Error, Options, Outcome};

/// Options of `watch`; the defaults give etcd benchmark's 10 streams of 100 watchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOptions {
    /// Total number of watchers.
    pub watchers: usize,
    /// Number of watch streams the watchers are spread over.
    pub streams: usize,
    /// Number of distinct keys watched; watcher `w` watches key `w % watched_key_total`.
    pub watched_key_total: usize,
    /// Number of puts by the writer, cycling over the watched keys.
    pub put_total: u64,
    /// Puts per second; 0 for back to back.
    pub put_rate: u64,
    /// Key size in bytes.
    pub key_size: usize,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            watchers: 1000,
            streams: 10,
            watched_key_total: 1,
            put_total: 1000,
            put_rate: 0,
            key_size: 32,
        }
    }
}

impl WatchOptions {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.watchers == 0 {
            return Err(Error::NotPositive { flag: "watchers" });
        }
        if self.streams == 0 {
            return Err(Error::NotPositive { flag: "streams" });
        }
        if self.watched_key_total == 0 {
            return Err(Error::NotPositive {
                flag: "watched-key-total",
            });
        }
        check_key_space(self.watched_key_total as u64, self.key_size)
    }

    pub(crate) fn plan(&self) -> Plan {
        Plan {
            name: "watch",
            keys: (0..self.watched_key_total as u64)
                .map(|i| encode_key(i, self.key_size))
                .collect(),
            watcher_keys: (0..self.watchers)
                .map(|w| w % self.watched_key_total.max(1))
                .collect(),
            streams: self.streams,
            put_total: self.put_total,
            put_rate: self.put_rate,
            value_size: HEADER_LEN,
            origin: Origin::PutSent,
            idle_timeout: Duration::from_secs(10),
        }
    }
}

pub(super) async fn run(
    o: &WatchOptions,
    options: &Options,
    conns: &Connections,
) -> Result<Outcome, Error> {
    fanout::run(o.plan(), options, conns).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_spreads_watchers_over_distinct_keys() {
        let o = WatchOptions {
            watchers: 5,
            watched_key_total: 2,
            key_size: 8,
            ..WatchOptions::default()
        };
        let plan = o.plan();
        assert_eq!(plan.keys, [encode_key(0, 8), encode_key(1, 8)]);
        assert_eq!(plan.watcher_keys, [0, 1, 0, 1, 0]);
        assert_eq!(plan.origin, Origin::PutSent);
    }

    #[test]
    fn validation() {
        let ok = WatchOptions::default();
        assert!(ok.validate().is_ok());
        for (o, flag) in [
            (
                WatchOptions {
                    watchers: 0,
                    ..ok.clone()
                },
                "watchers",
            ),
            (
                WatchOptions {
                    streams: 0,
                    ..ok.clone()
                },
                "streams",
            ),
            (
                WatchOptions {
                    watched_key_total: 0,
                    ..ok.clone()
                },
                "watched-key-total",
            ),
        ] {
            assert!(matches!(o.validate(), Err(Error::NotPositive { flag: f }) if f == flag));
        }
        let too_many = WatchOptions {
            watched_key_total: 300,
            key_size: 1,
            ..ok
        };
        assert!(matches!(
            too_many.validate(),
            Err(Error::KeySpaceTooLarge { .. })
        ));
    }
}
