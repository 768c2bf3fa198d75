//! Peer transport for raft (etcd's `rafthttp`): members exchange raft messages over HTTP
//! on the peer port.
//!
//! Each member pulls two long-lived streams from every peer it knows
//! (`GET /raft/stream/{msgapp,message}/{our id}`); the peer writes the messages meant for
//! us into those responses. While no stream is up, messages go by pipeline
//! (`POST /raft`, one message per request). Snapshots are streamed with
//! `POST /raft/snapshot`, and `GET /raft/probing` measures round-trip times.
//!
//! The crate talks to the server only through the [`Raft`] trait.

mod body;
mod client;
mod codec;
mod config;
mod error;
mod fatal;
mod handler;
mod headers;
mod id;
mod metrics;
mod peer;
mod raft;
mod shared;
mod snapshot_file;
mod stream_kind;
mod transport;
mod version;

pub use config::{DEFAULT_DIAL_TIMEOUT, DEFAULT_WRITE_TIMEOUT, TransportConfig};
pub use error::RaftHttpError;
pub use fatal::TransportFatal;
pub use raft::Raft;
pub use snapshot_file::snapshot_db_path;
pub use transport::Transport;
