//! The server in-process: snapshots, WAL release and restart from a snapshot marker;
//! the Watch service over gRPC.

mod snapshot;
mod watch;
