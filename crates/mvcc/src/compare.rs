//! Txn compares, as etcd's applyCompare / compareKV.

use std::cmp::Ordering;

use etcd_api::etcdserverpb::Compare;
use etcd_api::etcdserverpb::compare::{CompareResult, CompareTarget, TargetUnion};
use etcd_api::mvccpb::KeyValue;

use crate::MvccError;
use crate::view::{RawRangeOpts, ReadView};

/// Whether every compare holds in `view`.
pub(crate) fn apply_compares(view: &impl ReadView, cmps: &[Compare]) -> Result<bool, MvccError> {
    for c in cmps {
        if !apply_compare(view, c)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A compare over a range holds only if it holds for every key in it. A missing key
/// compares as a zero KeyValue, except that a VALUE compare on missing keys is false
/// (there is no way to tell a missing value from an empty one).
fn apply_compare(view: &impl ReadView, c: &Compare) -> Result<bool, MvccError> {
    let rr = match view.range_keys(&c.key, &c.range_end, RawRangeOpts::default()) {
        Ok(rr) => rr,
        Err(MvccError::Compacted | MvccError::FutureRev) => return Ok(false),
        Err(e) => return Err(e),
    };
    if rr.kvs.is_empty() {
        if c.target == CompareTarget::Value as i32 {
            return Ok(false);
        }
        return Ok(compare_kv(c, &KeyValue::default()));
    }
    Ok(rr.kvs.iter().all(|kv| compare_kv(c, kv)))
}

fn compare_kv(c: &Compare, kv: &KeyValue) -> bool {
    let int = |actual: i64, want: Option<i64>| actual.cmp(&want.unwrap_or(0));
    let result = match CompareTarget::try_from(c.target) {
        Ok(CompareTarget::Value) => {
            let want: &[u8] = match &c.target_union {
                Some(TargetUnion::Value(v)) => v,
                _ => &[],
            };
            kv.value.as_ref().cmp(want)
        }
        Ok(CompareTarget::Create) => int(
            kv.create_revision,
            match c.target_union {
                Some(TargetUnion::CreateRevision(v)) => Some(v),
                _ => None,
            },
        ),
        Ok(CompareTarget::Mod) => int(
            kv.mod_revision,
            match c.target_union {
                Some(TargetUnion::ModRevision(v)) => Some(v),
                _ => None,
            },
        ),
        Ok(CompareTarget::Version) => int(
            kv.version,
            match c.target_union {
                Some(TargetUnion::Version(v)) => Some(v),
                _ => None,
            },
        ),
        Ok(CompareTarget::Lease) => int(
            kv.lease,
            match c.target_union {
                Some(TargetUnion::Lease(v)) => Some(v),
                _ => None,
            },
        ),
        Err(_) => Ordering::Equal,
    };
    match CompareResult::try_from(c.result) {
        Ok(CompareResult::Equal) => result == Ordering::Equal,
        Ok(CompareResult::NotEqual) => result != Ordering::Equal,
        Ok(CompareResult::Greater) => result == Ordering::Greater,
        Ok(CompareResult::Less) => result == Ordering::Less,
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn cmp(target: CompareTarget, result: CompareResult, u: Option<TargetUnion>) -> Compare {
        Compare {
            result: result as i32,
            target: target as i32,
            key: Bytes::from_static(b"k"),
            range_end: Bytes::new(),
            target_union: u,
        }
    }

    #[test]
    fn compare_kv_targets_and_results() {
        let kv = KeyValue {
            key: Bytes::from_static(b"k"),
            create_revision: 2,
            mod_revision: 4,
            version: 3,
            value: Bytes::from_static(b"bar"),
            lease: 7,
        };
        use CompareResult::*;
        use CompareTarget as T;
        assert!(compare_kv(
            &cmp(T::Version, Equal, Some(TargetUnion::Version(3))),
            &kv
        ));
        assert!(compare_kv(
            &cmp(T::Create, Less, Some(TargetUnion::CreateRevision(3))),
            &kv
        ));
        assert!(compare_kv(
            &cmp(T::Mod, Greater, Some(TargetUnion::ModRevision(3))),
            &kv
        ));
        assert!(compare_kv(
            &cmp(T::Lease, NotEqual, Some(TargetUnion::Lease(8))),
            &kv
        ));
        assert!(compare_kv(
            &cmp(
                T::Value,
                Greater,
                Some(TargetUnion::Value(Bytes::from_static(b"bap")))
            ),
            &kv
        ));
        assert!(!compare_kv(
            &cmp(
                T::Value,
                Equal,
                Some(TargetUnion::Value(Bytes::from_static(b"ba")))
            ),
            &kv
        ));
        // A union that does not match the target compares against zero / empty.
        assert!(compare_kv(
            &cmp(T::Version, Greater, Some(TargetUnion::ModRevision(100))),
            &kv
        ));
        assert!(compare_kv(&cmp(T::Value, Greater, None), &kv));
        // Unknown result values hold; unknown targets compare equal.
        let mut odd = cmp(T::Version, Equal, None);
        odd.result = 42;
        assert!(compare_kv(&odd, &kv));
        odd.result = Equal as i32;
        odd.target = 42;
        assert!(compare_kv(&odd, &kv));
    }
}
