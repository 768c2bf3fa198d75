//! `put`: back-to-back `KV.Put` of fixed-size keys and one random value.

use bytes::Bytes;
use etcd_api::etcdserverpb::PutRequest;
use etcd_api::etcdserverpb::kv_client::KvClient;
use tonic::Status;
use tonic::transport::Channel;

use crate::connect::Connections;
use crate::driver::{Worker, drive};
use crate::keys::{KeyGen, check_key_space, random_value};
use crate::{Error, Options, Outcome, Summary, progress};

/// Options of `put`, with etcd benchmark's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOptions {
    /// Number of puts.
    pub total: u64,
    /// Key size in bytes.
    pub key_size: usize,
    /// Value size in bytes.
    pub val_size: usize,
    /// Number of distinct keys written.
    pub key_space_size: u64,
    /// Write keys `0, 1, 2, ...` modulo the key space instead of random ones.
    pub sequential_keys: bool,
}

impl Default for PutOptions {
    fn default() -> Self {
        Self {
            total: 10_000,
            key_size: 8,
            val_size: 8,
            key_space_size: 1,
            sequential_keys: false,
        }
    }
}

impl PutOptions {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_key_space(self.key_space_size, self.key_size)
    }
}

struct PutWorker {
    kv: KvClient<Channel>,
    keys: KeyGen,
    value: Bytes,
}

impl Worker for PutWorker {
    async fn call(&mut self, index: u64) -> Result<(), Status> {
        let request = PutRequest {
            key: self.keys.key(index),
            value: self.value.clone(),
            ..PutRequest::default()
        };
        self.kv.put(request).await.map(drop)
    }
}

pub(super) async fn run(
    o: &PutOptions,
    options: &Options,
    conns: &Connections,
) -> Result<Outcome, Error> {
    let value = random_value(o.val_size);
    let workers = (0..options.clients)
        .map(|i| PutWorker {
            kv: KvClient::new(conns.for_client(i)),
            keys: KeyGen::new(o.key_size, o.key_space_size, o.sequential_keys),
            value: value.clone(),
        })
        .collect();
    let bar = progress::bar(options.progress, o.total);
    let driven = drive(workers, o.total, &bar).await?;
    bar.finish_and_clear();
    Ok(Outcome::single(Summary::new(
        "put",
        &driven.recorder,
        driven.elapsed,
    )))
}
