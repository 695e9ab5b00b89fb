//! The similarity model: vocabulary, weights, item vectors and the inverted
//! index, trained from a catalogue ([`train`]), saved and opened
//! ([`format`]), and queried through the [`Representation`] interface.

pub(crate) mod common;
pub mod config;
pub mod format;
mod intern;
mod train;

pub use config::{ModelConfig, Scheme, VocabularyOptions, WeightingOptions};
pub use train::{SavedModel, TrainReport, effective_config, timestamp_now, train, train_to_file};

use crate::text::{Analyzer, TokenKind, key_text};
use serde::{Deserialize, Serialize};

/// Version of the model file layout this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Number of document-frequency bands with per-item norms (see
/// [`Model::item_bands_code`]).
pub const BANDS: usize = 6;

/// The smallest df of each band for a catalogue of `n` items, most common
/// band first, each half the one before. The last, n / 256 but at least
/// 256, is the shortest posting list search may set aside.
pub fn band_cuts(n: usize) -> [u32; BANDS] {
    let floor = (n / 256).max(256).min(u32::MAX as usize >> BANDS) as u32;
    std::array::from_fn(|b| floor << (BANDS - 1 - b))
}

/// The band of a term with `df` postings under `cuts` (most common first),
/// or None below the last cut.
pub fn band_index(cuts: impl IntoIterator<Item = u32>, df: usize) -> Option<usize> {
    cuts.into_iter().position(|c| df >= c as usize)
}

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

/// A little-endian array of plain values, either owned (a model trained in
/// this process, or read by copying) or viewed in place in a memory-mapped
/// model file, so opening a large model does not read it.
pub(crate) enum Arr<T: bytemuck::Pod> {
    Owned(Vec<T>),
    Mapped {
        map: std::sync::Arc<memmap2::Mmap>,
        /// Byte range of the array in the map; checked for size and
        /// alignment when the file was opened.
        start: usize,
        end: usize,
        _kind: std::marker::PhantomData<T>,
    },
}

impl<T: bytemuck::Pod> Arr<T> {
    /// Views `map[start..end]` as `[T]`; `None` when the range is outside
    /// the map, misaligned or not a whole number of values.
    pub(crate) fn mapped(
        map: &std::sync::Arc<memmap2::Mmap>,
        start: usize,
        end: usize,
    ) -> Option<Arr<T>> {
        let bytes = map.get(start..end)?;
        bytemuck::try_cast_slice::<u8, T>(bytes).ok()?;
        Some(Arr::Mapped {
            map: map.clone(),
            start,
            end,
            _kind: std::marker::PhantomData,
        })
    }
}

impl<T: bytemuck::Pod> std::ops::Deref for Arr<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Arr::Owned(v) => v,
            // Range, size and alignment were checked in `mapped`, and a map
            // never changes, so this cast cannot fail.
            Arr::Mapped {
                map, start, end, ..
            } => bytemuck::try_cast_slice(&map[*start..*end]).unwrap_or(&[]),
        }
    }
}

impl<T: bytemuck::Pod> From<Vec<T>> for Arr<T> {
    fn from(v: Vec<T>) -> Arr<T> {
        Arr::Owned(v)
    }
}

impl<T: bytemuck::Pod> Default for Arr<T> {
    fn default() -> Arr<T> {
        Arr::Owned(Vec::new())
    }
}

impl<T: bytemuck::Pod + std::fmt::Debug> std::fmt::Debug for Arr<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if matches!(self, Arr::Owned(_)) {
            "owned"
        } else {
            "mapped"
        };
        write!(f, "Arr({kind}, {} values)", self.len())
    }
}

impl<T: bytemuck::Pod + PartialEq> PartialEq for Arr<T> {
    fn eq(&self, other: &Arr<T>) -> bool {
        **self == **other
    }
}

/// Strings stored back to back with offsets: cheap to save and to open.
#[derive(Debug, Default, PartialEq)]
pub struct StrTable {
    pub(crate) offsets: Arr<u64>,
    pub(crate) bytes: Arr<u8>,
}

