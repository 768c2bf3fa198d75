//! How a failed request is named in the error distribution: like Go gRPC's error text
//! (`rpc error: code = Unavailable desc = ...`), so counts read as etcd's tool prints them.

use tonic::{Code, Status};

/// The error distribution key of a failed request.
pub fn describe(status: &Status) -> String {
    format!(
        "rpc error: code = {} desc = {}",
        code_name(status.code()),
        status.message()
    )
}

/// The Go spelling of a gRPC status code.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_grpc() {
        assert_eq!(
            describe(&Status::invalid_argument("etcdserver: key is not provided")),
            "rpc error: code = InvalidArgument desc = etcdserver: key is not provided"
        );
        assert_eq!(
            describe(&Status::cancelled("x")),
            "rpc error: code = Canceled desc = x"
        );
    }
}
