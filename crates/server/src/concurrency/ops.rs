//! The KV requests the recipes send, shaped as clientv3's ops shape them.

use bytes::{BufMut, Bytes, BytesMut};
use etcd_api::etcdserverpb::compare::{CompareResult, CompareTarget, TargetUnion};
use etcd_api::etcdserverpb::range_request::{SortOrder, SortTarget};
use etcd_api::etcdserverpb::request_op::Request;
use etcd_api::etcdserverpb::{
    Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest,
};

/// The prefix under which the candidates of lock or election `name` queue.
pub fn candidates_prefix(name: &[u8]) -> Bytes {
    let mut p = BytesMut::with_capacity(name.len() + 1);
    p.put_slice(name);
    p.put_u8(b'/');
    p.freeze()
}

/// A candidate's key: the prefix and the lease ID as Go's `%x` prints an int64 (lower
/// case, a minus sign before the magnitude of a negative ID).
pub fn candidate_key(prefix: &[u8], lease: i64) -> Bytes {
    let id = if lease < 0 {
        format!("-{:x}", lease.unsigned_abs())
    } else {
        format!("{lease:x}")
    };
    let mut k = BytesMut::with_capacity(prefix.len() + id.len());
    k.put_slice(prefix);
    k.put_slice(id.as_bytes());
    k.freeze()
}

/// The range end that covers every key starting with `prefix` (clientv3's
/// GetPrefixRangeEnd): the prefix with its last byte below 0xff incremented and the
/// rest dropped; `"\0"` (every key from `prefix` on) when there is no such byte.
pub fn prefix_end(prefix: &[u8]) -> Bytes {
    match prefix.iter().rposition(|&b| b < 0xff) {
        Some(i) => {
            let mut end = prefix[..=i].to_vec();
            end[i] += 1;
            end.into()
        }
        None => Bytes::from_static(b"\0"),
    }
}

/// `create_revision(key) == rev` (rev 0: the key does not exist).
pub fn created_at(key: &Bytes, rev: i64) -> Compare {
    Compare {
        result: CompareResult::Equal as i32,
        target: CompareTarget::Create as i32,
        key: key.clone(),
        target_union: Some(TargetUnion::CreateRevision(rev)),
        ..Default::default()
    }
}

pub fn put(key: &Bytes, value: Bytes, lease: i64) -> RequestOp {
    RequestOp {
        request: Some(Request::RequestPut(PutRequest {
            key: key.clone(),
            value,
            lease,
            ..Default::default()
        })),
    }
}

pub fn delete(key: &Bytes) -> RequestOp {
    RequestOp {
        request: Some(Request::RequestDeleteRange(DeleteRangeRequest {
            key: key.clone(),
            ..Default::default()
        })),
    }
}

pub fn range(req: RangeRequest) -> RequestOp {
    RequestOp {
        request: Some(Request::RequestRange(req)),
    }
}

/// The single key `key`.
pub fn get(key: &Bytes) -> RangeRequest {
    RangeRequest {
        key: key.clone(),
        ..Default::default()
    }
}

/// The oldest key under `prefix`: the holder (clientv3's WithFirstCreate).
pub fn first_created(prefix: &Bytes) -> RangeRequest {
    RangeRequest {
        range_end: prefix_end(prefix),
        sort_target: SortTarget::Create as i32,
        sort_order: SortOrder::Ascend as i32,
        limit: 1,
        ..get(prefix)
    }
}

/// The newest key under `prefix` created at or before `max_create_rev` (clientv3's
/// WithLastCreate and WithMaxCreateRev).
pub fn last_created_up_to(prefix: &Bytes, max_create_rev: i64) -> RangeRequest {
    RangeRequest {
        sort_order: SortOrder::Descend as i32,
        max_create_revision: max_create_rev,
        ..first_created(prefix)
    }
}

/// `if create_revision(key) == rev then ops` with nothing on failure.
pub fn if_created_at(key: &Bytes, rev: i64, then: RequestOp) -> TxnRequest {
    TxnRequest {
        compare: vec![created_at(key, rev)],
        success: vec![then],
        failure: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_etcd_names_them() {
        let p = candidates_prefix(b"mylock");
        assert_eq!(&p[..], b"mylock/");
        assert_eq!(
            &candidate_key(&p, 0x390d_a201_c5d3_e412)[..],
            b"mylock/390da201c5d3e412"
        );
        assert_eq!(&candidate_key(&p, -255)[..], b"mylock/-ff");
        assert_eq!(
            &candidate_key(&p, i64::MIN)[..],
            b"mylock/-8000000000000000"
        );
    }

    #[test]
    fn prefix_ends() {
        assert_eq!(&prefix_end(b"a/")[..], b"a0");
        assert_eq!(&prefix_end(b"a\xff")[..], b"b");
        assert_eq!(&prefix_end(b"\xff\xff")[..], b"\0");
    }

    #[test]
    fn holder_and_predecessor_queries() {
        let p = candidates_prefix(b"e");
        let first = first_created(&p);
        assert_eq!((first.limit, &first.range_end[..]), (1, &b"e0"[..]));
        assert_eq!(first.sort_order, SortOrder::Ascend as i32);
        let last = last_created_up_to(&p, 9);
        assert_eq!(last.sort_order, SortOrder::Descend as i32);
        assert_eq!(last.sort_target, SortTarget::Create as i32);
        assert_eq!(last.max_create_revision, 9);
    }
}
