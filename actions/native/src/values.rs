//! Deterministic test data: a tiny PRNG, alphanumeric values and a digest of a key/value set.
//!
//! Values are a pure function of `(seed, index)`, so a reader can regenerate exactly what a
//! writer stored without the two sharing anything but the seed.

use std::time::{SystemTime, UNIX_EPOCH};

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// SplitMix64: turns correlated inputs (seed, index) into well-spread PRNG states.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// xorshift64*: small and fast; statistical quality is irrelevant for test payloads.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator for one value; never in the all-zero state xorshift cannot leave.
    pub fn for_index(seed: u64, index: u64) -> Self {
        let s = splitmix64(seed ^ splitmix64(index));
        Self(if s == 0 { 0x2545_F491_4F6C_DD1D } else { s })
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Append the `value_size` alphanumeric bytes of value `index` under `seed` to `out`.
pub fn push_value(seed: u64, index: u64, value_size: usize, out: &mut Vec<u8>) {
    let mut rng = XorShift::for_index(seed, index);
    out.reserve(value_size);
    let mut left = value_size;
    while left > 0 {
        // 64 random bits give 8 characters (modulo bias is irrelevant here).
        let mut bits = rng.next_u64();
        for _ in 0..left.min(8) {
            out.push(ALPHANUMERIC[(bits & 0xff) as usize % ALPHANUMERIC.len()]);
            bits >>= 8;
        }
        left -= left.min(8);
    }
}

/// The value of `index` under `seed`, as a fresh vector.
pub fn value(seed: u64, index: u64, value_size: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(value_size);
    push_value(seed, index, value_size, &mut v);
    v
}

/// A seed when the caller gave none: wall clock and pid, so concurrent processes differ.
pub fn fresh_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    splitmix64(nanos ^ (u64::from(std::process::id()) << 32))
}

/// 64-bit FNV-1a over a set of (key, value) pairs, order-independent: pairs are sorted by key
/// first, and each key and value is preceded by its length (u64 little endian) so that
/// ("ab","c") and ("a","bc") differ. Rendered as 16 lowercase hex digits.
pub fn digest<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &mut [(K, V)]) -> String {
    pairs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    let mut h = Fnv1a::new();
    for (k, v) in pairs.iter() {
        h.field(k.as_ref());
        h.field(v.as_ref());
    }
    format!("{:016x}", h.0)
}

struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }

    fn field(&mut self, bytes: &[u8]) {
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_alphanumeric_sized_and_reproducible() {
        let a = value(7, 3, 37);
        assert_eq!(a.len(), 37);
        assert!(a.iter().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(a, value(7, 3, 37));
        assert_ne!(a, value(7, 4, 37));
        assert_ne!(a, value(8, 3, 37));
    }

    #[test]
    fn digest_ignores_order_but_not_content_or_boundaries() {
        let mut x = vec![("a", "1"), ("b", "2")];
        let mut y = vec![("b", "2"), ("a", "1")];
        assert_eq!(digest(&mut x), digest(&mut y));
        let mut z = vec![("a", "1"), ("b", "3")];
        assert_ne!(digest(&mut x), digest(&mut z));
        let mut p = vec![("ab", "c")];
        let mut q = vec![("a", "bc")];
        assert_ne!(digest(&mut p), digest(&mut q));
        // The empty set has FNV-1a's offset basis as its digest.
        let mut e: Vec<(&str, &str)> = vec![];
        assert_eq!(digest(&mut e), "cbf29ce484222325");
    }
}
