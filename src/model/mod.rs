//! The similarity model: vocabulary, weights, item vectors and the inverted
//! index, trained from a catalogue ([`train`]), saved and opened
//! ([`format`]), and queried through the [`Representation`] interface.

pub mod config;
pub mod format;
mod intern;
mod train;

pub use config::{ModelConfig, Scheme, VocabularyOptions, WeightingOptions};
pub use train::{TrainReport, effective_config, timestamp_now, train};

use crate::text::{Analyzer, TokenKind, key_text};
use serde::{Deserialize, Serialize};

/// Version of the model file layout this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Facts about how a model was made; stored in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    pub format_version: u32,
    pub prodsim_version: String,
    /// Short hash of catalogue fingerprint + config hash + prodsim version.
    pub model_id: String,
    /// SHA-256 of the catalogue file.
    pub catalog_fingerprint: String,
    /// File name of the catalogue (no directory), for people.
    pub catalog_file: String,
    /// SHA-256 of the canonical JSON of the config.
    pub config_hash: String,
    /// RFC 3339; from SOURCE_DATE_EPOCH when set, so builds can be reproducible.
    pub trained_at: String,
    pub items: u64,
    pub terms: u64,
    pub nonzeros: u64,
    /// Catalogue rows left out because their text fields were empty.
    pub rows_skipped: u64,
    /// Text field names, in field-bit order.
    pub fields: Vec<String>,
    /// Name of the display-title column.
    pub title_column: String,
    /// Mean weighted item length (BM25's avgdl).
    pub avg_item_len: f64,
}

/// Strings stored back to back with offsets: cheap to save and to open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrTable {
    pub(crate) offsets: Vec<u64>,
    pub(crate) bytes: Vec<u8>,
}

impl StrTable {
    pub(crate) fn from_iter<'a>(items: impl Iterator<Item = &'a str>) -> StrTable {
        let mut t = StrTable {
            offsets: vec![0],
            bytes: Vec::new(),
        };
        for s in items {
            t.bytes.extend_from_slice(s.as_bytes());
            t.offsets.push(t.bytes.len() as u64);
        }
        t
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The i-th string. Validated as UTF-8 on load, so this cannot fail for
    /// a table that came from a checked file.
    pub fn get(&self, i: usize) -> &str {
        let s = self.offsets[i] as usize;
        let e = self.offsets[i + 1] as usize;
        std::str::from_utf8(&self.bytes[s..e]).unwrap_or("")
    }
}

/// A trained model. Items are numbered 0..n in catalogue order; terms are
/// numbered in the sorted order of their vocabulary keys.
pub struct Model {
    pub config: ModelConfig,
    pub meta: ModelMeta,
    pub(crate) analyzer: Analyzer,
    pub(crate) vocab: StrTable,
    pub(crate) idf: Vec<f32>,
    /// Largest item weight of each term: the bound dynamic pruning needs.
    pub(crate) term_max: Vec<f32>,
    pub(crate) ids: StrTable,
    pub(crate) titles: StrTable,
    /// Item numbers sorted by id, for lookup by binary search.
    pub(crate) id_order: Vec<u32>,
    pub(crate) fwd_offsets: Vec<u64>,
    pub(crate) fwd_terms: Vec<u32>,
    pub(crate) fwd_weights: Vec<f32>,
    pub(crate) fwd_fields: Vec<u16>,
    pub(crate) inv_offsets: Vec<u64>,
    pub(crate) inv_items: Vec<u32>,
    pub(crate) inv_weights: Vec<f32>,
}

/// A sparse query vector: (term, weight) sorted by term, plus what the
/// query's text produced that the vocabulary does not know.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryVector {
    pub terms: Vec<(u32, f32)>,
    /// Tokens of the query text missing from the vocabulary (keys).
    pub unknown: Vec<String>,
}

/// The one interface every representation (sparse TF-IDF/BM25 now, dense
/// LSA later) offers: encode a query, rank items, explain a score as a sum
/// of per-token contributions.
pub trait Representation {
    /// Encodes a free-text query.
    fn encode_text(&self, text: &str) -> QueryVector;
    /// The vector of a catalogue item used as a query.
    fn encode_item(&self, item: u32) -> QueryVector;
    /// Exact top-k items by score, best first; ties by item number.
    fn top_k(&self, query: &QueryVector, k: usize, exclude: Option<u32>) -> Vec<(u32, f32)>;
    /// Per-token contributions of `item`'s score for `query`; they add up to
    /// the score.
    fn contributions(&self, query: &QueryVector, item: u32) -> Vec<(u32, f32, f32, u16)>;
}

impl Model {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True for a model without items (never for a trained one).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Number of terms.
    pub fn vocab_len(&self) -> usize {
        self.vocab.len()
    }

    /// The analyzer this model was trained with.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Item id.
    pub fn item_id(&self, item: u32) -> &str {
        self.ids.get(item as usize)
    }

    /// Display title.
    pub fn title(&self, item: u32) -> &str {
        self.titles.get(item as usize)
    }

    /// Item number of an id.
    pub fn find_item(&self, id: &str) -> Option<u32> {
        self.id_order
            .binary_search_by(|&i| self.ids.get(i as usize).cmp(id))
            .ok()
            .map(|pos| self.id_order[pos])
    }

    /// Vocabulary key of a term (kind byte + text).
    pub fn term_key(&self, term: u32) -> &str {
        self.vocab.get(term as usize)
    }

    /// Display text and kind of a term.
    pub fn term(&self, term: u32) -> (&str, TokenKind) {
        let key = self.term_key(term);
        (key_text(key), TokenKind::of_key(key))
    }

    /// Term number of a vocabulary key.
    pub fn find_term(&self, key: &str) -> Option<u32> {
        let n = self.vocab.len();
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.vocab.get(mid).cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid as u32),
            }
        }
        None
    }

    /// Inverse document frequency of a term as used by the scheme.
    pub fn idf(&self, term: u32) -> f32 {
        self.idf[term as usize]
    }

    /// Number of items containing a term.
    pub fn doc_freq(&self, term: u32) -> usize {
        let t = term as usize;
        (self.inv_offsets[t + 1] - self.inv_offsets[t]) as usize
    }

    /// An item's stored vector: terms, weights and field bits.
    pub fn item_vector(&self, item: u32) -> (&[u32], &[f32], &[u16]) {
        let s = self.fwd_offsets[item as usize] as usize;
        let e = self.fwd_offsets[item as usize + 1] as usize;
        (
            &self.fwd_terms[s..e],
            &self.fwd_weights[s..e],
            &self.fwd_fields[s..e],
        )
    }

    /// Postings of a term: items (ascending) and their weights.
    pub fn postings(&self, term: u32) -> (&[u32], &[f32]) {
        let s = self.inv_offsets[term as usize] as usize;
        let e = self.inv_offsets[term as usize + 1] as usize;
        (&self.inv_items[s..e], &self.inv_weights[s..e])
    }

    /// Names of the fields whose bits are set.
    pub fn field_names(&self, bits: u16) -> Vec<String> {
        self.meta
            .fields
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, f)| f.clone())
            .collect()
    }
}
