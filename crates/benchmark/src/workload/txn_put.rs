//! `txn-put`: back-to-back `KV.Txn` with `--txn-ops` puts each, on sequential keys.

use bytes::Bytes;
use etcd_api::etcdserverpb::kv_client::KvClient;
use etcd_api::etcdserverpb::request_op::Request;
use etcd_api::etcdserverpb::{PutRequest, RequestOp, TxnRequest};
use tonic::Status;
use tonic::transport::Channel;

use crate::connect::Connections;
use crate::driver::{Worker, drive};
use crate::keys::{check_key_space, encode_key, random_value};
use crate::{Error, Options, Outcome, Summary, progress};

/// Options of `txn-put`, with etcd benchmark's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnPutOptions {
    /// Number of transactions.
    pub total: u64,
    /// Puts per transaction.
    pub txn_ops: usize,
    /// Key size in bytes.
    pub key_size: usize,
    /// Value size in bytes.
    pub val_size: usize,
    /// Number of distinct keys written.
    pub key_space_size: u64,
}

impl Default for TxnPutOptions {
    fn default() -> Self {
        Self {
            total: 10_000,
            txn_ops: 1,
            key_size: 8,
            val_size: 8,
            key_space_size: 1,
        }
    }
}

impl TxnPutOptions {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.txn_ops == 0 {
            return Err(Error::NotPositive { flag: "txn-ops" });
        }
        check_key_space(self.key_space_size, self.key_size)
    }

    /// Transaction number `index`: puts of keys `index * txn_ops + j` modulo the key
    /// space, as etcd's tool numbers them.
    fn request(&self, index: u64, value: &Bytes) -> TxnRequest {
        let ops = self.txn_ops as u64;
        let success = (0..ops)
            .map(|j| {
                let n = index.wrapping_mul(ops).wrapping_add(j) % self.key_space_size;
                RequestOp {
                    request: Some(Request::RequestPut(PutRequest {
                        key: encode_key(n, self.key_size),
                        value: value.clone(),
                        ..PutRequest::default()
                    })),
                }
            })
            .collect();
        TxnRequest {
            compare: Vec::new(),
            success,
            failure: Vec::new(),
        }
    }
}

struct TxnWorker {
    kv: KvClient<Channel>,
    options: TxnPutOptions,
    value: Bytes,
}

impl Worker for TxnWorker {
    async fn call(&mut self, index: u64) -> Result<(), Status> {
        let request = self.options.request(index, &self.value);
        self.kv.txn(request).await.map(drop)
    }
}

pub(super) async fn run(
    o: &TxnPutOptions,
    options: &Options,
    conns: &Connections,
) -> Result<Outcome, Error> {
    let value = random_value(o.val_size);
    let workers = (0..options.clients)
        .map(|i| TxnWorker {
            kv: KvClient::new(conns.for_client(i)),
            options: o.clone(),
            value: value.clone(),
        })
        .collect();
    let bar = progress::bar(options.progress, o.total);
    let driven = drive(workers, o.total, &bar).await?;
    bar.finish_and_clear();
    Ok(Outcome::single(Summary::new(
        "txn-put",
        &driven.recorder,
        driven.elapsed,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(t: &TxnRequest) -> Vec<Bytes> {
        t.success
            .iter()
            .filter_map(|op| match &op.request {
                Some(Request::RequestPut(p)) => Some(p.key.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn txn_keys_are_numbered_across_transactions() {
        let o = TxnPutOptions {
            txn_ops: 3,
            key_space_size: 5,
            ..TxnPutOptions::default()
        };
        let value = Bytes::from_static(b"v");
        assert_eq!(
            keys(&o.request(0, &value)),
            [0, 1, 2].map(|n| encode_key(n, 8))
        );
        assert_eq!(
            keys(&o.request(1, &value)),
            [3, 4, 0].map(|n| encode_key(n, 8))
        );
        assert!(o.request(0, &value).compare.is_empty());
    }

    #[test]
    fn zero_ops_rejected() {
        let o = TxnPutOptions {
            txn_ops: 0,
            ..TxnPutOptions::default()
        };
        assert!(matches!(
            o.validate(),
            Err(Error::NotPositive { flag: "txn-ops" })
        ));
    }
}
