//! Integration tests: two or three transports in one process on 127.0.0.1:0 listeners
//! served with hyper, each with a fake raft recording what it gets.

mod blackhole;
mod harness;
mod lifecycle;
mod overflow;
mod refusals;
mod snapshot;
mod streams;
