//! Project tasks: cluster, test, bench, lint

fn main() {}
