//! String interning for training: token keys stored back to back in one
//! arena, looked up through a hash table of ids. One allocation per arena
//! growth instead of two per distinct token, and no owned keys in the table.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// Assigns ids 0, 1, 2... to distinct strings in first-seen order. The ids
/// (and so the training output) do not depend on the hasher's seed.
pub struct Interner {
    /// Ids by hash (without `remember`).
    table: HashTable<u32>,
    /// With `remember`: the keys' slots by hash. A slot holds what a probe
    /// compares, so a lookup reads the table and, for a long key, the
    /// arena; not the table, then `packed` or `ends`, then the arena. Four
    /// times the size of `table`: for the small per-chunk interners only.
    slots: HashTable<Slot>,
    arena: String,
    ends: Vec<usize>,
    /// Per id (without `remember`): the key packed into a word when it is
    /// short (most keys: character n-grams, short words), else `LONG`. A
    /// probe then compares one word instead of reading the arena.
    packed: Vec<u64>,
    /// Per id: the key's hash, so growing the table and grouping the keys
    /// (see [`Interner::take_groups`]) hash no key twice. Empty unless
    /// `remember`.
    hashes: Vec<u64>,
    remember: bool,
    hasher: DefaultHashBuilder,
}

/// A key in [`Interner::slots`]: a key of at most 7 bytes packed into
/// `word` (see `pack`), a longer one as its start in the arena; `len` tells
/// which.
#[derive(Clone, Copy)]
struct Slot {
    word: u64,
    id: u32,
    len: u32,
}

/// `packed` of a key longer than 7 bytes (a packed key's top byte is its
/// length, 0-7, so it never equals this).
const LONG: u64 = u64::MAX;

fn pack(key: &str) -> u64 {
    let b = key.as_bytes();
    if b.len() > 7 {
        return LONG;
    }
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    w[7] = b.len() as u8;
    u64::from_le_bytes(w)
}

impl Default for Interner {
    fn default() -> Self {
        Interner::with_hasher(DefaultHashBuilder::default(), true)
    }
}

impl Interner {
    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The string of an id.
    pub fn get(&self, id: u32) -> &str {
        string_of(&self.arena, &self.ends, id)
    }

    /// An empty interner hashing with `hasher`. Interners that share a
    /// hasher (clones of one) give a key the same hash, so one can take
    /// another's keys with [`Interner::intern_hashed`]. With `remember`,
    /// it keeps each key's hash (8 bytes per key) for growing its table
    /// and for [`Interner::take_groups`]; without, it hashes keys again.
    pub fn with_hasher(hasher: DefaultHashBuilder, remember: bool) -> Self {
        Interner {
            table: HashTable::new(),
            slots: HashTable::new(),
            arena: String::new(),
            ends: Vec::new(),
            packed: Vec::new(),
            hashes: Vec::new(),
            remember,
            hasher,
        }
    }

    /// The id of `key`, adding it if new.
    pub fn intern(&mut self, key: &str) -> u32 {
        let hash = self.hasher.hash_one(key);
        self.intern_hashed(key, hash)
    }

    /// [`Interner::intern`] for a key whose hash under this interner's
    /// hasher is known: `hash` must be that hash.
    pub fn intern_hashed(&mut self, key: &str, hash: u64) -> u32 {
        debug_assert_eq!(hash, self.hasher.hash_one(key));
        if self.remember {
            return self.intern_slot(key, hash);
        }
        let word = pack(key);
        let Interner {
            table,
            arena,
            ends,
            packed,
            hasher,
            ..
        } = self;
        let slice = |id: u32| string_of(arena, ends, id);
        let found = if word != LONG {
            table.find(hash, |&id| packed[id as usize] == word)
        } else {
            table.find(hash, |&id| packed[id as usize] == LONG && slice(id) == key)
        };
        if let Some(&id) = found {
            return id;
        }
        let id = ends.len() as u32;
        table.insert_unique(hash, id, |&other| hasher.hash_one(slice(other)));
        arena.push_str(key);
        ends.push(arena.len());
        packed.push(word);
        id
    }

