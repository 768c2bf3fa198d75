//! The named key spaces of a backend (etcd's bolt buckets).

/// Named key spaces of the backend (etcd's buckets). All are in one atomic write batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    Key,
    Meta,
    Lease,
    Auth,
    AuthUsers,
    AuthRoles,
    Members,
    MembersRemoved,
    Cluster,
    Alarm,
}

impl Bucket {
    /// Every bucket, in prefix order.
    pub const ALL: [Bucket; 10] = [
        Bucket::Key,
        Bucket::Meta,
        Bucket::Lease,
        Bucket::Auth,
        Bucket::AuthUsers,
        Bucket::AuthRoles,
        Bucket::Members,
        Bucket::MembersRemoved,
        Bucket::Cluster,
        Bucket::Alarm,
    ];

    /// The byte that prefixes this bucket's keys in a single-keyspace backend. Stable:
    /// it is part of the on-disk format.
    pub const fn prefix(self) -> u8 {
        match self {
            Bucket::Key => 1,
            Bucket::Meta => 2,
            Bucket::Lease => 3,
            Bucket::Auth => 4,
            Bucket::AuthUsers => 5,
            Bucket::AuthRoles => 6,
            Bucket::Members => 7,
            Bucket::MembersRemoved => 8,
            Bucket::Cluster => 9,
            Bucket::Alarm => 10,
        }
    }

    /// etcd's name for the bucket (the key bucket's name is also hashed by `hash_kv`).
    pub const fn name(self) -> &'static str {
        match self {
            Bucket::Key => "key",
            Bucket::Meta => "meta",
            Bucket::Lease => "lease",
            Bucket::Auth => "auth",
            Bucket::AuthUsers => "authUsers",
            Bucket::AuthRoles => "authRoles",
            Bucket::Members => "members",
            Bucket::MembersRemoved => "members_removed",
            Bucket::Cluster => "cluster",
            Bucket::Alarm => "alarm",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_distinct_and_ordered() {
        let prefixes: Vec<u8> = Bucket::ALL.iter().map(|b| b.prefix()).collect();
        let mut sorted = prefixes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(prefixes, sorted);
        assert_eq!(Bucket::Key.name(), "key");
    }
}