impl StrTable {
    pub(crate) fn from_iter<'a>(items: impl Iterator<Item = &'a str>) -> StrTable {
        let mut offsets = vec![0u64];
        let mut bytes = Vec::new();
        for s in items {
            bytes.extend_from_slice(s.as_bytes());
            offsets.push(bytes.len() as u64);
        }
        StrTable {
            offsets: offsets.into(),
            bytes: bytes.into(),
        }
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The i-th string; "" for a number past the end or bytes that are not
    /// UTF-8 (neither happens in a file that passes [`format::verify`]).
    pub fn get(&self, i: usize) -> &str {
        let offsets: &[u64] = &self.offsets;
        let (Some(&s), Some(&e)) = (offsets.get(i), offsets.get(i + 1)) else {
            return "";
        };
        self.bytes
            .get(s as usize..e as usize)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

/// A trained model. Items are numbered 0..n in catalogue order; terms are
/// numbered in the sorted order of their vocabulary keys.
pub struct Model {
    pub config: ModelConfig,
    pub meta: ModelMeta,
    pub(crate) analyzer: Analyzer,
    pub(crate) vocab: StrTable,
    pub(crate) idf: Arr<f32>,
    /// Largest item weight of each term: the bound dynamic pruning needs.
    pub(crate) term_max: Arr<f32>,
    /// With `item_scale`, a per-item bound: the weight of term t in item d
    /// is at most `term_base[t] * item_scale[d]` (1 / the item's norm for
    /// TF-IDF), much tighter than `term_max` for long items. Empty in
    /// files written before these sections existed.
    pub(crate) term_base: Arr<f32>,
    pub(crate) item_scale: Arr<f32>,
    /// Document-frequency bands: `bands[2b]` is the smallest df of band `b`
    /// (most common band first), `bands[2b + 1]` the bits of the largest
    /// item norm in it; `bands[2 * BANDS]` the bits of the largest item norm
    /// over all bands together (then a 0 for alignment). Empty in files
    /// written before this section existed.
    pub(crate) bands: Arr<u32>,
    /// Per item, the L2 norm of its weights over the terms of each band,
    /// one byte per band (byte b of the little-endian `u64`), then one for
    /// all bands together: the norm as a multiple of 1/255 of the band's
    /// largest, rounded up, so `byte * max / 255` bounds it. With
    /// Cauchy-Schwarz, a query's terms in band b add at most (their norm) x
    /// (the item's norm in b) to its score. Eight bytes an item keep the
    /// random reads of search few and cached.
    pub(crate) item_bands: Arr<u64>,
    /// Byte `BANDS` of every item's band code (its norm over all bands),
    /// copied out on first use: search bounds every item it sees by this
    /// byte first, and n bytes stay in cache where 8n would not.
    pub(crate) whole_codes: std::sync::OnceLock<Vec<u8>>,
    /// Every item's entries in the common terms, coded: built by
    /// [`Model::prepare_searches`] (None: the model has none, see
    /// [`common::Common::build`]).
    pub(crate) common: std::sync::OnceLock<Option<common::Common>>,
    pub(crate) ids: StrTable,
    pub(crate) titles: StrTable,
    /// Item numbers sorted by id, for lookup by binary search.
    pub(crate) id_order: Arr<u32>,
    pub(crate) fwd_offsets: Arr<u64>,
    pub(crate) fwd_terms: Arr<u32>,
    pub(crate) fwd_weights: Arr<f32>,
    pub(crate) fwd_fields: Arr<u16>,
    pub(crate) inv_offsets: Arr<u64>,
    pub(crate) inv_items: Arr<u32>,
    pub(crate) inv_weights: Arr<f32>,
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
        let order: &[u32] = &self.id_order;
        order
            .binary_search_by(|&i| self.ids.get(i as usize).cmp(id))
            .ok()
            .map(|pos| order[pos])
            .filter(|&i| (i as usize) < self.len())
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
        self.idf.get(term as usize).copied().unwrap_or(0.0)
    }

    /// Largest item weight of a term (0 for an unknown term).
    pub fn term_max(&self, term: u32) -> f32 {
        self.term_max.get(term as usize).copied().unwrap_or(0.0)
    }

    /// A base such that the weight of `term` in any item is at most
    /// `base * item_scale(item)`; the term's largest weight when the model
    /// has no per-item bounds (then every scale is 1).
    pub fn weight_bound(&self, term: u32) -> f32 {
        if self.item_scale.is_empty() {
            self.term_max(term)
        } else {
            self.term_base.get(term as usize).copied().unwrap_or(0.0)
        }
    }

    /// The per-item factor of [`Model::weight_bound`] (1 without per-item bounds).
    pub fn item_scale(&self, item: u32) -> f32 {
        self.item_scale.get(item as usize).copied().unwrap_or(1.0)
    }

    /// Asks the CPU to start fetching an item's scale (a hint only).
    pub(crate) fn prefetch_scale(&self, item: u32) {
        if let Some(x) = self.item_scale.get(item as usize) {
            prefetch(x);
        }
    }

    /// The band of a term with `df` postings (0 = most common), or None
    /// when it is in none (then no per-item norm covers it).
    pub fn band_of(&self, df: usize) -> Option<usize> {
        if self.item_bands.is_empty() {
            return None;
        }
        band_index(self.bands.iter().step_by(2).take(BANDS).copied(), df)
    }

    /// The smallest df of the least common band: shorter lists are in none.
    pub fn band_floor(&self) -> Option<usize> {
        if self.item_bands.is_empty() {
            return None;
        }
        self.bands.get(2 * (BANDS - 1)).map(|&c| c as usize)
    }

    /// The largest per-item norm of band `b` over all items.
    pub fn band_max(&self, b: usize) -> f32 {
        self.bands
            .get(2 * b + 1)
            .map_or(f32::INFINITY, |&x| f32::from_bits(x))
    }

    /// The largest norm of an item's weights over all bands together.
    pub fn bands_max(&self) -> f32 {
        self.bands
            .get(2 * BANDS)
            .map_or(f32::INFINITY, |&x| f32::from_bits(x))
    }

    /// An item's band norms, coded as in the "ibands" section: byte b
    /// (b < [`BANDS`]) times `band_max(b) / 255`, and byte [`BANDS`] times
    /// `bands_max() / 255`, bound its norms (None without the section).
    pub fn item_bands_code(&self, item: u32) -> Option<u64> {
        self.item_bands.get(item as usize).copied()
    }

    /// Every item's band code (see [`Model::item_bands_code`]); empty in
    /// models without band norms.
    pub fn item_bands_codes(&self) -> &[u64] {
        &self.item_bands
    }

    /// Every item's whole-norm byte (byte `BANDS` of its band code); empty
    /// in models without band norms.
    pub fn item_whole_codes(&self) -> &[u8] {
        let codes = self.whole_codes.get_or_init(|| {
            self.item_bands
                .iter()
                .map(|&c| (c >> (8 * BANDS)) as u8)
                .collect()
        });
        // (Only a model whose codes were replaced after first use differs.)
        if codes.len() == self.item_bands.len() {
            codes
        } else {
            &[]
        }
    }

    /// Every item's entries in the common terms (see [`common::Common`]),
    /// once [`Model::prepare_searches`] built them.
    pub(crate) fn common(&self) -> Option<&common::Common> {
        self.common.get().and_then(Option::as_ref)
    }

    /// Builds what many searches pay for: the table of every item's common
    /// entries, with which search completes candidates from about 3 bytes
    /// per common entry instead of their stored vectors (a pass over the
    /// forward index: 0.2-0.3 s at 100k items, 2.0-3.3 s at 1M, default
    /// config, on two cores). Batch runs build it before they start; the
    /// explorer builds it in the background once a model is open. Searches
    /// use it from the moment it is ready; results do not change. Returns
    /// whether the model has one.
    pub fn prepare_searches(&self) -> bool {
        self.common
            .get_or_init(|| common::Common::build(self))
            .is_some()
    }

    /// [`Model::prepare_searches`] on the calling thread alone (a rayon
    /// pool of one thread), as the explorer runs it beside its queries.
    pub fn prepare_searches_on_one_thread(&self) -> bool {
        match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
            Ok(pool) => pool.install(|| self.prepare_searches()),
            Err(_) => self.prepare_searches(),
        }
    }

    /// Number of items containing a term.
    pub fn doc_freq(&self, term: u32) -> usize {
        self.postings(term).0.len()
    }

    /// An item's stored vector: terms, weights and field bits.
    pub fn item_vector(&self, item: u32) -> (&[u32], &[f32], &[u16]) {
        let (s, e) = span(&self.fwd_offsets, item as usize);
        (
            self.fwd_terms.get(s..e).unwrap_or(&[]),
            self.fwd_weights.get(s..e).unwrap_or(&[]),
            self.fwd_fields.get(s..e).unwrap_or(&[]),
        )
    }

    /// Asks the CPU to start fetching where an item's vector is stored (the
    /// first of two steps ahead of [`Model::item_vector`]; a hint only).
    pub(crate) fn prefetch_offsets(&self, item: u32) {
        if let Some(p) = self.fwd_offsets.get(item as usize) {
            prefetch(p);
        }
    }

    /// Asks the CPU to start fetching an item's terms and weights, their
    /// first 512 entries at most (the second step: reads its offsets, best
    /// fetched by [`Model::prefetch_offsets`] a little earlier).
    pub(crate) fn prefetch_vector(&self, item: u32) {
        let (s, e) = span(&self.fwd_offsets, item as usize);
        // One entry in every 16 (a cache line's worth) and the last, so
        // every line of both ranges is asked for.
        let e = e.min(s + 512);
        let (terms, weights) = (&self.fwd_terms[..], &self.fwd_weights[..]);
        for i in (s..e).step_by(16).chain((s < e).then(|| e - 1)) {
            if let Some(t) = terms.get(i) {
                prefetch(t);
            }
            if let Some(w) = weights.get(i) {
                prefetch(w);
            }
        }
    }

    /// Postings of a term: items (ascending) and their weights.
    pub fn postings(&self, term: u32) -> (&[u32], &[f32]) {
        let (s, e) = span(&self.inv_offsets, term as usize);
        (
            self.inv_items.get(s..e).unwrap_or(&[]),
            self.inv_weights.get(s..e).unwrap_or(&[]),
        )
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

/// A hint to bring the cache line of `p` into the caches; no effect on
/// results, nothing on other architectures.
#[inline(always)]
pub(crate) fn prefetch<T>(p: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and reads nothing into the program;
    // the pointer comes from a live reference anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (p as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// The range `offsets[i]..offsets[i + 1]`, empty when `i` is out of range
/// (opening checks that offsets rise within their array's length).
fn span(offsets: &[u64], i: usize) -> (usize, usize) {
    match (offsets.get(i), offsets.get(i + 1)) {
        (Some(&s), Some(&e)) if s <= e => (s as usize, e as usize),
        _ => (0, 0),
    }
}
