//! Black-box tests: the real `etcd` binary, driven as users drive it (etcdctl, the
//! etcd-client crate, plain HTTP, signals and kill -9).

mod support;

mod client_kv;
mod cluster;
mod crash;
mod etcdctl_kv;
mod flags;
mod http_endpoints;
mod limits;
mod lock_elect;
mod peer_endpoints;
mod tls;
mod wal_repair;
mod watch_lease;
