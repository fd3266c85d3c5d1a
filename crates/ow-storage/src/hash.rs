//! A small, fast, non-cryptographic hasher for in-process maps keyed by field paths
//! (the FxHash function used by rustc). Not exposed to untrusted map sizes beyond one
//! segment's distinct paths, which are capped (`max_field_stats_paths`).

use std::hash::{BuildHasherDefault, Hasher};

/// FxHash state.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    /// Whole 8-byte words, then the last 1 to 7 bytes as one more word read with
    /// overlapping loads (the last 8 bytes of the input, or two 4-byte or three 1-byte
    /// reads), tagged with their count. Copying the tail into a zeroed word instead stalled
    /// every hash of a short string on store forwarding (the identifier test's hashing was
    /// a tenth of a flush's own time).
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(word(c));
        }
        let n = chunks.remainder().len();
        if n > 0 {
            let len = bytes.len();
            let tail = if len >= 8 {
                // the last 8 bytes: the tail and some bytes already hashed
                word(&bytes[len - 8..])
            } else if n >= 4 {
                let lo = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                let hi =
                    u32::from_le_bytes([bytes[n - 4], bytes[n - 3], bytes[n - 2], bytes[n - 1]]);
                u64::from(lo) | (u64::from(hi) << 32)
            } else {
                u64::from(bytes[0])
                    | (u64::from(bytes[n / 2]) << 8)
                    | (u64::from(bytes[n - 1]) << 16)
            };
            self.add(tail ^ ((n as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The little-endian word of an 8-byte slice.
#[inline(always)]
fn word(c: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&c[..8]);
    u64::from_le_bytes(b)
}

/// `HashMap` with FxHash.
pub(crate) type FxHashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;
/// `HashSet` with FxHash.
pub(crate) type FxHashSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn h(s: &str) -> u64 {
        BuildHasherDefault::<FxHasher>::default().hash_one(s)
    }

    #[test]
    fn short_and_long_strings_hash_apart_and_alike() {
        let mut seen = std::collections::HashMap::new();
        let mut words: Vec<String> = Vec::new();
        for len in 0..20 {
            // (zero words from the zero state hash alike, as in rustc's FxHash: not tested)
            for c in [b'a', b'b', b'~'] {
                words.push(String::from_utf8(vec![c; len]).unwrap());
                let mut v = vec![b'x'; len];
                if len > 0 {
                    v[len / 2] = c;
                }
                words.push(String::from_utf8(v).unwrap());
            }
        }
        words.sort();
        words.dedup();
        for w in &words {
            assert_eq!(h(w), h(&w.clone()), "{w:?}");
            if let Some(other) = seen.insert(h(w), w.clone()) {
                panic!("{w:?} and {other:?} hash alike");
            }
        }
    }
}
