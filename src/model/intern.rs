//! String interning for training: token keys stored back to back in one
//! arena, looked up through a hash table of ids. One allocation per arena
//! growth instead of two per distinct token, and no owned keys in the table.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// Assigns ids 0, 1, 2... to distinct strings in first-seen order. The ids
/// (and so the training output) do not depend on the hasher's seed.
pub struct Interner {
    table: HashTable<u32>,
    arena: String,
    ends: Vec<usize>,
    /// Per id: the key packed into a word when it is short (most keys:
    /// character n-grams, short words), else `LONG`. A probe then compares
    /// one word instead of reading the arena.
    packed: Vec<u64>,
    hasher: DefaultHashBuilder,
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
        Interner {
            table: HashTable::new(),
            arena: String::new(),
            ends: Vec::new(),
            packed: Vec::new(),
            hasher: DefaultHashBuilder::default(),
        }
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

    /// The id of `key`, adding it if new.
    pub fn intern(&mut self, key: &str) -> u32 {
        let hash = self.hasher.hash_one(key);
        let word = pack(key);
        let Interner {
            table,
            arena,
            ends,
            packed,
            hasher,
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
    /// Number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

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

impl Interner {
    /// The strings alone, for reading by id.
    pub fn into_keys(self) -> Keys {
        let Interner {
            mut arena,
            mut ends,
            ..
        } = self;
        arena.shrink_to_fit();
        ends.shrink_to_fit();
        Keys { arena, ends }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_in_first_seen_order() {
        let mut i = Interner::default();
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
        let mut j = Interner::default();
        let keys = [
            "abcdefg", "abcdefgh", "abcdefgi", "abcdef", "abcdef\0", "", "\0",
        ];
        let ids: Vec<u32> = keys.iter().map(|k| j.intern(k)).collect();
        assert_eq!(ids, vec![0, 1, 2, 3, 4, 5, 6]);
        let again: Vec<u32> = keys.iter().map(|k| j.intern(k)).collect();
        assert_eq!(again, ids);
        let both = Keys::concat(vec![i, Interner::default(), j]);
        assert_eq!(both.len(), 10_005 + keys.len());
        assert_eq!(both.get(5 + 9_999), "k9999");
        for (n, k) in keys.iter().enumerate() {
            assert_eq!(both.get(10_005 + n as u32), *k);
        }
        let mut j = Interner::default();
        keys.iter().for_each(|k| {
            j.intern(k);
        });
        let frozen = j.into_keys();
        assert_eq!(frozen.len(), keys.len());
        for (k, id) in keys.iter().zip(ids) {
            assert_eq!(frozen.get(id), *k);
        }
    }
}
