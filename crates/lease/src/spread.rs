//! Promotion's pile-up guard (etcd's Promote): when many leases would expire within the
//! same second, later ones are pushed back so no second needs more revokes than 3/4 of
//! the revoke rate.

use std::time::{Duration, Instant};

use crate::lease::after;
use crate::{LEASE_REVOKE_RATE, LeaseId};

/// Expiries allowed per second after promotion, below the revoke rate so piled-up
/// leases do not take all of it.
const TARGET_EXPIRES_PER_SECOND: u64 = (3 * LEASE_REVOKE_RATE as u64) / 4;

/// Delays expiries in `items` (`(expiry, id)`; sorted here) that pile up beyond
/// [`TARGET_EXPIRES_PER_SECOND`] in a window, as etcd does. Deterministic for a given input.
pub(crate) fn spread(items: &mut [(Instant, LeaseId)], now: Instant) {
    items.sort_unstable();
    let Some(&(first, _)) = items.first() else {
        return;
    };
    let second = Duration::from_secs(1);
    let mut base = first.saturating_duration_since(now);
    let mut next = base.saturating_add(second);
    let mut expires: u64 = 0;
    for item in items.iter_mut() {
        let remaining = item.0.saturating_duration_since(now);
        if remaining > next {
            base = remaining;
            next = base.saturating_add(second);
            expires = 1;
            continue;
        }
        expires += 1;
        if expires <= TARGET_EXPIRES_PER_SECOND {
            continue;
        }
        // Leases already `remaining - base` later than the window start need that much less.
        let rate_delay = expires as f64 / TARGET_EXPIRES_PER_SECOND as f64
            - remaining.saturating_sub(base).as_secs_f64();
        let delay = Duration::try_from_secs_f64(rate_delay).unwrap_or(Duration::ZERO);
        next = base.saturating_add(delay);
        item.0 = after(item.0, delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_leases_are_left_alone() {
        let now = Instant::now();
        let at = now + Duration::from_secs(10);
        let mut items: Vec<_> = (0..700).map(|id| (at, id)).collect();
        spread(&mut items, now);
        assert!(items.iter().all(|&(t, _)| t == at));
    }

    #[test]
    fn a_pile_is_spread_to_the_target_rate() {
        let now = Instant::now();
        let at = now + Duration::from_secs(10);
        let mut items: Vec<_> = (0..3000).map(|id| (at, id)).collect();
        spread(&mut items, now);
        let mut per_second = [0usize; 8];
        for &(t, _) in &items {
            assert!(t >= at);
            let s = (t - at).as_secs() as usize;
            per_second[s] += 1;
        }
        let target = TARGET_EXPIRES_PER_SECOND as usize;
        assert_eq!(per_second[0], target, "{per_second:?}");
        assert!(
            per_second.iter().all(|&n| n <= target + 1),
            "{per_second:?}"
        );
        assert_eq!(per_second.iter().sum::<usize>(), 3000);
        let last = items.iter().map(|&(t, _)| t).max().unwrap();
        assert!(last - at < Duration::from_secs(5), "{:?}", last - at);
    }
}
