//! Request checks etcd does before proposing (its v3rpc layer), with etcd's errors.

use std::collections::HashSet;

use bytes::Bytes;
use etcd_api::etcdserverpb::range_request::{SortOrder, SortTarget};
use etcd_api::etcdserverpb::request_op::Request;
use etcd_api::etcdserverpb::{DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest};

use crate::MvccError;

/// EmptyKey, or InvalidSortOption for sort values outside the enums.
pub fn check_range(req: &RangeRequest) -> Result<(), MvccError> {
    if req.key.is_empty() {
        return Err(MvccError::EmptyKey);
    }
    if SortOrder::try_from(req.sort_order).is_err()
        || SortTarget::try_from(req.sort_target).is_err()
    {
        return Err(MvccError::InvalidSortOption);
    }
    Ok(())
}

/// EmptyKey; ValueProvided / LeaseProvided when a value / lease comes with
/// ignore_value / ignore_lease.
pub fn check_put(req: &PutRequest) -> Result<(), MvccError> {
    if req.key.is_empty() {
        return Err(MvccError::EmptyKey);
    }
    if req.ignore_value && !req.value.is_empty() {
        return Err(MvccError::ValueProvided);
    }
    if req.ignore_lease && req.lease != 0 {
        return Err(MvccError::LeaseProvided);
    }
    Ok(())
}

pub fn check_delete_range(req: &DeleteRangeRequest) -> Result<(), MvccError> {
    if req.key.is_empty() {
        return Err(MvccError::EmptyKey);
    }
    Ok(())
}

/// etcd's checkTxnRequest then checkIntervals on both branches:
/// - TooManyOps when the compares, the success ops or the failure ops of the txn number
///   more than `max_txn_ops`; a nested txn gets what its parent left
///   (`max_txn_ops` minus the parent's largest count);
/// - EmptyKey for a compare or op without a key; KeyNotFound for an empty op; the
///   checks of each op kind;
/// - DuplicateKey when, within one branch, a key is put twice or put inside a deleted
///   range (nested txns included; a key put in both branches of one nested txn is fine).
pub fn check_txn(req: &TxnRequest, max_txn_ops: usize) -> Result<(), MvccError> {
    check_txn_ops(req, i64::try_from(max_txn_ops).unwrap_or(i64::MAX))?;
    check_intervals(&req.success)?;
    check_intervals(&req.failure)?;
    Ok(())
}

fn check_txn_ops(req: &TxnRequest, max_txn_ops: i64) -> Result<(), MvccError> {
    let opc = req
        .compare
        .len()
        .max(req.success.len())
        .max(req.failure.len()) as i64;
    if opc > max_txn_ops {
        return Err(MvccError::TooManyOps);
    }
    if req.compare.iter().any(|c| c.key.is_empty()) {
        return Err(MvccError::EmptyKey);
    }
    for op in req.success.iter().chain(&req.failure) {
        match &op.request {
            Some(Request::RequestRange(r)) => check_range(r)?,
            Some(Request::RequestPut(r)) => check_put(r)?,
            Some(Request::RequestDeleteRange(r)) => check_delete_range(r)?,
            Some(Request::RequestTxn(t)) => check_txn_ops(t, max_txn_ops - opc)?,
            None => return Err(MvccError::KeyNotFound),
        }
    }
    Ok(())
}

/// A deleted key range as etcd's interval tree sees it: `[start, end)`, where a single
/// key `k` is `[k, k + "\0")`. An interval with `end <= start` (which includes etcd's
/// "from key" range end `"\0"`) contains nothing.
#[derive(Clone, Debug)]
struct Deleted {
    start: Bytes,
    /// None: the single key `start`.
    end: Option<Bytes>,
}

impl Deleted {
    fn contains(&self, key: &[u8]) -> bool {
        match &self.end {
            None => key == &self.start[..],
            Some(end) => &self.start[..] <= key && key < &end[..],
        }
    }
}

fn intersects(dels: &[Deleted], key: &[u8]) -> bool {
    dels.iter().any(|d| d.contains(key))
}

/// etcd's checkIntervals over the ops of one branch; returns the keys put and ranges
/// deleted (recursively) for the parent's checks.
fn check_intervals(ops: &[RequestOp]) -> Result<(HashSet<Bytes>, Vec<Deleted>), MvccError> {
    // This level's deletes first, to check the puts of nested txns against them.
    let mut dels: Vec<Deleted> = ops
        .iter()
        .filter_map(|op| match &op.request {
            Some(Request::RequestDeleteRange(d)) => Some(Deleted {
                start: d.key.clone(),
                end: (!d.range_end.is_empty()).then(|| d.range_end.clone()),
            }),
            _ => None,
        })
        .collect();

    let mut puts: HashSet<Bytes> = HashSet::new();
    for op in ops {
        let Some(Request::RequestTxn(t)) = &op.request else {
            continue;
        };
        let (puts_then, dels_then) = check_intervals(&t.success)?;
        let (puts_else, dels_else) = check_intervals(&t.failure)?;
        for k in &puts_then {
            if puts.contains(k) || intersects(&dels, k) {
                return Err(MvccError::DuplicateKey);
            }
            puts.insert(k.clone());
        }
        for k in &puts_else {
            // then and else exclude each other: a key put by both is fine.
            if (puts.contains(k) && !puts_then.contains(k)) || intersects(&dels, k) {
                return Err(MvccError::DuplicateKey);
            }
            puts.insert(k.clone());
        }
        dels.extend(dels_then);
        dels.extend(dels_else);
    }

    for op in ops {
        let Some(Request::RequestPut(p)) = &op.request else {
            continue;
        };
        if puts.contains(&p.key) || intersects(&dels, &p.key) {
            return Err(MvccError::DuplicateKey);
        }
        puts.insert(p.key.clone());
    }
    Ok((puts, dels))
}

