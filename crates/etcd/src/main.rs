//! The etcd binary

fn main() {}
