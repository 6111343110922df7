//! A randomly keyed hash for the engine's own indexes of email keys (the plan's users found
//! and rejected rows, the `MemoryStore`'s email index): the addresses come from uploaded
//! files, so the hash is keyed, its two 64-bit keys drawn from std's `RandomState` (random
//! per process) for each index; one who writes the file cannot know them, so cannot craft
//! addresses that collide. It folds each 64-bit word into the state with one 64 × 64 → 128
//! bit multiplication (the high half XORed into the low), both factors depending on the
//! keys, as foldhash and aHash do: a few instructions a word where SipHash-1-3 takes
//! dozens, for the short keys an address makes (three to six words).

use std::hash::{BuildHasher, Hasher, RandomState};

/// The keys of a [`KeyedHasher`]; a new pair for each index.
#[derive(Clone, Copy)]
pub(crate) struct KeyedState {
    k0: u64,
    k1: u64,
}

impl KeyedState {
    /// Two random keys (from std's `RandomState`, itself seeded by the operating system).
    pub(crate) fn new() -> KeyedState {
        let random = RandomState::new();
        KeyedState {
            k0: random.hash_one(0x243f_6a88_85a3_08d3_u64),
            // odd, so that the multiplication never loses the low bit of the other factor
            k1: random.hash_one(0x1319_8a2e_0370_7344_u64) | 1,
        }
    }
}

impl Default for KeyedState {
    fn default() -> KeyedState {
        KeyedState::new()
    }
}

impl std::fmt::Debug for KeyedState {
    // the keys are not shown
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedState").finish_non_exhaustive()
    }
}

impl BuildHasher for KeyedState {
    type Hasher = KeyedHasher;
    fn build_hasher(&self) -> KeyedHasher {
        KeyedHasher {
            state: self.k0,
            key: self.k1,
        }
    }
}

/// `a × b` on 128 bits, its high half XORed into its low one.
#[inline]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// See the module's documentation.
pub(crate) struct KeyedHasher {
    state: u64,
    key: u64,
}

impl Hasher for KeyedHasher {
    #[inline]
    fn write_u64(&mut self, word: u64) {
        // the state starts as a key: neither factor is known to the one who chose `word`
        self.state = folded_multiply(word ^ self.state, self.key ^ self.state.rotate_left(23));
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        self.write_u64(u64::from_le_bytes(word) ^ ((bytes.len() as u64) << 56));
    }
    #[inline]
    fn finish(&self) -> u64 {
        folded_multiply(self.state, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::KeyedState;
    use std::collections::HashSet;
    use std::hash::{BuildHasher, Hasher};

    fn hash(state: &KeyedState, words: &[u64]) -> u64 {
        let mut hasher = state.build_hasher();
        for &w in words {
            hasher.write_u64(w);
        }
        hasher.finish()
    }

    #[test]
    fn equal_input_hashes_alike_and_the_keys_differ_between_states() {
        let (a, b) = (KeyedState::new(), KeyedState::new());
        assert_eq!(hash(&a, &[1, 2, 3]), hash(&a, &[1, 2, 3]));
        assert_ne!(hash(&a, &[1, 2, 3]), hash(&b, &[1, 2, 3]));
        assert!(!format!("{a:?}").contains(&a.k0.to_string()));
    }

    #[test]
    fn near_inputs_do_not_collide() {
        let state = KeyedState::new();
        let mut seen = HashSet::new();
        for i in 0..20_000u64 {
            assert!(seen.insert(hash(&state, &[i, 8])), "{i}");
            assert!(seen.insert(hash(&state, &[0, i, 16])), "{i}");
            assert!(seen.insert(hash(&state, &[i << 40, 0, 0, 24])), "{i}");
        }
        // the low 16 bits (a table's bucket) spread too
        let low: HashSet<u64> = (0..4_096u64)
            .map(|i| hash(&state, &[i, 8]) & 0xffff)
            .collect();
        assert!(low.len() > 3_500, "{}", low.len());
    }
}
