//! Benchmark tool speaking only the etcd v3 API

fn main() {}
