//! Runs every workload through the library API against the reference etcd (skipped with
//! a notice when `etcd` is not on PATH) and checks counts and the data left behind.

mod etcd;
mod kv;
mod lease;
mod options;
mod watch;
