//! Revisions (main, sub) and their encoding as key-bucket keys, byte-compatible with
//! etcd: 8-byte big-endian main, `_`, 8-byte big-endian sub, plus `t` for a tombstone.

use crate::MvccError;

/// Length of an encoded revision without the tombstone mark.
pub(crate) const REV_BYTES_LEN: usize = 17;
const TOMBSTONE_MARK: u8 = b't';

/// One change's position in history: `main` is the store revision of the write request,
/// `sub` the change's index inside it. Ordered by (main, sub).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Revision {
    pub main: i64,
    pub sub: i64,
}

impl Revision {
    pub(crate) const fn new(main: i64, sub: i64) -> Self {
        Revision { main, sub }
    }

    /// The key-bucket key of this revision.
    pub(crate) fn to_key(self, tombstone: bool) -> Vec<u8> {
        let mut b = Vec::with_capacity(REV_BYTES_LEN + 1);
        b.extend_from_slice(&(self.main as u64).to_be_bytes());
        b.push(b'_');
        b.extend_from_slice(&(self.sub as u64).to_be_bytes());
        if tombstone {
            b.push(TOMBSTONE_MARK);
        }
        b
    }

    /// Decodes a key-bucket key into its revision and whether it marks a tombstone.
    pub(crate) fn from_key(b: &[u8]) -> Result<(Revision, bool), MvccError> {
        let tombstone = match b.len() {
            REV_BYTES_LEN => false,
            n if n == REV_BYTES_LEN + 1 && b[REV_BYTES_LEN] == TOMBSTONE_MARK => true,
            _ => {
                return Err(MvccError::Corrupt(format!(
                    "malformed revision key {b:02x?}"
                )));
            }
        };
        let mut main = [0u8; 8];
        let mut sub = [0u8; 8];
        main.copy_from_slice(&b[..8]);
        sub.copy_from_slice(&b[9..17]);
        let rev = Revision {
            main: u64::from_be_bytes(main) as i64,
            sub: u64::from_be_bytes(sub) as i64,
        };
        Ok((rev, tombstone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_matches_etcd_and_sorts_by_revision() {
        let k = Revision::new(2, 1).to_key(false);
        assert_eq!(k, [0, 0, 0, 0, 0, 0, 0, 2, b'_', 0, 0, 0, 0, 0, 0, 0, 1]);
        let t = Revision::new(2, 1).to_key(true);
        assert_eq!(t.len(), 18);
        assert_eq!(t[17], b't');
        assert_eq!(
            Revision::from_key(&k).unwrap(),
            (Revision::new(2, 1), false)
        );
        assert_eq!(Revision::from_key(&t).unwrap(), (Revision::new(2, 1), true));
        assert!(Revision::new(2, 1).to_key(true) < Revision::new(2, 2).to_key(false));
        assert!(Revision::new(2, 9).to_key(false) < Revision::new(3, 0).to_key(false));
        assert!(Revision::new(255, 0).to_key(false) < Revision::new(256, 0).to_key(false));
        assert!(Revision::from_key(b"short").is_err());
        let mut bad = k.clone();
        bad.push(b'x');
        assert!(Revision::from_key(&bad).is_err());
    }
}
