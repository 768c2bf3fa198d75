//! Member, cluster and request IDs, derived exactly as etcd derives them so that the same
//! flags give the same IDs, and different `--initial-cluster-token`s never collide.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};

fn sha1_prefix(bytes: &[u8]) -> u64 {
    let hash = Sha1::digest(bytes);
    let mut b = [0u8; 8];
    b.copy_from_slice(&hash[..8]);
    u64::from_be_bytes(b)
}

/// etcd's computeMemberID: SHA-1 over the sorted, concatenated peer URLs, the cluster
/// token and, for members added at runtime, the time in Unix seconds.
pub fn member_id(peer_urls: &[String], cluster_token: &str, added_at_unix: Option<i64>) -> u64 {
    let mut urls: Vec<&str> = peer_urls.iter().map(String::as_str).collect();
    urls.sort_unstable();
    let mut b = urls.concat().into_bytes();
    b.extend_from_slice(cluster_token.as_bytes());
    if let Some(t) = added_at_unix {
        b.extend_from_slice(t.to_string().as_bytes());
    }
    sha1_prefix(&b)
}

/// etcd's cluster ID: SHA-1 over the sorted member IDs, big-endian.
pub fn cluster_id(member_ids: &[u64]) -> u64 {
    let mut ids = member_ids.to_vec();
    ids.sort_unstable();
    let b: Vec<u8> = ids.iter().flat_map(|id| id.to_be_bytes()).collect();
    sha1_prefix(&b)
}

/// Formats an ID as etcd prints it (lower-case hex, no padding).
pub fn id_hex(id: u64) -> String {
    format!("{id:x}")
}

/// Unique request IDs, as etcd's idutil: 16 bits of member ID, 40 bits of start time in
/// milliseconds, then a counter (which may carry into the time bits, never into the
/// member bits).
#[derive(Debug)]
pub struct RequestIdGenerator {
    prefix: u64,
    suffix: AtomicU64,
}

const TS_BITS: u32 = 40;
const CNT_BITS: u32 = 8;
const SUFFIX_BITS: u32 = TS_BITS + CNT_BITS;

fn low_bits(x: u64, n: u32) -> u64 {
    x & ((1u64 << n) - 1)
}

impl RequestIdGenerator {
    pub fn new(member_id: u64) -> Self {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        RequestIdGenerator {
            prefix: (member_id & 0xffff) << SUFFIX_BITS,
            suffix: AtomicU64::new(low_bits(ms, TS_BITS) << CNT_BITS),
        }
    }

    pub fn next(&self) -> u64 {
        let s = self.suffix.fetch_add(1, Ordering::Relaxed) + 1;
        self.prefix | low_bits(s, SUFFIX_BITS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_member_and_cluster_ids_match_etcd() {
        // etcd's well-known IDs for `etcd` run with all defaults.
        let m = member_id(&["http://localhost:2380".to_string()], "etcd-cluster", None);
        assert_eq!(id_hex(m), "8e9e05c52164694d");
        assert_eq!(id_hex(cluster_id(&[m])), "cdf818194e3a8c32");
    }

    #[test]
    fn token_changes_ids() {
        let a = member_id(&["http://a:1".to_string()], "t1", None);
        let b = member_id(&["http://a:1".to_string()], "t2", None);
        assert_ne!(a, b);
    }

    #[test]
    fn request_ids_are_unique_and_keep_member_bits() {
        let g = RequestIdGenerator::new(0xabcd_1234);
        let a = g.next();
        let b = g.next();
        assert_ne!(a, b);
        assert_eq!(a >> SUFFIX_BITS, 0x1234);
    }
}