    /// [`Interner::intern_hashed`] with `remember`: through `slots`.
    fn intern_slot(&mut self, key: &str, hash: u64) -> u32 {
        let Interner {
            slots,
            arena,
            ends,
            hashes,
            ..
        } = self;
        let len = key.len();
        let found = if len <= 7 {
            let word = pack(key);
            slots.find(hash, |s| s.word == word && s.len as usize == len)
        } else {
            slots.find(hash, |s| {
                s.len as usize == len
                    && arena.as_bytes().get(s.word as usize..s.word as usize + len)
                        == Some(key.as_bytes())
            })
        };
        if let Some(s) = found {
            return s.id;
        }
        let id = ends.len() as u32;
        let slot = Slot {
            word: if len <= 7 {
                pack(key)
            } else {
                arena.len() as u64
            },
            id,
            // Keys are cut from fields of at most `MAX_FIELD_BYTES`.
            len: u32::try_from(len).unwrap_or(u32::MAX),
        };
        slots.insert_unique(hash, slot, |s| hashes[s.id as usize]);
        hashes.push(hash);
        arena.push_str(key);
        ends.push(arena.len());
        id
    }

    /// The keys regrouped: group `g` holds the keys whose hash `group_of`
    /// maps to `g` (below `groups`), each group in id order, its keys back to
    /// back. Merging interners group by group then reads every key, its
    /// hash and its id in order.
    ///
    /// The interner is left empty but keeps its allocations, to intern the
    /// next batch of keys without growing its table (and faulting in fresh
    /// pages) all over again.
    pub fn take_groups(&mut self, groups: usize, group_of: impl Fn(u64) -> usize) -> GroupedKeys {
        if !self.remember {
            self.hashes = (0..self.len() as u32)
                .map(|id| self.hasher.hash_one(self.get(id)))
                .collect();
        }
        let out = self.grouped(groups, group_of);
        self.table.clear();
        self.slots.clear();
        self.arena.clear();
        self.ends.clear();
        self.packed.clear();
        self.hashes.clear();
        out
    }

    /// [`Interner::take_groups`] without emptying; `hashes` must be filled.
    fn grouped(&self, groups: usize, group_of: impl Fn(u64) -> usize) -> GroupedKeys {
        let (arena, ends, hashes) = (&self.arena, &self.ends, &self.hashes);
        let of: Vec<u32> = hashes.iter().map(|&h| group_of(h) as u32).collect();
        let mut starts = vec![0u32; groups + 1];
        for &g in &of {
            starts[g as usize + 1] += 1;
        }
        for g in 1..starts.len() {
            starts[g] += starts[g - 1];
        }
        let mut at = starts.clone();
        let mut ids = vec![0u32; of.len()];
        for (id, &g) in of.iter().enumerate() {
            ids[at[g as usize] as usize] = id as u32;
            at[g as usize] += 1;
        }
        let mut out = GroupedKeys {
            arena: String::with_capacity(arena.len()),
            ends: Vec::with_capacity(ids.len()),
            hashes: Vec::with_capacity(ids.len()),
            ids,
            starts,
        };
        for &id in &out.ids {
            out.arena.push_str(string_of(arena, ends, id));
            out.ends.push(out.arena.len());
            out.hashes.push(hashes[id as usize]);
        }
        out
    }
}

/// An interner's keys in groups, from [`Interner::take_groups`]. Positions
/// run over the groups in order; each position has a key, its hash and its
/// id in the interner.
#[derive(Default)]
pub struct GroupedKeys {
    arena: String,
    ends: Vec<usize>,
    hashes: Vec<u64>,
    ids: Vec<u32>,
    starts: Vec<u32>,
}

impl GroupedKeys {
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// The positions of group `g`.
    pub fn group(&self, g: usize) -> std::ops::Range<usize> {
        self.starts[g] as usize..self.starts[g + 1] as usize
    }

    /// The key at position `p`.
    pub fn key(&self, p: usize) -> &str {
        let start = if p == 0 { 0 } else { self.ends[p - 1] };
        &self.arena[start..self.ends[p]]
    }

    /// The hash of the key at position `p`.
    pub fn hash(&self, p: usize) -> u64 {
        self.hashes[p]
    }

    /// The interner's id of the key at position `p`.
    pub fn id(&self, p: usize) -> u32 {
        self.ids[p]
    }
}

/// String `id` of an arena whose strings end at `ends`.
fn string_of<'a>(arena: &'a str, ends: &[usize], id: u32) -> &'a str {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends[id - 1] };
    &arena[start..ends[id]]
}

/// An interner's strings by id, without the lookup table (a third of the
/// memory of an interner).
#[derive(Default)]
pub struct Keys {
    arena: String,
    ends: Vec<usize>,
}

impl Keys {
    /// The string of an id.
    pub fn get(&self, id: u32) -> &str {
        string_of(&self.arena, &self.ends, id)
    }
}

