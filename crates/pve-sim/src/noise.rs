//! Deterministic, seeded, smooth noise: a pure function of (seed, entity, channel, time), so any
//! instant (present or past, e.g. for RRD history) can be recomputed and always gives the same
//! value.

/// SplitMix64 finaliser: a good 64-bit mixing function.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hashes a string into a 64-bit key (FNV-1a then mixed).
pub fn key(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// A uniform value in [-1, 1] for an integer lattice point.
fn lattice(seed: u64, entity: u64, channel: u64, knot: i64) -> f64 {
    let h = mix(seed ^ mix(entity ^ mix(channel.wrapping_add(knot as u64))));
    (h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// Smooth value noise in [-1, 1] with knots every `period` seconds (cosine interpolation).
pub fn value_noise(seed: u64, entity: u64, channel: u64, t: f64, period: f64) -> f64 {
    let x = t / period;
    let k = x.floor();
    let frac = x - k;
    let a = lattice(seed, entity, channel, k as i64);
    let b = lattice(seed, entity, channel, k as i64 + 1);
    let w = (1.0 - (frac * std::f64::consts::PI).cos()) / 2.0;
    a + (b - a) * w
}

/// Two octaves (2 min and 15 min) mixed, in [-1, 1].
pub fn wobble(seed: u64, entity: u64, channel: u64, t: f64) -> f64 {
    0.7 * value_noise(seed, entity, channel, t, 120.0)
        + 0.3 * value_noise(seed, entity, channel ^ 0x5555, t, 900.0)
}

/// A deterministic integer in `0..n` for (seed, entity, channel).
pub fn pick(seed: u64, entity: u64, channel: u64, n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        mix(seed ^ mix(entity ^ mix(channel))) % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn deterministic_and_seed_dependent() {
        let a = wobble(1, key("pve1"), 3, 1_000.5);
        assert_eq!(a, wobble(1, key("pve1"), 3, 1_000.5));
        assert_ne!(a, wobble(2, key("pve1"), 3, 1_000.5));
        assert_ne!(a, wobble(1, key("pve2"), 3, 1_000.5));
    }

    proptest! {
        #[test]
        fn bounded_and_continuous(seed in any::<u64>(), t in 0.0f64..4.0e9) {
            let v = wobble(seed, 7, 1, t);
            prop_assert!((-1.0..=1.0).contains(&v));
            let w = wobble(seed, 7, 1, t + 0.01);
            prop_assert!((v - w).abs() < 0.01);
        }
    }
}
