//! What a client asks of one watcher.

use bytes::Bytes;
use etcd_api::etcdserverpb::WatchCreateRequest;
use etcd_api::etcdserverpb::watch_create_request::FilterType;
use etcd_api::mvccpb::Event;
use etcd_api::mvccpb::event::EventType;

/// A watch create request, as the store needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchOptions {
    /// The ID the client chose; 0 lets the stream pick the lowest unused one.
    pub watch_id: i64,
    /// etcd's key range conventions (see [`etcd_api::etcdserverpb::RangeRequest`]).
    pub key: Bytes,
    pub range_end: Bytes,
    /// First revision to deliver; 0 = the next one. A past revision replays history.
    pub start_revision: i64,
    /// Attach the key's previous state to each event.
    pub prev_kv: bool,
    pub no_put: bool,
    pub no_delete: bool,
    /// Send a progress notification when nothing was delivered for a progress interval.
    pub progress_notify: bool,
    /// The consumer may split large responses (carried along in the updates).
    pub fragment: bool,
}

impl From<&WatchCreateRequest> for WatchOptions {
    fn from(r: &WatchCreateRequest) -> Self {
        let has = |f: FilterType| r.filters.contains(&(f as i32));
        WatchOptions {
            watch_id: r.watch_id,
            key: r.key.clone(),
            range_end: r.range_end.clone(),
            start_revision: r.start_revision,
            prev_kv: r.prev_kv,
            no_put: has(FilterType::Noput),
            no_delete: has(FilterType::Nodelete),
            progress_notify: r.progress_notify,
            fragment: r.fragment,
        }
    }
}

/// The per-watcher choices that shape each delivered event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct EventFilter {
    pub(crate) prev_kv: bool,
    pub(crate) no_put: bool,
    pub(crate) no_delete: bool,
}

impl EventFilter {
    pub(crate) fn accepts(&self, ev: &Event) -> bool {
        if ev.r#type == EventType::Delete as i32 {
            !self.no_delete
        } else {
            !self.no_put
        }
    }

    /// The event as this watcher receives it: without prev_kv unless asked for.
    pub(crate) fn shape(&self, ev: &Event) -> Event {
        Event {
            r#type: ev.r#type,
            kv: ev.kv.clone(),
            prev_kv: if self.prev_kv {
                ev.prev_kv.clone()
            } else {
                None
            },
        }
    }
}

/// Whether `ev` is a put over an existing key that carries no prev_kv (the write did not
/// read it). Deletes always carry theirs.
pub(crate) fn lacks_prev_kv(ev: &Event) -> bool {
    ev.prev_kv.is_none()
        && ev.r#type == EventType::Put as i32
        && ev
            .kv
            .as_ref()
            .is_some_and(|kv| kv.create_revision != kv.mod_revision)
}

/// The revision an event happened at.
pub(crate) fn event_revision(ev: &Event) -> i64 {
    ev.kv.as_ref().map_or(0, |kv| kv.mod_revision)
}

/// The changed key.
pub(crate) fn event_key(ev: &Event) -> &[u8] {
    ev.kv.as_ref().map_or(&[][..], |kv| &kv.key[..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use etcd_api::mvccpb::KeyValue;

    #[test]
    fn filters_and_prev_kv() {
        let req = WatchCreateRequest {
            filters: vec![FilterType::Nodelete as i32],
            prev_kv: true,
            watch_id: 3,
            ..Default::default()
        };
        let o = WatchOptions::from(&req);
        assert!(o.no_delete && !o.no_put && o.prev_kv && o.watch_id == 3);
        let kv = |v: &'static [u8]| KeyValue {
            key: Bytes::from_static(b"k"),
            value: Bytes::from_static(v),
            mod_revision: 7,
            ..Default::default()
        };
        let put = Event {
            r#type: EventType::Put as i32,
            kv: Some(kv(b"new")),
            prev_kv: Some(kv(b"old")),
        };
        let del = Event {
            r#type: EventType::Delete as i32,
            ..put.clone()
        };
        let f = EventFilter {
            prev_kv: false,
            no_put: false,
            no_delete: true,
        };
        assert!(f.accepts(&put) && !f.accepts(&del));
        assert_eq!(f.shape(&put).prev_kv, None);
        let with_prev = EventFilter { prev_kv: true, ..f };
        assert_eq!(with_prev.shape(&put), put);
        assert_eq!((event_revision(&put), event_key(&put)), (7, &b"k"[..]));
    }
}
