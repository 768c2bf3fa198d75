//! `range`: back-to-back `KV.Range` of one key or key range, linearizable or
//! serializable.

use std::str::FromStr;

use bytes::Bytes;
use etcd_api::etcdserverpb::RangeRequest;
use etcd_api::etcdserverpb::kv_client::KvClient;
use tonic::Status;
use tonic::transport::Channel;

use crate::connect::Connections;
use crate::driver::{Worker, drive};
use crate::{Error, Options, Outcome, Summary, progress};

/// How reads are served: through consensus or from the member's local store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consistency {
    /// `l`: linearizable (the default).
    #[default]
    Linearizable,
    /// `s`: serializable.
    Serializable,
}

impl FromStr for Consistency {
    type Err = Error;

    /// Accepts etcd benchmark's spellings, `l` and `s`.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "l" => Ok(Self::Linearizable),
            "s" => Ok(Self::Serializable),
            _ => Err(Error::InvalidConsistency {
                value: s.to_owned(),
            }),
        }
    }
}

/// Options of `range`, with etcd benchmark's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeOptions {
    /// First key of the range.
    pub key: Bytes,
    /// End of the range (exclusive); empty for the single key.
    pub end: Bytes,
    /// Linearizable or serializable reads.
    pub consistency: Consistency,
    /// Number of range requests.
    pub total: u64,
    /// Maximum number of keys per response; 0 for no limit.
    pub limit: i64,
    /// Only return the count of keys.
    pub count_only: bool,
}

impl Default for RangeOptions {
    fn default() -> Self {
        Self {
            key: Bytes::new(),
            end: Bytes::new(),
            consistency: Consistency::Linearizable,
            total: 10_000,
            limit: 0,
            count_only: false,
        }
    }
}

impl RangeOptions {
    fn request(&self) -> RangeRequest {
        RangeRequest {
            key: self.key.clone(),
            range_end: self.end.clone(),
            limit: self.limit,
            serializable: self.consistency == Consistency::Serializable,
            count_only: self.count_only,
            ..RangeRequest::default()
        }
    }
}

struct RangeWorker {
    kv: KvClient<Channel>,
    request: RangeRequest,
}

impl Worker for RangeWorker {
    async fn call(&mut self, _index: u64) -> Result<(), Status> {
        self.kv.range(self.request.clone()).await.map(drop)
    }
}

pub(super) async fn run(
    o: &RangeOptions,
    options: &Options,
    conns: &Connections,
) -> Result<Outcome, Error> {
    let request = o.request();
    let workers = (0..options.clients)
        .map(|i| RangeWorker {
            kv: KvClient::new(conns.for_client(i)),
            request: request.clone(),
        })
        .collect();
    let bar = progress::bar(options.progress, o.total);
    let driven = drive(workers, o.total, &bar).await?;
    bar.finish_and_clear();
    Ok(Outcome::single(Summary::new(
        "range",
        &driven.recorder,
        driven.elapsed,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consistency_spellings() {
        assert_eq!(
            "l".parse::<Consistency>().unwrap(),
            Consistency::Linearizable
        );
        assert_eq!(
            "s".parse::<Consistency>().unwrap(),
            Consistency::Serializable
        );
        assert!(matches!(
            "x".parse::<Consistency>(),
            Err(Error::InvalidConsistency { value }) if value == "x"
        ));
    }

    #[test]
    fn request_carries_the_options() {
        let o = RangeOptions {
            key: Bytes::from_static(b"a"),
            end: Bytes::from_static(b"b"),
            consistency: Consistency::Serializable,
            limit: 5,
            count_only: true,
            ..RangeOptions::default()
        };
        let r = o.request();
        assert_eq!(&r.key[..], b"a");
        assert_eq!(&r.range_end[..], b"b");
        assert!(r.serializable && r.count_only);
        assert_eq!(r.limit, 5);
        assert!(!RangeOptions::default().request().serializable);
    }
}
