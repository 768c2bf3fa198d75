//! A range request as etcd's applier answers it: fetch (limit + 1 when no sort or
//! filter needs everything), prune by the revision filters, sort, cut to the limit.

use std::cmp::Ordering;

use etcd_api::etcdserverpb::range_request::{SortOrder, SortTarget};
use etcd_api::etcdserverpb::{RangeRequest, RangeResponse, ResponseHeader};
use etcd_api::mvccpb::KeyValue;

use crate::MvccError;
use crate::view::{RawRangeOpts, ReadView};

pub(crate) fn apply_range(
    view: &impl ReadView,
    r: &RangeRequest,
) -> Result<RangeResponse, MvccError> {
    let needs_all = r.sort_order != SortOrder::None as i32
        || r.min_mod_revision != 0
        || r.max_mod_revision != 0
        || r.min_create_revision != 0
        || r.max_create_revision != 0;
    let mut limit = if needs_all { 0 } else { r.limit };
    if limit > 0 {
        limit = limit.saturating_add(1); // one extra tells whether there is more
    }
    let rr = view.range_keys(
        &r.key,
        &r.range_end,
        RawRangeOpts {
            rev: r.revision,
            limit,
            count_only: r.count_only,
        },
    )?;
    let mut kvs = rr.kvs;
    if r.max_mod_revision != 0 {
        kvs.retain(|kv| kv.mod_revision <= r.max_mod_revision);
    }
    if r.min_mod_revision != 0 {
        kvs.retain(|kv| kv.mod_revision >= r.min_mod_revision);
    }
    if r.max_create_revision != 0 {
        kvs.retain(|kv| kv.create_revision <= r.max_create_revision);
    }
    if r.min_create_revision != 0 {
        kvs.retain(|kv| kv.create_revision >= r.min_create_revision);
    }

    let mut order = r.sort_order;
    if r.sort_target != SortTarget::Key as i32 && order == SortOrder::None as i32 {
        // Results come sorted by key; any other target defaults to ascending.
        order = SortOrder::Ascend as i32;
    }
    if let Some(cmp) = comparator(r.sort_target) {
        if order == SortOrder::Ascend as i32 {
            kvs.sort_by(cmp);
        } else if order == SortOrder::Descend as i32 {
            kvs.sort_by(|a, b| cmp(b, a));
        }
    }

    let mut more = false;
    if r.limit > 0 && kvs.len() as i64 > r.limit {
        kvs.truncate(r.limit as usize);
        more = true;
    }
    if r.keys_only {
        for kv in &mut kvs {
            kv.value = Default::default();
        }
    }
    Ok(RangeResponse {
        header: Some(ResponseHeader {
            revision: rr.rev,
            ..Default::default()
        }),
        kvs,
        more,
        count: rr.count,
    })
}

type Cmp = fn(&KeyValue, &KeyValue) -> Ordering;

/// The ascending order of a sort target (None for values outside the enum).
fn comparator(target: i32) -> Option<Cmp> {
    Some(match SortTarget::try_from(target).ok()? {
        SortTarget::Key => |a, b| a.key.cmp(&b.key),
        SortTarget::Version => |a, b| a.version.cmp(&b.version),
        SortTarget::Create => |a, b| a.create_revision.cmp(&b.create_revision),
        SortTarget::Mod => |a, b| a.mod_revision.cmp(&b.mod_revision),
        SortTarget::Value => |a, b| a.value.cmp(&b.value),
    })
}
