//! The server in-process: snapshots, WAL release and restart from a snapshot marker.

mod snapshot;
