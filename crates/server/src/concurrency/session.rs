//! The lease a recipe request runs under: the caller's, or a fresh one when it names
//! none (etcd's NewSession grants one with the default session TTL and, the session
//! being orphaned at once, never renews it).

use etcd_api::etcdserverpb::LeaseGrantRequest;

use super::error::Result;
use crate::proposal::AuthInfo;
use crate::server::EtcdServer;

/// TTL of a lease granted for a request without one (etcd's defaultSessionTTL).
pub const DEFAULT_SESSION_TTL: i64 = 60;

/// `lease`, or a new lease of [`DEFAULT_SESSION_TTL`] seconds when it is 0 (NoLease).
/// Whether a given lease exists is left to the write that attaches it.
pub async fn session_lease(server: &EtcdServer, lease: i64, auth: &AuthInfo) -> Result<i64> {
    if lease != 0 {
        return Ok(lease);
    }
    let req = LeaseGrantRequest {
        ttl: DEFAULT_SESSION_TTL,
        id: 0,
    };
    Ok(server.lease_grant(req, auth).await?.id)
}
