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
    hasher: DefaultHashBuilder,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            table: HashTable::new(),
            arena: String::new(),
            ends: Vec::new(),
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
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.arena[start..self.ends[id]]
    }

    /// The id of `key`, adding it if new.
    pub fn intern(&mut self, key: &str) -> u32 {
        let hash = self.hasher.hash_one(key);
        let Interner {
            table,
            arena,
            ends,
            hasher,
        } = self;
        let slice = |id: u32| {
            let id = id as usize;
            let start = if id == 0 { 0 } else { ends[id - 1] };
            &arena[start..ends[id]]
        };
        if let Some(&id) = table.find(hash, |&id| slice(id) == key) {
            return id;
        }
        let id = ends.len() as u32;
        table.insert_unique(hash, id, |&other| hasher.hash_one(slice(other)));
        arena.push_str(key);
        ends.push(arena.len());
        id
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
    }
}
