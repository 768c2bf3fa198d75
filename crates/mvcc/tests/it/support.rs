//! Fixtures (a backend that can be reopened) and request builders.

use std::sync::Arc;

use bytes::Bytes;
use etcd_api::etcdserverpb::compare::{CompareResult, CompareTarget, TargetUnion};
use etcd_api::etcdserverpb::request_op::Request;
use etcd_api::etcdserverpb::response_op::Response;
use etcd_api::etcdserverpb::{
    Compare, DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, RangeRequest,
    RangeResponse, RequestOp, ResponseOp, TxnRequest, TxnResponse,
};
use etcd_api::mvccpb::{Event, KeyValue};
use etcd_mvcc::{Backend, Bucket, BufferedBackend, KvStore, MemBackend, SledBackend};
use tempfile::TempDir;

/// Runs each named test function (taking a [`Fixture`]) once per backend.
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        mod mem {
            $( #[test] fn $name() { super::$name(crate::support::Fixture::mem()) } )*
        }
        mod sled {
            $( #[test] fn $name() { super::$name(crate::support::Fixture::sled()) } )*
        }
    };
}
pub(crate) use for_each_backend;

/// A backend that survives the stores opened on it, to test restarts.
pub enum Fixture {
    Mem(Arc<MemBackend>),
    Sled(TempDir),
}

impl Fixture {
    pub fn mem() -> Self {
        Fixture::Mem(Arc::new(MemBackend::new()))
    }

    pub fn sled() -> Self {
        Fixture::Sled(tempfile::tempdir().expect("temp dir"))
    }

    /// A handle on the backend. For sled, no other handle may be open.
    pub fn backend(&self) -> Arc<dyn Backend> {
        match self {
            Fixture::Mem(m) => m.clone(),
            // As the server runs it: sled behind the write-behind buffer.
            Fixture::Sled(dir) => Arc::new(BufferedBackend::new(Arc::new(
                SledBackend::open(dir.path(), 8 << 20).expect("open sled"),
            ))),
        }
    }

    pub fn open(&self) -> KvStore {
        KvStore::open(self.backend()).expect("open store")
    }
}

pub fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

pub fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Commits `f`'s changes as the next raft entry; returns f's result and the events.
pub fn apply<R>(
    store: &KvStore,
    f: impl FnOnce(&mut etcd_mvcc::WriteTxn<'_>) -> R,
) -> (R, Vec<Event>) {
    let mut txn = store.write(store.consistent_index() + 1);
    let r = f(&mut txn);
    let events = txn.commit().expect("commit");
    (r, events)
}

pub fn put(store: &KvStore, key: &str, value: &str) -> PutResponse {
    apply(store, |t| t.put(&put_req(key, value)))
        .0
        .expect("put")
}

pub fn put_with(store: &KvStore, req: PutRequest) -> Result<PutResponse, etcd_mvcc::MvccError> {
    apply(store, |t| t.put(&req)).0
}

pub fn delete(store: &KvStore, key: &str, end: &str) -> DeleteRangeResponse {
    apply(store, |t| t.delete_range(&del_req(key, end)))
        .0
        .expect("delete")
}

pub fn txn(store: &KvStore, req: &TxnRequest) -> Result<TxnResponse, etcd_mvcc::MvccError> {
    apply(store, |t| t.txn(req)).0
}

pub fn range(store: &KvStore, req: RangeRequest) -> RangeResponse {
    store.range(&req).expect("range")
}

pub fn get(store: &KvStore, key: &str) -> Option<KeyValue> {
    range(store, rr(key, "")).kvs.into_iter().next()
}

/// "key=value" of every kv of a range.
pub fn pairs(resp: &RangeResponse) -> Vec<String> {
    resp.kvs
        .iter()
        .map(|kv| format!("{}={}", s(&kv.key), s(&kv.value)))
        .collect()
}

pub fn keys(resp: &RangeResponse) -> Vec<String> {
    resp.kvs.iter().map(|kv| s(&kv.key)).collect()
}

pub fn rr(key: &str, end: &str) -> RangeRequest {
    RangeRequest {
        key: b(key),
        range_end: b(end),
        ..Default::default()
    }
}

pub fn put_req(key: &str, value: &str) -> PutRequest {
    PutRequest {
        key: b(key),
        value: b(value),
        ..Default::default()
    }
}

pub fn del_req(key: &str, end: &str) -> DeleteRangeRequest {
    DeleteRangeRequest {
        key: b(key),
        range_end: b(end),
        ..Default::default()
    }
}

pub fn op_put(key: &str, value: &str) -> RequestOp {
    RequestOp {
        request: Some(Request::RequestPut(put_req(key, value))),
    }
}

pub fn op_del(key: &str, end: &str) -> RequestOp {
    RequestOp {
        request: Some(Request::RequestDeleteRange(del_req(key, end))),
    }
}

pub fn op_get(key: &str, end: &str) -> RequestOp {
    RequestOp {
        request: Some(Request::RequestRange(rr(key, end))),
    }
}

pub fn op_range(req: RangeRequest) -> RequestOp {
    RequestOp {
        request: Some(Request::RequestRange(req)),
    }
}

pub fn op_txn(t: TxnRequest) -> RequestOp {
    RequestOp {
        request: Some(Request::RequestTxn(t)),
    }
}

pub fn txn_req(
    compare: Vec<Compare>,
    success: Vec<RequestOp>,
    failure: Vec<RequestOp>,
) -> TxnRequest {
    TxnRequest {
        compare,
        success,
        failure,
    }
}

pub fn cmp(
    key: &str,
    end: &str,
    target: CompareTarget,
    result: CompareResult,
    value: TargetUnion,
) -> Compare {
    Compare {
        result: result as i32,
        target: target as i32,
        key: b(key),
        range_end: b(end),
        target_union: Some(value),
    }
}

pub fn range_resp(op: &ResponseOp) -> &RangeResponse {
    match &op.response {
        Some(Response::ResponseRange(r)) => r,
        other => panic!("expected a range response, got {other:?}"),
    }
}

pub fn put_resp(op: &ResponseOp) -> &PutResponse {
    match &op.response {
        Some(Response::ResponsePut(r)) => r,
        other => panic!("expected a put response, got {other:?}"),
    }
}

pub fn del_resp(op: &ResponseOp) -> &DeleteRangeResponse {
    match &op.response {
        Some(Response::ResponseDeleteRange(r)) => r,
        other => panic!("expected a delete response, got {other:?}"),
    }
}

pub fn txn_resp(op: &ResponseOp) -> &TxnResponse {
    match &op.response {
        Some(Response::ResponseTxn(r)) => r,
        other => panic!("expected a txn response, got {other:?}"),
    }
}

/// Every (revision key, value) in the key bucket.
pub fn key_bucket(store: &KvStore) -> Vec<(Vec<u8>, Vec<u8>)> {
    store
        .backend()
        .scan(Bucket::Key, b"", None, None)
        .expect("scan")
}

/// Main revisions in the key bucket, with "t" for tombstones.
pub fn stored_revisions(store: &KvStore) -> Vec<String> {
    key_bucket(store)
        .iter()
        .map(|(k, _)| {
            let main = u64::from_be_bytes(k[..8].try_into().expect("8 bytes"));
            let sub = u64::from_be_bytes(k[9..17].try_into().expect("8 bytes"));
            format!("{main}.{sub}{}", if k.len() == 18 { "t" } else { "" })
        })
        .collect()
}

pub fn header_rev(h: &Option<etcd_api::etcdserverpb::ResponseHeader>) -> i64 {
    h.as_ref().expect("header").revision
}
