//! The [`MemoryStore`](super::MemoryStore)'s indexes: positions in its users by a 64-bit
//! hash of a key (an email key or an id), by open addressing, and the hints that ask for a
//! lookup's memory ahead of it.

use crate::host::store::UserId;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// A fast (FxHash-style) hasher for the id index and for hashes already computed. Ids are
/// chosen by the store or by the code that loads it, never by an upload file, so hash
/// flooding is not a concern there; email keys, which come from files, are hashed with a
/// randomly keyed hash first (see [`EmailIndex`]).
#[derive(Default, Clone, Copy)]
pub(super) struct IdHasher(u64);

impl IdHasher {
    pub(super) fn add(&mut self, x: u64) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(K);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let tail = chunks
            .remainder()
            .iter()
            .rev()
            .fold(0u64, |t, &b| (t << 8) | u64::from(b));
        self.add(tail ^ ((bytes.len() as u64) << 56));
    }
    fn write_u8(&mut self, x: u8) {
        self.add(u64::from(x));
    }
    fn write_u64(&mut self, x: u64) {
        self.add(x);
    }
    fn finish(&self) -> u64 {
        // Fold the well-mixed high bits down: the table uses both ends of the hash.
        self.0 ^ (self.0 >> 29)
    }
}

/// A map from a 64-bit hash to a position in [`MemoryStore::users`](super::MemoryStore::users), by open addressing:
/// one slot a key, `(hash, position + 1)` (0: empty), found by linear probing from the
/// slot the hash's high bits name, at most half the slots full. A key's slot can be asked
/// for ahead of its lookup ([`Slots::prefetch`]), which a `HashMap` does not allow: a
/// large store's lookups in one `find_users` then wait for memory together, not one after
/// the other. Growing keeps the keys in the order of their first slot (a table twice the
/// size puts the keys of slot `i` from `2i` on), so its writes go forward, not at random.
#[derive(Debug, Clone, Default)]
pub(super) struct Slots {
    slots: Vec<(u64, usize)>,
    len: usize,
}

impl Slots {
    /// Where `hash`'s probe starts: its mixed hash's high bits (the table is not empty).
    pub(super) fn home(&self, hash: u64) -> usize {
        let bits = self.slots.len().trailing_zeros();
        let mixed = hash.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        // (`bits` is at least 4: see `grow`)
        (mixed >> (64 - bits)) as usize
    }

