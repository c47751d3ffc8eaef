//! Deterministic, order-independent randomness.
//!
//! Every generated item draws from its own stream, keyed by `(seed, salt, index)`, so items can be
//! generated in any order (or in parallel) and still come out identical for the same seed.

/// The SplitMix64 finaliser: a cheap, well-mixed 64-bit hash.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes, for fingerprints of query strings.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// A small counter-based generator for one item.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64, salt: &str, index: u64) -> Self {
        Rng(mix(seed ^ mix(fnv1a(salt.as_bytes()) ^ mix(index))))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A lowercase hex string of `len` digits.
    pub(crate) fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let v = self.next_u64();
            s.push_str(&format!("{v:016x}"));
        }
        s.truncate(len);
        s
    }

    /// A GUID-shaped string (`8-4-4-4-12` hex digits).
    pub(crate) fn guid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-8{}-{}",
            &h[..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(1, "x", 7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::new(1, "x", 7).next_u64(),
            Rng::new(1, "x", 8).next_u64()
        );
        assert_ne!(
            Rng::new(1, "x", 7).next_u64(),
            Rng::new(2, "x", 7).next_u64()
        );
        let g = Rng::new(1, "g", 1).guid();
        assert_eq!(g.len(), 36);
    }
}