/// Whether the txn neither puts nor deletes, in any branch, recursively.
pub fn is_txn_read_only(req: &TxnRequest) -> bool {
    req.success
        .iter()
        .chain(&req.failure)
        .all(|op| match &op.request {
            Some(Request::RequestPut(_) | Request::RequestDeleteRange(_)) => false,
            Some(Request::RequestTxn(t)) => is_txn_read_only(t),
            Some(Request::RequestRange(_)) | None => true,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use etcd_api::etcdserverpb::Compare;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }
    fn put(k: &str) -> RequestOp {
        RequestOp {
            request: Some(Request::RequestPut(PutRequest {
                key: b(k),
                ..Default::default()
            })),
        }
    }
    fn del(k: &str, end: &str) -> RequestOp {
        RequestOp {
            request: Some(Request::RequestDeleteRange(DeleteRangeRequest {
                key: b(k),
                range_end: b(end),
                ..Default::default()
            })),
        }
    }
    fn get(k: &str) -> RequestOp {
        RequestOp {
            request: Some(Request::RequestRange(RangeRequest {
                key: b(k),
                ..Default::default()
            })),
        }
    }
    fn txn(success: Vec<RequestOp>, failure: Vec<RequestOp>) -> TxnRequest {
        TxnRequest {
            compare: vec![],
            success,
            failure,
        }
    }
    fn nested(success: Vec<RequestOp>, failure: Vec<RequestOp>) -> RequestOp {
        RequestOp {
            request: Some(Request::RequestTxn(txn(success, failure))),
        }
    }
    fn check(t: &TxnRequest) -> Result<(), MvccError> {
        check_txn(t, 128)
    }

    #[test]
    fn simple_requests() {
        assert!(matches!(
            check_range(&RangeRequest::default()),
            Err(MvccError::EmptyKey)
        ));
        let mut r = RangeRequest {
            key: b("a"),
            ..Default::default()
        };
        assert!(check_range(&r).is_ok());
        r.sort_order = 3;
        assert!(matches!(check_range(&r), Err(MvccError::InvalidSortOption)));
        r.sort_order = 2;
        r.sort_target = 5;
        assert!(matches!(check_range(&r), Err(MvccError::InvalidSortOption)));
        r.sort_target = 4;
        assert!(check_range(&r).is_ok());

        assert!(matches!(
            check_put(&PutRequest::default()),
            Err(MvccError::EmptyKey)
        ));
        let mut p = PutRequest {
            key: b("a"),
            value: b("v"),
            ignore_value: true,
            ..Default::default()
        };
        assert!(matches!(check_put(&p), Err(MvccError::ValueProvided)));
        p.value = Bytes::new();
        assert!(check_put(&p).is_ok());
        p.ignore_lease = true;
        p.lease = 5;
        assert!(matches!(check_put(&p), Err(MvccError::LeaseProvided)));
        p.ignore_lease = false;
        assert!(
            check_put(&p).is_ok(),
            "a lease without ignore_lease is fine"
        );

        assert!(matches!(
            check_delete_range(&DeleteRangeRequest::default()),
            Err(MvccError::EmptyKey)
        ));
        assert!(
            check_delete_range(&DeleteRangeRequest {
                key: b("a"),
                ..Default::default()
            })
            .is_ok()
        );
    }

    #[test]
    fn too_many_ops_counts_compares_branches_and_nesting() {
        let ops = |n: usize| (0..n).map(|i| get(&format!("k{i}"))).collect::<Vec<_>>();
        assert!(check_txn(&txn(ops(3), ops(3)), 3).is_ok());
        assert!(matches!(
            check_txn(&txn(ops(4), vec![]), 3),
            Err(MvccError::TooManyOps)
        ));
        assert!(matches!(
            check_txn(&txn(vec![], ops(4)), 3),
            Err(MvccError::TooManyOps)
        ));
        let mut t = txn(vec![], vec![]);
        t.compare = (0..4)
            .map(|_| Compare {
                key: b("a"),
                ..Default::default()
            })
            .collect();
        assert!(matches!(check_txn(&t, 3), Err(MvccError::TooManyOps)));
        // Nested txns get what the parent left: 128 - 100 = 28 (checked against etcd 3.4).
        let mut outer = ops(99);
        outer.push(nested(ops(28), vec![]));
        assert!(check_txn(&txn(outer, vec![]), 128).is_ok());
        let mut outer = ops(99);
        outer.push(nested(ops(29), vec![]));
        assert!(matches!(
            check_txn(&txn(outer, vec![]), 128),
            Err(MvccError::TooManyOps)
        ));
    }

    #[test]
    fn empty_keys_and_ops() {
        let mut t = txn(vec![get("a")], vec![]);
        t.compare.push(Compare::default());
        assert!(matches!(check(&t), Err(MvccError::EmptyKey)));
        assert!(matches!(
            check(&txn(vec![put("")], vec![])),
            Err(MvccError::EmptyKey)
        ));
        assert!(matches!(
            check(&txn(vec![], vec![del("", "")])),
            Err(MvccError::EmptyKey)
        ));
        assert!(matches!(
            check(&txn(vec![nested(vec![get("")], vec![])], vec![])),
            Err(MvccError::EmptyKey)
        ));
        assert!(matches!(
            check(&txn(vec![RequestOp { request: None }], vec![])),
            Err(MvccError::KeyNotFound)
        ));
        let mut bad_sort = RangeRequest {
            key: b("a"),
            ..Default::default()
        };
        bad_sort.sort_order = 9;
        let op = RequestOp {
            request: Some(Request::RequestRange(bad_sort)),
        };
        assert!(matches!(
            check(&txn(vec![op], vec![])),
            Err(MvccError::InvalidSortOption)
        ));
    }

    #[test]
    fn duplicate_keys() {
        use MvccError::DuplicateKey as D;
        let dup = |t: TxnRequest| matches!(check(&t), Err(D));
        assert!(dup(txn(vec![put("a"), put("a")], vec![])));
        assert!(dup(txn(vec![], vec![put("a"), put("a")])));
        assert!(
            !dup(txn(vec![put("a")], vec![put("a")])),
            "then and else are separate"
        );
        assert!(dup(txn(vec![del("a", ""), put("a")], vec![])));
        assert!(dup(txn(vec![put("b"), del("a", "c")], vec![])));
        assert!(
            !dup(txn(vec![put("c"), del("a", "c")], vec![])),
            "range end is exclusive"
        );
        assert!(
            !dup(txn(vec![del("a", "c"), del("b", "d")], vec![])),
            "overlapping deletes are fine"
        );
        assert!(
            !dup(txn(vec![get("a"), put("a")], vec![])),
            "ranges are fine"
        );
        // etcd's interval tree never matches a "from key" delete ("\0" end) or an inverted one.
        assert!(!dup(txn(vec![del("a", "\0"), put("b")], vec![])));
        assert!(!dup(txn(vec![del("c", "a"), put("b")], vec![])));
        // Nested txns.
        assert!(dup(txn(
            vec![put("a"), nested(vec![put("a")], vec![])],
            vec![]
        )));
        assert!(dup(txn(
            vec![del("a", ""), nested(vec![put("a")], vec![])],
            vec![]
        )));
        assert!(dup(txn(
            vec![nested(vec![del("a", "")], vec![]), put("a")],
            vec![]
        )));
        assert!(dup(txn(
            vec![nested(vec![], vec![del("a", "z")]), put("b")],
            vec![]
        )));
        assert!(!dup(txn(
            vec![nested(vec![put("a")], vec![put("a")])],
            vec![]
        )));
        assert!(dup(txn(
            vec![
                nested(vec![put("a")], vec![]),
                nested(vec![], vec![put("a")])
            ],
            vec![]
        )));
        assert!(dup(txn(
            vec![nested(vec![put("a"), put("a")], vec![])],
            vec![]
        )));
        // As etcd: an earlier nested delete covers a later nested put, not the reverse.
        assert!(dup(txn(
            vec![
                nested(vec![del("q", "")], vec![]),
                nested(vec![put("q")], vec![])
            ],
            vec![]
        )));
        assert!(!dup(txn(
            vec![
                nested(vec![put("q")], vec![]),
                nested(vec![del("q", "")], vec![])
            ],
            vec![]
        )));
        // A nested txn's own then-delete does not cover its else-put.
        assert!(!dup(txn(
            vec![nested(vec![del("a", "")], vec![put("a")])],
            vec![]
        )));
        // Deeper nesting propagates.
        assert!(dup(txn(
            vec![
                nested(vec![nested(vec![put("x")], vec![])], vec![]),
                put("x")
            ],
            vec![]
        )));
    }

    #[test]
    fn read_only() {
        assert!(is_txn_read_only(&txn(vec![get("a")], vec![get("b")])));
        assert!(is_txn_read_only(&txn(
            vec![nested(vec![get("a")], vec![])],
            vec![]
        )));
        assert!(!is_txn_read_only(&txn(vec![get("a")], vec![put("b")])));
        assert!(!is_txn_read_only(&txn(
            vec![nested(vec![], vec![del("a", "")])],
            vec![]
        )));
        assert!(is_txn_read_only(&TxnRequest::default()));
    }
}
