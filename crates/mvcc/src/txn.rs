//! Txn execution as etcd's applier: every compare (nested ones too) is evaluated first
//! against the state before the txn, then every op the chosen path will run is checked,
//! and only then are the ops applied in order.

use etcd_api::etcdserverpb::request_op::Request;
use etcd_api::etcdserverpb::response_op::Response;
use etcd_api::etcdserverpb::{
    DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, RequestOp, ResponseHeader,
    ResponseOp, TxnRequest, TxnResponse,
};

use crate::MvccError;
use crate::compare::apply_compares;
use crate::range::apply_range;
use crate::validate::is_txn_read_only;
use crate::view::{RawRange, RawRangeOpts, ReadView};

/// A view that can also change the store (a write txn).
pub(crate) trait TxnTarget: ReadView {
    fn put(&mut self, req: &PutRequest) -> Result<PutResponse, MvccError>;
    fn delete_range(&mut self, req: &DeleteRangeRequest) -> Result<DeleteRangeResponse, MvccError>;
}

/// The branches a txn takes, decided before anything runs: whether its compares held,
/// and the same for each nested txn of the chosen branch, in order.
#[derive(Debug)]
struct Path {
    succeeded: bool,
    nested: Vec<Path>,
}

impl Path {
    fn ops<'r>(&self, req: &'r TxnRequest) -> &'r [RequestOp] {
        if self.succeeded {
            &req.success
        } else {
            &req.failure
        }
    }
}

fn compare_path(view: &impl ReadView, req: &TxnRequest) -> Result<Path, MvccError> {
    let succeeded = apply_compares(view, &req.compare)?;
    let mut path = Path {
        succeeded,
        nested: Vec::new(),
    };
    for op in path.ops(req) {
        if let Some(Request::RequestTxn(t)) = &op.request {
            path.nested.push(compare_path(view, t)?);
        }
    }
    Ok(path)
}

/// Runs `check` on every non-txn op the path will execute.
fn check_ops<V: ReadView>(
    view: &V,
    req: &TxnRequest,
    path: &Path,
    check: &impl Fn(&V, &RequestOp) -> Result<(), MvccError>,
) -> Result<(), MvccError> {
    let mut nested = path.nested.iter();
    for op in path.ops(req) {
        match &op.request {
            Some(Request::RequestTxn(t)) => {
                let Some(p) = nested.next() else {
                    return Err(MvccError::Corrupt("txn path out of step".into()));
                };
                check_ops(view, t, p, check)?;
            }
            _ => check(view, op)?,
        }
    }
    Ok(())
}

/// ignore_value / ignore_lease need the key to exist before the txn.
fn check_put(view: &impl ReadView, op: &RequestOp) -> Result<(), MvccError> {
    let Some(Request::RequestPut(p)) = &op.request else {
        return Ok(());
    };
    if p.ignore_value || p.ignore_lease {
        let rr = view.range_keys(&p.key, &[], RawRangeOpts::default())?;
        if rr.kvs.is_empty() {
            return Err(MvccError::KeyNotFound);
        }
    }
    Ok(())
}

/// A range inside a txn must name a readable revision (0 is the current one). Unlike a
/// plain range, a negative revision below the compaction revision is refused, as etcd.
fn check_range(view: &impl ReadView, op: &RequestOp) -> Result<(), MvccError> {
    let Some(Request::RequestRange(r)) = &op.request else {
        return Ok(());
    };
    match r.revision {
        0 => Ok(()),
        rev if rev > view.rev() => Err(MvccError::FutureRev),
        rev if rev < view.first_rev() => Err(MvccError::Compacted),
        _ => Ok(()),
    }
}

/// Evaluates and applies `req` on `target`. On error the caller must discard whatever
/// `target` changed; with the upfront checks an error here means a backend failure.
pub(crate) fn apply_txn<T: TxnTarget>(
    target: &mut T,
    req: &TxnRequest,
) -> Result<TxnResponse, MvccError> {
    let path = compare_path(target, req)?;
    if !is_txn_read_only(req) {
        check_ops(target, req, &path, &check_put)?;
    }
    check_ops(target, req, &path, &check_range)?;
    let mut resp = exec(target, req, &path)?;
    resp.header = Some(ResponseHeader {
        revision: target.rev(),
        ..Default::default()
    });
    Ok(resp)
}

/// Runs the ops of the path. Nested txn responses carry an empty header, as etcd's.
fn exec<T: TxnTarget>(
    target: &mut T,
    req: &TxnRequest,
    path: &Path,
) -> Result<TxnResponse, MvccError> {
    let mut nested = path.nested.iter();
    let ops = path.ops(req);
    let mut responses = Vec::with_capacity(ops.len());
    for op in ops {
        let response = match &op.request {
            Some(Request::RequestRange(r)) => {
                Some(Response::ResponseRange(apply_range(target, r)?))
            }
            Some(Request::RequestPut(p)) => Some(Response::ResponsePut(target.put(p)?)),
            Some(Request::RequestDeleteRange(d)) => {
                Some(Response::ResponseDeleteRange(target.delete_range(d)?))
            }
            Some(Request::RequestTxn(t)) => {
                let Some(p) = nested.next() else {
                    return Err(MvccError::Corrupt("txn path out of step".into()));
                };
                Some(Response::ResponseTxn(exec(target, t, p)?))
            }
            None => None,
        };
        responses.push(ResponseOp { response });
    }
    Ok(TxnResponse {
        header: Some(ResponseHeader::default()),
        succeeded: path.succeeded,
        responses,
    })
}

/// A read view as a txn target that refuses writes (for read-only txns).
pub(crate) struct ReadOnly<V>(pub V);

impl<V: ReadView> ReadView for ReadOnly<V> {
    fn rev(&self) -> i64 {
        self.0.rev()
    }

    fn first_rev(&self) -> i64 {
        self.0.first_rev()
    }

    fn range_keys(
        &self,
        key: &[u8],
        range_end: &[u8],
        opts: RawRangeOpts,
    ) -> Result<RawRange, MvccError> {
        self.0.range_keys(key, range_end, opts)
    }
}

impl<V: ReadView> TxnTarget for ReadOnly<V> {
    fn put(&mut self, _: &PutRequest) -> Result<PutResponse, MvccError> {
        Err(MvccError::NotReadOnly)
    }

    fn delete_range(&mut self, _: &DeleteRangeRequest) -> Result<DeleteRangeResponse, MvccError> {
        Err(MvccError::NotReadOnly)
    }
}
