//! The etcd v3 wire API: prost/tonic types generated from `proto/`, and the table of the
//! errors etcd puts on the wire. No logic lives here.

#![allow(clippy::all, missing_docs, rust_2018_idioms)]

mod wire_error;

pub use wire_error::WireError;

/// Key-value records and watch events (`mvccpb`).
pub mod mvccpb {
    include!(concat!(env!("OUT_DIR"), "/mvccpb.rs"));
}

/// Users, roles and permissions (`authpb`).
pub mod authpb {
    include!(concat!(env!("OUT_DIR"), "/authpb.rs"));
}

/// Membership records carried through raft (`membershippb`).
pub mod membershippb {
    include!(concat!(env!("OUT_DIR"), "/membershippb.rs"));
}

/// The client API services and messages, and the internal raft request (`etcdserverpb`).
pub mod etcdserverpb {
    include!(concat!(env!("OUT_DIR"), "/etcdserverpb.rs"));
}

/// The election service (`v3electionpb`).
pub mod v3electionpb {
    include!(concat!(env!("OUT_DIR"), "/v3electionpb.rs"));
}

/// The lock service (`v3lockpb`).
pub mod v3lockpb {
    include!(concat!(env!("OUT_DIR"), "/v3lockpb.rs"));
}

pub use prost;
pub use tonic;
