//! Options shared by every workload: where to connect and how many clients to run.

use std::time::Duration;

use crate::Error;

/// Global options, named after etcd benchmark's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `host:port` or `http://host:port` of each member.
    pub endpoints: Vec<String>,
    /// Number of gRPC connections (HTTP/2 channels), spread round-robin over endpoints.
    pub conns: usize,
    /// Number of concurrent clients, spread round-robin over connections.
    pub clients: usize,
    /// Send only to the leader, found with `Maintenance.Status` on each endpoint.
    pub target_leader: bool,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Time allowed to establish each connection.
    pub dial_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            endpoints: vec!["127.0.0.1:2379".to_owned()],
            conns: 1,
            clients: 1,
            target_leader: false,
            progress: false,
            dial_timeout: Duration::from_secs(5),
        }
    }
}

impl Options {
    /// Checks the counts are positive.
    pub fn validate(&self) -> Result<(), Error> {
        if self.conns == 0 {
            return Err(Error::NotPositive { flag: "conns" });
        }
        if self.clients == 0 {
            return Err(Error::NotPositive { flag: "clients" });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_etcds() {
        let o = Options::default();
        assert_eq!(o.endpoints, ["127.0.0.1:2379"]);
        assert_eq!((o.conns, o.clients), (1, 1));
        assert!(o.validate().is_ok());
    }

    #[test]
    fn zero_counts_are_rejected() {
        let o = Options {
            conns: 0,
            ..Options::default()
        };
        assert!(matches!(
            o.validate(),
            Err(Error::NotPositive { flag: "conns" })
        ));
        let o = Options {
            clients: 0,
            ..Options::default()
        };
        assert!(matches!(
            o.validate(),
            Err(Error::NotPositive { flag: "clients" })
        ));
    }
}
