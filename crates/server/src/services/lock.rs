//! The Lock service (v3lockpb): distributed locks on leases and transactions.

use std::sync::Arc;

use etcd_api::v3lockpb::lock_server::Lock;

use crate::server::EtcdServer;

pub struct LockService(pub Arc<EtcdServer>);

#[tonic::async_trait]
impl Lock for LockService {}

impl LockService {
    #[allow(dead_code)]
    fn server(&self) -> &Arc<EtcdServer> {
        &self.0
    }
}
