//! Key and value generation: keys are big-endian counters of `key_size` bytes, picked
//! sequentially or at random from a key space; values are random bytes made once.

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

use crate::Error;

/// Encodes `index` as a big-endian counter of exactly `key_size` bytes: zero-padded on the
/// left when longer than 8 bytes, keeping only the low bytes when shorter.
pub fn encode_key(index: u64, key_size: usize) -> Bytes {
    let be = index.to_be_bytes();
    let mut key = vec![0u8; key_size];
    if key_size >= be.len() {
        key[key_size - be.len()..].copy_from_slice(&be);
    } else {
        key.copy_from_slice(&be[be.len() - key_size..]);
    }
    Bytes::from(key)
}

/// Checks that `keys` distinct keys exist among keys of `key_size` bytes, and that both
/// are positive.
pub fn check_key_space(keys: u64, key_size: usize) -> Result<(), Error> {
    if key_size == 0 {
        return Err(Error::NotPositive { flag: "key-size" });
    }
    if keys == 0 {
        return Err(Error::NotPositive {
            flag: "key-space-size",
        });
    }
    let bits = key_size.saturating_mul(8);
    if bits < 64 && keys > 1u64 << bits {
        return Err(Error::KeySpaceTooLarge { keys, key_size });
    }
    Ok(())
}

/// Random bytes of the given length.
pub fn random_value(size: usize) -> Bytes {
    let mut value = vec![0u8; size];
    rand::rng().fill_bytes(&mut value);
    Bytes::from(value)
}

/// Produces the key of each request of one client.
#[derive(Debug)]
pub struct KeyGen {
    key_size: usize,
    key_space: u64,
    sequential: bool,
    rng: StdRng,
}

impl KeyGen {
    /// A generator over `key_space` keys (validated by [`check_key_space`]; at least 1).
    pub fn new(key_size: usize, key_space: u64, sequential: bool) -> Self {
        Self {
            key_size,
            key_space: key_space.max(1),
            sequential,
            rng: StdRng::from_rng(&mut rand::rng()),
        }
    }

    /// The key of request number `request`: `request % key_space` when sequential, else
    /// uniform over the key space.
    pub fn key(&mut self, request: u64) -> Bytes {
        let n = if self.sequential {
            request % self.key_space
        } else {
            self.rng.random_range(0..self.key_space)
        };
        encode_key(n, self.key_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_big_endian_of_exact_size() {
        assert_eq!(&encode_key(1, 8)[..], &[0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(&encode_key(0x0102, 10)[..], &[0, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(&encode_key(0x0102_0304, 2)[..], &[3, 4]);
        assert_eq!(encode_key(7, 32).len(), 32);
    }

    #[test]
    fn big_endian_keys_sort_like_their_counters() {
        let keys: Vec<_> = (0..300).map(|i| encode_key(i, 8)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn sequential_keys_cycle_through_the_space() {
        let mut keys = KeyGen::new(8, 3, true);
        let got: Vec<_> = (0..6).map(|i| keys.key(i)).collect();
        let want: Vec<_> = [0, 1, 2, 0, 1, 2].map(|i| encode_key(i, 8)).into();
        assert_eq!(got, want);
    }

    #[test]
    fn random_keys_stay_in_the_space() {
        let mut keys = KeyGen::new(4, 5, false);
        let allowed: Vec<_> = (0..5).map(|i| encode_key(i, 4)).collect();
        let mut seen = std::collections::HashSet::new();
        for i in 0..500 {
            let k = keys.key(i);
            assert!(allowed.contains(&k), "{k:?} outside the key space");
            seen.insert(k);
        }
        assert_eq!(seen.len(), 5, "500 draws should hit all 5 keys");
    }

    #[test]
    fn key_space_checks() {
        assert!(check_key_space(1, 8).is_ok());
        assert!(check_key_space(256, 1).is_ok());
        assert!(check_key_space(u64::MAX, 8).is_ok());
        assert!(matches!(
            check_key_space(257, 1),
            Err(Error::KeySpaceTooLarge {
                keys: 257,
                key_size: 1
            })
        ));
        assert!(matches!(
            check_key_space(0, 8),
            Err(Error::NotPositive {
                flag: "key-space-size"
            })
        ));
        assert!(matches!(
            check_key_space(1, 0),
            Err(Error::NotPositive { flag: "key-size" })
        ));
    }

    #[test]
    fn values_have_the_requested_size() {
        assert_eq!(random_value(0).len(), 0);
        assert_eq!(random_value(33).len(), 33);
    }
}
