//! Behaviour of the store through its public API, on every backend.

mod compaction;
mod concurrency;
mod etcd_compat;
mod etcd_trace;
mod hash;
mod history;
mod put_delete;
mod range;
mod restart;
mod support;
mod txn;
mod watch;

#[test]
fn thread_safety() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<etcd_mvcc::KvStore>();
    send_sync::<etcd_mvcc::SledBackend>();
    send_sync::<etcd_mvcc::MemBackend>();
    send::<etcd_mvcc::WriteTxn<'static>>();
    send_sync::<etcd_mvcc::CompactionWaiter>();
}