impl Keys {
    /// The strings of several interners, numbered on: the first's ids, then
    /// the second's offset by the first's length, and so on. Each interner
    /// is freed as soon as it is copied.
    pub fn concat(parts: Vec<Interner>) -> Keys {
        let mut keys = Keys {
            arena: String::with_capacity(parts.iter().map(|p| p.arena.len()).sum()),
            ends: Vec::with_capacity(parts.iter().map(Interner::len).sum()),
        };
        for part in parts {
            let base = keys.arena.len();
            keys.arena.push_str(&part.arena);
            keys.ends.extend(part.ends.iter().map(|&e| base + e));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_in_first_seen_order() {
        // Both lookups: slots (per-chunk interners) and ids with packed keys.
        for remember in [true, false] {
            interns_in_first_seen_order_with(remember);
        }
    }

    fn interns_in_first_seen_order_with(remember: bool) {
        let new = || Interner::with_hasher(DefaultHashBuilder::default(), remember);
        let mut i = new();
        let words = ["b", "a", "", "b", "abc", "a", "ab"];
        let ids: Vec<u32> = words.iter().map(|w| i.intern(w)).collect();
        assert_eq!(ids, vec![0, 1, 2, 0, 3, 1, 4]);
        assert_eq!(i.len(), 5);
        for (w, id) in words.iter().zip(&ids) {
            assert_eq!(i.get(*id), *w);
        }
        for n in 0..10_000 {
            let s = format!("k{n}");
            assert_eq!(i.intern(&s), 5 + n);
        }
        assert_eq!(i.get(5 + 9_999), "k9999");
        // Keys around the packed length, and ones that differ only in
        // length or past the seventh byte.
        let mut j = new();
        let keys = [
            "abcdefg", "abcdefgh", "abcdefgi", "abcdef", "abcdef\0", "", "\0",
        ];
        let ids: Vec<u32> = keys.iter().map(|k| j.intern(k)).collect();
        assert_eq!(ids, vec![0, 1, 2, 3, 4, 5, 6]);
        let again: Vec<u32> = keys.iter().map(|k| j.intern(k)).collect();
        assert_eq!(again, ids);
        let both = Keys::concat(vec![i, new(), j]);
        assert_eq!(both.ends.len(), 10_005 + keys.len());
        assert_eq!(both.get(5 + 9_999), "k9999");
        for (n, k) in keys.iter().enumerate() {
            assert_eq!(both.get(10_005 + n as u32), *k);
        }
    }

    #[test]
    fn grouped_keys_carry_hashes_another_interner_can_take() {
        let hasher = DefaultHashBuilder::default();
        let words: Vec<String> = (0..5_000).map(|n| format!("key {}", n % 3_001)).collect();
        // The same keys through an interner that keeps its hashes and one
        // that does not: the same ids, and groups with the same content.
        let mut kept = Interner::with_hasher(hasher.clone(), true);
        let mut fresh = Interner::with_hasher(hasher.clone(), false);
        for w in &words {
            assert_eq!(kept.intern(w), fresh.intern(w));
        }
        let group_of = |h: u64| (h >> 40) as usize % 7;
        let (a, b) = (
            kept.take_groups(7, group_of),
            fresh.take_groups(7, group_of),
        );
        assert_eq!(a.len(), 3_001);
        let mut seen = vec![false; a.len()];
        for g in 0..7 {
            assert_eq!(a.group(g), b.group(g));
            let mut last = None;
            for p in a.group(g) {
                // Each group in id order, every key's hash in its group.
                assert!(last < Some(a.id(p)));
                last = Some(a.id(p));
                assert_eq!(
                    (a.key(p), a.hash(p), a.id(p)),
                    (b.key(p), b.hash(p), b.id(p))
                );
                assert_eq!(a.hash(p), hasher.hash_one(a.key(p)));
                assert_eq!(group_of(a.hash(p)), g);
                assert_eq!(a.key(p), format!("key {}", a.id(p)));
                seen[a.id(p) as usize] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
        // Emptied, each interns anew from id 0.
        for i in [&mut kept, &mut fresh] {
            assert_eq!(i.len(), 0);
            assert_eq!(i.intern("key 7"), 0);
            assert_eq!(i.intern("a key longer than a word"), 1);
            assert_eq!(i.intern("key 7"), 0);
            assert_eq!(i.get(1), "a key longer than a word");
        }
        // A third interner with the same hasher takes the keys by hash.
        let mut merged = Interner::with_hasher(hasher, false);
        for g in (0..7).rev() {
            for p in a.group(g) {
                let id = merged.intern_hashed(a.key(p), a.hash(p));
                assert_eq!(merged.get(id), a.key(p));
                assert_eq!(merged.intern(a.key(p)), id);
            }
        }
        assert_eq!(merged.len(), 3_001);
    }
}
