//! The Election service (v3electionpb): leader election on leases and transactions.

use std::sync::Arc;

use etcd_api::v3electionpb::election_server::Election;

use crate::server::EtcdServer;

pub struct ElectionService(pub Arc<EtcdServer>);

#[tonic::async_trait]
impl Election for ElectionService {}

impl ElectionService {
    #[allow(dead_code)]
    fn server(&self) -> &Arc<EtcdServer> {
        &self.0
    }
}