    pub(super) fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot holding `hash`, or the empty one where its probe ends.
    pub(super) fn probe(&self, hash: u64) -> (usize, bool) {
        let mask = self.mask();
        let mut at = self.home(hash);
        loop {
            match self.slots[at] {
                (_, 0) => return (at, false),
                (h, _) if h == hash => return (at, true),
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Asks for the cache line where `hash`'s probe starts (see [`prefetch`]).
    pub(super) fn prefetch(&self, hash: u64) {
        if !self.slots.is_empty() {
            prefetch(&self.slots[self.home(hash)]);
        }
    }

    /// The position under `hash`.
    pub(super) fn get(&self, hash: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        match self.probe(hash) {
            (at, true) => Some(self.slots[at].1 - 1),
            (_, false) => None,
        }
    }

    /// Puts `at` under `hash` unless a position is there already; answers that one.
    pub(super) fn insert_if_vacant(&mut self, hash: u64, at: usize) -> Option<usize> {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        match self.probe(hash) {
            (slot, true) => Some(self.slots[slot].1 - 1),
            (slot, false) => {
                self.slots[slot] = (hash, at + 1);
                self.len += 1;
                None
            }
        }
    }

    /// Puts `at` under `hash`, in place of the position there if any.
    pub(super) fn insert(&mut self, hash: u64, at: usize) {
        if let Some(_held) = self.insert_if_vacant(hash, at) {
            let (slot, _) = self.probe(hash);
            self.slots[slot].1 = at + 1;
        }
    }

    /// Removes the position under `hash`: the keys after it in its run move back into the
    /// hole as linear probing needs (no marker left).
    pub(super) fn remove(&mut self, hash: u64) {
        if self.slots.is_empty() {
            return;
        }
        let (mut hole, true) = self.probe(hash) else {
            return;
        };
        let mask = self.mask();
        let mut next = (hole + 1) & mask;
        while self.slots[next].1 != 0 {
            let home = self.home(self.slots[next].0);
            // The key at `next` may fill the hole if its probe passes the hole on its way.
            if (next.wrapping_sub(home) & mask) >= (next.wrapping_sub(hole) & mask) {
                self.slots[hole] = self.slots[next];
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.slots[hole] = (0, 0);
        self.len -= 1;
    }

    /// Twice the slots (16 at first), the keys put back in the order of their slots.
    pub(super) fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![(0, 0); size]);
        let mask = self.mask();
        // A key whose probe wrapped past the end is put back after the others, so that
        // each finds its place at or after its first slot, as it would by insertion.
        let start = old.iter().position(|&(_, p)| p == 0).unwrap_or(0);
        for &(hash, p) in old[start..].iter().chain(&old[..start]) {
            if p == 0 {
                continue;
            }
            let mut at = self.home(hash);
            while self.slots[at].1 != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = (hash, p);
        }
    }
}

/// Positions in [`MemoryStore::users`](super::MemoryStore::users) by a 64-bit hash of a user's key (email key or id),
/// no copy of the key held: a position is confirmed by comparing the key with the user's
/// own. The rare position whose hash another already has waits in `more`.
#[derive(Debug, Clone, Default)]
pub(super) struct HashIndex {
    pub(super) first: Slots,
    more: HashMap<u64, Vec<usize>, BuildHasherDefault<IdHasher>>,
}

impl HashIndex {
    /// The positions indexed under `hash`.
    pub(super) fn candidates(&self, hash: u64) -> impl Iterator<Item = usize> + '_ {
        let more = match self.more.is_empty() {
            true => None,
            false => self.more.get(&hash),
        };
        let first = self.first.get(hash);
        first.into_iter().chain(more.into_iter().flatten().copied())
    }

    /// The position under `hash` whose user has the key (`is`).
    pub(super) fn find(&self, hash: u64, is: impl Fn(usize) -> bool) -> Option<usize> {
        self.candidates(hash).find(|&at| is(at))
    }

    /// The first position indexed under `hash` (the first of [`candidates`](Self::candidates)).
    pub(super) fn first(&self, hash: u64) -> Option<usize> {
        self.first.get(hash)
    }

    /// [`find`](Self::find) when the first candidate, `first` (what [`first`](Self::first)
    /// answered), is known: the others read only when it is not the one.
    pub(super) fn find_after(
        &self,
        hash: u64,
        first: Option<usize>,
        is: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        match first {
            Some(at) if is(at) => Some(at),
            _ if self.more.is_empty() => None,
            _ => self.more.get(&hash)?.iter().copied().find(|&at| is(at)),
        }
    }

    /// Indexes `at` under `hash`, in place of the position whose user has the same key, if
    /// any (`is`: the last one indexed wins, as in a map); returns whether there was one.
    pub(super) fn set(&mut self, hash: u64, at: usize, is: impl Fn(usize) -> bool) -> bool {
        let Some(held) = self.first.insert_if_vacant(hash, at) else {
            return false;
        };
        if is(held) {
            self.first.insert(hash, at);
            return true;
        }
        let more = self.more.entry(hash).or_default();
        match more.iter_mut().find(|p| is(**p)) {
            Some(same) => {
                *same = at;
                true
            }
            None => {
                more.push(at);
                false
            }
        }
    }

    /// Indexes `at` under `hash` unless a position whose user has the key (`is`) is there
    /// already; returns whether it was indexed. One probe where [`find`](Self::find) then
    /// [`set`](Self::set) take two.
    pub(super) fn insert_new(&mut self, hash: u64, at: usize, is: impl Fn(usize) -> bool) -> bool {
        let Some(held) = self.first.insert_if_vacant(hash, at) else {
            return true;
        };
        if is(held) {
            return false;
        }
        // (no empty list left under `hash` when the key is there: `remove` reads a list as
        // holding one at least)
        match self.more.get_mut(&hash) {
            Some(more) if more.iter().any(|&p| is(p)) => false,
            Some(more) => {
                more.push(at);
                true
            }
            None => {
                self.more.insert(hash, vec![at]);
                true
            }
        }
    }

    /// Removes the position under `hash` whose user has the key (`is`).
    pub(super) fn remove(&mut self, hash: u64, is: impl Fn(usize) -> bool) {
        use std::collections::hash_map::Entry;
        let Some(first) = self.first.get(hash) else {
            return;
        };
        let Entry::Occupied(mut more) = self.more.entry(hash) else {
            if is(first) {
                self.first.remove(hash);
            }
            return;
        };
        if is(first) {
            // one of the others takes its place
            if let Some(next) = more.get_mut().pop() {
                self.first.insert(hash, next);
            }
        } else {
            more.get_mut().retain(|&p| !is(p));
        }
        if more.get().is_empty() {
            more.remove();
        }
    }
}

/// Asks the processor to bring the cache line holding `x` closer (a hint: nothing else
/// changes).
#[inline(always)]
pub(super) fn prefetch<T>(x: &T) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    safe_arch::prefetch_t0(x);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = x;
}

/// Asks for the first bytes of `text` (see [`prefetch`]).
#[inline(always)]
pub(super) fn prefetch_text(text: &str) {
    if let Some(first) = text.as_bytes().first() {
        prefetch(first);
    }
}

/// The hash of an id in [`HashIndex`] (ids are chosen by the store, not by files).
pub(super) fn id_hash(id: &UserId) -> u64 {
    BuildHasherDefault::<IdHasher>::default().hash_one(id.0.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_sharing_a_hash_are_told_apart_by_their_key() {
        // keys 0..6 all under hash 7; position p holds key p % 3 (the last set wins)
        let key = |p: usize| p % 3;
        let mut index = HashIndex::default();
        for at in 0..6 {
            index.set(7, at, |p| key(p) == key(at));
        }
        let found = |index: &HashIndex, k: usize| index.find(7, |p| key(p) == k);
        assert_eq!(
            [found(&index, 0), found(&index, 1), found(&index, 2)],
            [Some(3), Some(4), Some(5)]
        );
        assert_eq!(index.candidates(7).count(), 3);
        index.remove(7, |p| key(p) == 0);
        assert_eq!(
            [found(&index, 0), found(&index, 1), found(&index, 2)],
            [None, Some(4), Some(5)]
        );
        index.remove(7, |p| key(p) == 2);
        index.remove(7, |p| key(p) == 1);
        assert_eq!(index.candidates(7).count(), 0);
        assert!(index.first.len == 0 && index.more.is_empty());
    }

    #[test]
    fn slots_answer_as_a_map() {
        // Random inserts, replacements and removals, against a `HashMap`: hashes whose
        // high bits agree (runs of slots, crossing the table's end) and others, through
        // growths; every key checked after every step.
        let mut slots = Slots::default();
        let mut model: HashMap<u64, usize> = HashMap::new();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // Keys whose mixed hashes' high bits are the same or near: the inverse of the mix's
        // multiplier spreads small numbers over the top bits of the mixed hash.
        const INVERSE: u64 = 0xf1de_83e1_9937_733d;
        assert_eq!(INVERSE.wrapping_mul(0x9e37_79b9_7f4a_7c15), 1);
        let keys: Vec<u64> = (0..200u64)
            .map(|k| match k % 3 {
                0 => (k << 50).wrapping_mul(INVERSE),
                1 => (u64::MAX - (k << 52)).wrapping_mul(INVERSE),
                _ => k.wrapping_mul(0x1234_5678_9abc_def1),
            })
            .collect();
        for step in 0..20_000 {
            let key = keys[(next() % keys.len() as u64) as usize];
            let at = (next() % 1000) as usize;
            match next() % 4 {
                0 => {
                    slots.insert(key, at);
                    model.insert(key, at);
                }
                1 => {
                    let held = slots.insert_if_vacant(key, at);
                    assert_eq!(held, model.get(&key).copied(), "{step}");
                    model.entry(key).or_insert(at);
                }
                _ => {
                    slots.remove(key);
                    model.remove(&key);
                }
            }
            assert_eq!(slots.len, model.len(), "{step}");
            for &k in &keys {
                assert_eq!(slots.get(k), model.get(&k).copied(), "{step} {k}");
            }
        }
        assert!(slots.slots.len() >= 2 * slots.len);
    }

    #[test]
    fn insert_new_is_find_then_set() {
        // keys under two hashes; position p holds key p % 4 (0 and 1 share hash 7)
        let key = |p: usize| p % 4;
        let hash = |k: usize| if k < 2 { 7 } else { 8 + k as u64 };
        let mut one = HashIndex::default();
        let mut two = HashIndex::default();
        for at in 0..10 {
            let k = key(at);
            let inserted = one.insert_new(hash(k), at, |p| key(p) == k);
            let absent = two.find(hash(k), |p| key(p) == k).is_none();
            if absent {
                two.set(hash(k), at, |p| key(p) == k);
            }
            assert_eq!(inserted, absent, "{at}");
            for k in 0..4 {
                let (a, b) = (
                    one.find(hash(k), |p| key(p) == k),
                    two.find(hash(k), |p| key(p) == k),
                );
                assert_eq!(a, b, "{at} {k}");
            }
        }
        assert_eq!(one.candidates(7).count(), 2);
        // removing the first under a hash leaves the other found
        one.remove(7, |p| key(p) == 0);
        assert_eq!(one.find(7, |p| key(p) == 1), Some(1));
        assert_eq!(one.find(7, |p| key(p) == 0), None);
    }
}
