//! Training: catalogue + config -> model, in parallel chunks, with memory
//! proportional to the non-zeros and no step quadratic in the items.

use super::intern::{GroupedKeys, Interner, Keys};
use super::{
    BANDS, FORMAT_VERSION, Model, ModelConfig, ModelMeta, Scheme, StrTable, band_cuts, band_index,
};
use crate::catalog::{Catalog, sha256_hex};
use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::text::{Analyzer, Piece, TokenKind};
use rayon::prelude::*;
use std::time::Instant;

/// Items per parallel work unit: big enough to amortise the chunk's
/// vocabulary map, small enough to balance two cores. Part of the output's
/// definition: an item's BM25 length is summed in its chunk's term order.
const CHUNK: usize = 4096;

/// Chunks analysed before their vocabularies are merged and freed.
const WAVE: usize = 16;

/// Shards of the vocabulary merge, and the bits a shard takes in a
/// temporary term id.
const SHARDS: usize = 64;
const SHARD_BITS: u32 = 6;
const SHARD_MASK: u32 = (1 << SHARD_BITS) - 1;
const _: () = assert!(SHARDS == 1 << SHARD_BITS);
/// Distinct terms a shard can number within a temporary id.
const MAX_SHARD_TERMS: usize = 1 << (32 - SHARD_BITS);

/// Postings per piece of the inverted index built at once: the pieces are
/// built (two at a time on two cores) and written one after another, so the
/// whole inverted index never has to be in memory beside the forward one.
const POSTINGS_PER_PIECE: u64 = 1 << 21;

/// But every piece reads each item's entries once more (a cache miss or two
/// per item), so a piece has at least this many postings per item: at 1M
/// items x 178 non-zeros, 89 pieces of 2M postings made the stage take 14 s,
/// 11 pieces 8.7 s.
const POSTINGS_PER_ITEM_AND_PIECE: u64 = 16;

/// Field texts up to this length are analysed once per chunk and reused:
/// brands, categories and other short values repeat.
const CACHED_TEXT_BYTES: usize = 48;

/// What training did, for the command line's summary.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub seconds: f64,
    /// Wall time of each stage, in order.
    pub stages: Vec<(&'static str, f64)>,
    pub tokens_seen: u64,
    pub terms_dropped: u64,
}

/// A chunk of items: after analysis, chunk-local terms with their tf; after
/// weighting (in place), the items' finished forward vectors.
struct Chunk {
    /// The chunk's distinct keys, grouped by vocabulary shard ([`shard_of`]),
    /// and the number of the chunk's items holding each, by position in
    /// that grouping (both emptied once merged).
    keys: GroupedKeys,
    df: Vec<u32>,
    /// End offset into the entry arrays of each item.
    ends: Vec<usize>,
    /// Per entry: the term (chunk-local, then final), the tf combined over
    /// fields (then the weight) and the field bits.
    terms: Vec<u32>,
    weights: Vec<f32>,
    fields: Vec<u16>,
    /// Weighted length of each item (BM25's dl).
    lens: Vec<f32>,
    /// Per item: the factor its weights were divided by, inverted
    /// (1 / L2 norm for TF-IDF, 1 for BM25).
    scales: Vec<f32>,
    /// Per item, its weights' L2 norm in each df band ([`BANDS`] each).
    bands: Vec<f32>,
    tokens: u64,
}

impl Chunk {
    fn items(&self) -> usize {
        self.ends.len()
    }

    /// Entry range of item `i` of the chunk.
    fn span(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        start..self.ends[i]
    }
}

/// What one chunk's analysis leaves for the next on the same thread: the
/// chunk interner, emptied, and the entry buffers. A fresh interner per
/// chunk grew its table by rehashing (2% of training's samples at 1M items,
/// word config; 0.6% with reuse), and training's peak is 13 MB lower
/// (553 against 566 MB); its time did not change measurably.
struct ChunkScratch {
    keys: Interner,
    terms: Vec<u32>,
    weights: Vec<f32>,
    fields: Vec<u16>,
    occ: Vec<u64>,
}

/// Scratch space of chunks done, for the next chunks to take.
type ScratchPool = std::sync::Mutex<Vec<ChunkScratch>>;

fn analyse_chunk(
    catalog: &Catalog,
    rows: std::ops::Range<usize>,
    analyzer: &Analyzer,
    config: &ModelConfig,
    hasher: &hashbrown::DefaultHashBuilder,
    pool: &ScratchPool,
) -> Chunk {
    let sublinear = config.weighting.sublinear_tf && config.weighting.scheme == Scheme::Tfidf;
    let taken = pool.lock().ok().and_then(|mut p| p.pop());
    let ChunkScratch {
        mut keys,
        terms: mut e_terms,
        weights: mut e_weights,
        fields: mut e_fields,
        // (term << 8 | field) per occurrence; sorted to count occurrences
        // per field (the order of (term, field) pairs, as one integer).
        mut occ,
    } = taken.unwrap_or_else(|| ChunkScratch {
        keys: Interner::with_hasher(hasher.clone(), true),
        terms: Vec::new(),
        weights: Vec::new(),
        fields: Vec::new(),
        occ: Vec::new(),
    });
    debug_assert_eq!(keys.len(), 0);
    let mut out = Chunk {
        keys: GroupedKeys::default(),
        df: Vec::new(),
        ends: Vec::with_capacity(rows.len()),
        terms: Vec::new(),
        weights: Vec::new(),
        fields: Vec::new(),
        lens: Vec::with_capacity(rows.len()),
        scales: Vec::new(),
        bands: Vec::new(),
        tokens: 0,
    };
    // A word's character n-grams, interned once per chunk: catalogues
    // repeat their words, and expanding and interning n-grams was the
    // biggest cost of training with them.
    let mut grams_of: rustc_hash::FxHashMap<Box<str>, (u32, u32)> = Default::default();
    let mut gram_ids: Vec<u32> = Vec::new();
    // A short field text's keys, interned once per chunk and field. Reusing
    // them interns nothing new, so the chunk's ids are the same.
    let mut text_keys: Vec<rustc_hash::FxHashMap<&str, (u32, u32)>> =
        vec![Default::default(); catalog.fields.len()];
    let mut text_ids: Vec<u32> = Vec::new();
    let mut kind_ws: Vec<f32> = Vec::new();
    for row in rows {
        occ.clear();
        for (f, &(col, _)) in catalog.fields.iter().enumerate() {
            let text = catalog.cell(row, col);
            let cached = text.len() <= CACHED_TEXT_BYTES;
            if cached && let Some(&(start, len)) = text_keys[f].get(text) {
                let ids = &text_ids[start as usize..(start + len) as usize];
                occ.extend(ids.iter().map(|&id| ((id as u64) << 8) | f as u64));
                continue;
            }
            let first = occ.len();
            analyzer.analyze_pieces(text, &mut |piece| match piece {
                Piece::Key(key) => occ.push(((keys.intern(key) as u64) << 8) | f as u64),
                Piece::CharWord(word) => {
                    let (start, len) = match grams_of.get(word) {
                        Some(&span) => span,
                        None => {
                            let start = gram_ids.len();
                            analyzer.char_grams(word, &mut |key| {
                                gram_ids.push(keys.intern(key));
                            });
                            let span = (start as u32, (gram_ids.len() - start) as u32);
                            grams_of.insert(word.into(), span);
                            span
                        }
                    };
                    let ids = &gram_ids[start as usize..(start + len) as usize];
                    occ.extend(ids.iter().map(|&id| ((id as u64) << 8) | f as u64));
                }
            });
            if cached {
                let start = text_ids.len() as u32;
                text_ids.extend(occ[first..].iter().map(|&x| (x >> 8) as u32));
                text_keys[f].insert(text, (start, text_ids.len() as u32 - start));
            }
        }
        out.df.resize(keys.len(), 0);
        // The kind weight of each key, once per key rather than per use.
        while kind_ws.len() < keys.len() {
            let key = keys.get(kind_ws.len() as u32);
            kind_ws.push(analyzer.kind_weight(TokenKind::of_key(key)));
        }
        out.tokens += occ.len() as u64;
        occ.sort_unstable();
        let mut len = 0f32;
        let mut i = 0;
        while i < occ.len() {
            let term = (occ[i] >> 8) as u32;
            let kind_w = kind_ws[term as usize];
            let mut tf = 0f32;
            let mut bits = 0u16;
            while i < occ.len() && (occ[i] >> 8) as u32 == term {
                let pair = occ[i];
                let field = (pair & 0xff) as usize;
                let mut count = 0u32;
                while i < occ.len() && occ[i] == pair {
                    count += 1;
                    i += 1;
                }
                let fw = catalog.fields[field].1;
                let c = count as f32;
                tf += fw * if sublinear { 1.0 + c.ln() } else { c };
                bits |= 1 << field;
            }
            tf *= kind_w;
            len += tf;
            out.df[term as usize] += 1;
            e_terms.push(term);
            e_weights.push(tf);
            e_fields.push(bits);
        }
        out.lens.push(len);
        out.ends.push(e_terms.len());
    }
    // All chunks together hold the forward index: no spare room.
    out.terms = e_terms.as_slice().into();
    out.weights = e_weights.as_slice().into();
    out.fields = e_fields.as_slice().into();
    // The vocabulary merge reads the keys shard by shard, with their
    // hashes and df: lay them out in that order, without the lookup table.
    let grouped = keys.take_groups(SHARDS, shard_of);
    out.df = (0..grouped.len())
        .map(|p| out.df[grouped.id(p) as usize])
        .collect();
    out.keys = grouped;
    e_terms.clear();
    e_weights.clear();
    e_fields.clear();
    occ.clear();
    if let Ok(mut p) = pool.lock() {
        p.push(ChunkScratch {
            keys,
            terms: e_terms,
            weights: e_weights,
            fields: e_fields,
            occ,
        });
    }
    out
}

/// The vocabulary shard of a key, from its hash: bits the hash tables do
/// not use (they take the low bits for the bucket and the top seven as a
/// tag), so each shard's table still gets well spread hashes.
fn shard_of(hash: u64) -> usize {
    (hash >> 40) as usize % SHARDS
}

/// A key's first sixteen bytes, big-endian, zero padded: `a < b` between
/// two prefixes means the same between their keys (equal prefixes say
/// nothing). Sixteen, not eight: word pairs share their first word.
fn key_prefix(key: &str) -> u128 {
    let b = key.as_bytes();
    let mut w = [0u8; 16];
    let n = b.len().min(16);
    w[..n].copy_from_slice(&b[..n]);
    u128::from_be_bytes(w)
}

/// A key to sort: its id, its first sixteen bytes (see [`key_prefix`])
/// and its length. The prefix is the whole key when it is that short
/// (the length tells the padding from the key).
///
/// The prefix is two words, not one `u128`: 24 bytes a key instead of 32
/// (2.2M keys at 1M items, word config).
#[derive(Clone, Copy)]
struct Sorted {
    prefix: (u64, u64),
    id: u32,
    len: u32,
}

impl Sorted {
    fn of(id: u32, key: &str) -> Sorted {
        let p = key_prefix(key);
        Sorted {
            prefix: ((p >> 64) as u64, p as u64),
            id,
            // Keys are cut from fields of at most `MAX_FIELD_BYTES`.
            len: u32::try_from(key.len()).unwrap_or(u32::MAX),
        }
    }
}

/// The strings `key(id)` of `keys` as one table, built in parallel: at 1M
/// items (word config) reading 2.2M keys scattered over the shards' arenas
/// was 0.2 s on one core. Keys of up to sixteen bytes are taken from their
/// prefix, not read again.
fn str_table_par<'a>(keys: &[Sorted], key: &(impl Fn(u32) -> &'a str + Sync)) -> StrTable {
    const PIECE: usize = 1 << 14;
    let mut offsets = Vec::with_capacity(keys.len() + 1);
    let mut at = 0u64;
    offsets.push(at);
    for k in keys {
        at += k.len as u64;
        offsets.push(at);
    }
    let mut bytes = vec![0u8; at as usize];
    let mut pieces = Vec::with_capacity(keys.len().div_ceil(PIECE));
    let mut rest = &mut bytes[..];
    for (p, piece_keys) in keys.chunks(PIECE).enumerate() {
        let (s, e) = (offsets[p * PIECE], offsets[p * PIECE + piece_keys.len()]);
        let (out, tail) = std::mem::take(&mut rest).split_at_mut((e - s) as usize);
        rest = tail;
        pieces.push((piece_keys, out));
    }
    pieces.into_par_iter().for_each(|(piece_keys, out)| {
        let mut w = 0;
        for k in piece_keys {
            let len = k.len as usize;
            if len <= 16 {
                let prefix = (k.prefix.0 as u128) << 64 | k.prefix.1 as u128;
                out[w..w + len].copy_from_slice(&prefix.to_be_bytes()[..len]);
            } else {
                out[w..w + len].copy_from_slice(key(k.id).as_bytes());
            }
            w += len;
        }
    });
    StrTable {
        offsets: offsets.into(),
        bytes: bytes.into(),
    }
}

/// Everything training computes, before it becomes a [`Model`] in memory
/// or a model file.
struct Trained {
    config: ModelConfig,
    analyzer: Analyzer,
    vocab: StrTable,
    idf: Vec<f32>,
    /// Number of items per final term (its postings).
    df: Vec<u32>,
    avgdl: f64,
    /// The forward vectors, chunk by chunk (`keys`, `df`, `lens` dropped).
    chunks: Vec<Chunk>,
    item_scale: Vec<f32>,
    /// Per item, its norms in each band and in all, coded as bytes; and
    /// the bands' cuts and largest norms: the "ibands" and "bands" sections
    /// (see `Model`).
    item_bands: Vec<u64>,
    bands: Vec<u32>,
    nnz: u64,
    tokens_seen: u64,
    terms_dropped: u64,
}

/// Analyses, builds the vocabulary and weights the items: the stages up to
/// the forward vectors, each followed by a cancellation check.
fn build(
    catalog: &Catalog,
    config: &ModelConfig,
    progress: &dyn Progress,
    wave: usize,
    stage_done: &mut dyn FnMut(&'static str, Option<f64>),
) -> Result<Trained> {
    let config = effective_config(catalog, config)?;
    let analyzer = Analyzer::new(&config.preprocess)?;

    let n = catalog.len();
    let ranges: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(CHUNK)
        .map(|s| s..(s + CHUNK).min(n))
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    progress.update("analyse", 0, n as u64);
    // Chunk vocabularies are merged into global temporary ids with their
    // df a wave of chunks at a time, then freed: all chunks' vocabularies
    // at once were a third of training's peak memory. Keys are split into
    // shards by hash, each shard merged by one task, in chunk order.
    // Temporary ids order nothing (the final vocabulary is sorted by key),
    // so the model depends neither on the sharding nor on the waves.
    // One hasher for every interner: the merge reuses the chunks' hashes.
    // The shards' interners do not keep them: at 1M items, word config,
    // that was 17 MB more at training's peak.
    let hasher = hashbrown::DefaultHashBuilder::default();
    let mut merged: Vec<(Interner, Vec<u32>)> = (0..SHARDS)
        .map(|_| (Interner::with_hasher(hasher.clone(), false), Vec::new()))
        .collect();
    let mut chunks: Vec<Chunk> = Vec::with_capacity(ranges.len());
    // Per chunk: chunk-local term -> temporary id, `id in shard << SHARD_BITS | shard`.
    let mut local_to_tmp: Vec<Vec<u32>> = Vec::with_capacity(ranges.len());
    let pool = ScratchPool::default();
    let (mut analyse_secs, mut merge_secs) = (0.0, 0.0);
    for wave in ranges.chunks(wave.max(1)) {
        let lap = Instant::now();
        let mut fresh: Vec<Chunk> = wave
            .par_iter()
            .map(|r| {
                if progress.cancelled() {
                    return None;
                }
                let out = analyse_chunk(catalog, r.clone(), &analyzer, &config, &hasher, &pool);
                let d = done.fetch_add(r.len(), std::sync::atomic::Ordering::Relaxed) + r.len();
                progress.update("analyse", d as u64, n as u64);
                Some(out)
            })
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::Cancelled)?;
        analyse_secs += lap.elapsed().as_secs_f64();
        let lap = Instant::now();
        // Each shard interns its keys chunk by chunk; ids in visiting order.
        let ids: Vec<Vec<u32>> = merged
            .par_iter_mut()
            .enumerate()
            .map(|(sh, (interner, df))| {
                let mut ids: Vec<u32> = Vec::new();
                for c in &fresh {
                    for p in c.keys.group(sh) {
                        let id = interner.intern_hashed(c.keys.key(p), c.keys.hash(p));
                        if id as usize == df.len() {
                            df.push(0);
                        }
                        df[id as usize] += c.df[p];
                        ids.push(id);
                    }
                }
                ids
            })
            .collect();
        if merged.iter().any(|m| m.0.len() > MAX_SHARD_TERMS) {
            return Err(Error::input(format!(
                "{}: too many distinct terms (over {} in one of {SHARDS} hash shards); use shorter n-gram ranges",
                catalog.path.display(),
                MAX_SHARD_TERMS
            )));
        }
        // Where each chunk of the wave starts in each shard's visiting order.
        let mut chunk_pos = vec![[0u32; SHARDS]; fresh.len() + 1];
        for (c, chunk) in fresh.iter().enumerate() {
            let mut next = chunk_pos[c];
            for (sh, pos) in next.iter_mut().enumerate() {
                *pos += chunk.keys.group(sh).len() as u32;
            }
            chunk_pos[c + 1] = next;
        }
        let maps: Vec<Vec<u32>> = fresh
            .par_iter()
            .enumerate()
            .map(|(c, chunk)| {
                let keys = &chunk.keys;
                let mut map = vec![0u32; keys.len()];
                for sh in 0..SHARDS {
                    let ids = &ids[sh][chunk_pos[c][sh] as usize..chunk_pos[c + 1][sh] as usize];
                    for (p, &id) in keys.group(sh).zip(ids) {
                        map[keys.id(p) as usize] = (id << SHARD_BITS) | sh as u32;
                    }
                }
                map
            })
            .collect();
        // The chunks' own vocabularies are merged: free them.
        for c in &mut fresh {
            c.keys = GroupedKeys::default();
            c.df = Vec::new();
        }
        local_to_tmp.extend(maps);
        chunks.extend(fresh);
        merge_secs += lap.elapsed().as_secs_f64();
    }
    drop(pool);
    give_back_free_memory();
    stage_done("analyse", Some(analyse_secs));
    stage_done("vocabulary", Some(merge_secs));
    progress.update("vocabulary", 0, 1);
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    let mut shard_base = Vec::with_capacity(SHARDS);
    let mut total = 0u32;
    for (interner, _) in &merged {
        shard_base.push(total);
        total += interner.len() as u32;
    }
    let global = |tmp: u32| shard_base[(tmp & SHARD_MASK) as usize] + (tmp >> SHARD_BITS);
    let mut gdf: Vec<u32> = Vec::with_capacity(total as usize);
    let mut interners = Vec::with_capacity(SHARDS);
    for (interner, df) in merged {
        gdf.extend_from_slice(&df);
        interners.push(interner);
    }
    // Every key by global temporary id, without the lookup tables.
    let all_keys = Keys::concat(interners);
    give_back_free_memory();
    let key = |t: u32| all_keys.get(t);

    // Vocabulary filters: min_df, max_df, then max_features by df.
    let v = &config.vocabulary;
    let max_df = (v.max_df * n as f64).floor().max(1.0) as u32;
    let mut kept: Vec<u32> = (0..total)
        .filter(|&t| {
            let df = gdf[t as usize];
            df >= v.min_df && (v.max_df >= 1.0 || df <= max_df)
        })
        .collect();
    if v.max_features > 0 && kept.len() > v.max_features {
        kept.sort_unstable_by(|&a, &b| {
            gdf[b as usize]
                .cmp(&gdf[a as usize])
                .then_with(|| key(a).cmp(key(b)))
        });
        kept.truncate(v.max_features);
    }
    // Sorted by key: mostly by the keys' first sixteen bytes as one integer
    // (which orders like the keys), by the whole keys on a tie.
    let mut by_prefix: Vec<Sorted> = kept.par_iter().map(|&t| Sorted::of(t, key(t))).collect();
    by_prefix.par_sort_unstable_by(|a, b| {
        a.prefix
            .cmp(&b.prefix)
            .then_with(|| key(a.id).cmp(key(b.id)))
    });
    kept.clear();
    kept.extend(by_prefix.iter().map(|p| p.id));
    let vocab = str_table_par(&by_prefix, &key);
    drop(by_prefix);
    let terms_dropped = (total as usize - kept.len()) as u64;
    let mut tmp_to_final = vec![u32::MAX; total as usize];
    for (f, &t) in kept.iter().enumerate() {
        tmp_to_final[t as usize] = f as u32;
    }
    let nterms = kept.len();
    if nterms == 0 {
        return Err(Error::input(format!(
            "{}: no token survives the vocabulary filters (min_df = {}, max_df = {}, max_features = {}); relax them",
            catalog.path.display(),
            v.min_df,
            v.max_df,
            v.max_features
        )));
    }
    let df_final: Vec<u32> = kept.iter().map(|&t| gdf[t as usize]).collect();
    drop(all_keys);
    let nf = n as f64;
    let idf: Vec<f32> = df_final
        .iter()
        .map(|&df| {
            let df = df as f64;
            (match config.weighting.scheme {
                Scheme::Tfidf => ((1.0 + nf) / (1.0 + df)).ln() + 1.0,
                Scheme::Bm25 => (1.0 + (nf - df + 0.5) / (df + 0.5)).ln(),
            }) as f32
        })
        .collect();
    let total_len: f64 = chunks
        .iter()
        .flat_map(|c| c.lens.iter())
        .map(|&l| l as f64)
        .sum();
    let avgdl = if n > 0 { total_len / nf } else { 0.0 };

    give_back_free_memory();
    stage_done("vocabulary", None);
    // Weight, normalise and sort each item's vector by final term id, in
    // place: the chunk's arrays become its part of the forward index.
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    progress.update("weight", 0, n as u64);
    let scheme = config.weighting.scheme;
    let (k1, b) = (config.weighting.k1, config.weighting.b);
    let cuts = band_cuts(n);
    // Band of each final term (BANDS: in none).
    let band_of = |df: u32| band_index(cuts, df as usize).unwrap_or(BANDS) as u8;
    chunks
        .par_iter_mut()
        .zip(local_to_tmp.par_iter())
        .for_each(|(c, map)| {
            // Chunk-local term -> final term (u32::MAX: filtered out) and
            // its idf, once per key rather than per entry: the entries then
            // read a table of the chunk's keys, not two of the vocabulary's.
            let to_final: Vec<(u32, f32)> = map
                .iter()
                .map(|&tmp| {
                    let t = tmp_to_final[global(tmp) as usize];
                    (t, idf.get(t as usize).copied().unwrap_or(0.0))
                })
                .collect();
            let to_band: Vec<u8> = to_final
                .iter()
                .map(|&(t, _)| {
                    df_final
                        .get(t as usize)
                        .map_or(BANDS as u8, |&d| band_of(d))
                })
                .collect();
            let mut bands = Vec::with_capacity(c.items() * BANDS);
            let mut scales = Vec::with_capacity(c.items());
            // (final term << 32 | entry offset in the item): sorting these
            // integers orders the item by term (each term occurs once).
            let mut order: Vec<u64> = Vec::new();
            let mut item: Vec<(u32, f32, u16, u8)> = Vec::new();
            let mut write = 0;
            let mut start = 0;
            for i in 0..c.items() {
                let end = c.ends[i];
                order.clear();
                for j in start..end {
                    let t = to_final[c.terms[j] as usize].0;
                    if t != u32::MAX {
                        order.push(((t as u64) << 32) | (j - start) as u64);
                    }
                }
                order.sort_unstable();
                item.clear();
                for &o in &order {
                    let t = (o >> 32) as u32;
                    let j = start + (o & 0xffff_ffff) as usize;
                    let tf = c.weights[j];
                    let idf_t = to_final[c.terms[j] as usize].1;
                    let w = match scheme {
                        Scheme::Tfidf => tf * idf_t,
                        Scheme::Bm25 => {
                            let norm = k1 * (1.0 - b + b * (c.lens[i] / avgdl as f32));
                            idf_t * tf * (k1 + 1.0) / (tf + norm)
                        }
                    };
                    item.push((t, w, c.fields[j], to_band[c.terms[j] as usize]));
                }
                start = end;
                let mut scale = 1.0f32;
                if scheme == Scheme::Tfidf {
                    let norm = item.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
                    if norm > 0.0 {
                        item.iter_mut().for_each(|x| x.1 /= norm);
                        scale = 1.0 / norm;
                    }
                }
                scales.push(scale);
                let mut sq = [0f32; BANDS + 1];
                for &(_, w, _, band) in &item {
                    sq[band as usize] += w * w;
                }
                bands.extend(sq[..BANDS].iter().map(|x| x.sqrt()));
                // Never ahead of the reading position: an item keeps at most
                // the entries it had.
                for &(t, w, f, _) in &item {
                    c.terms[write] = t;
                    c.weights[write] = w;
                    c.fields[write] = f;
                    write += 1;
                }
                c.ends[i] = write;
            }
            c.terms.truncate(write);
            c.weights.truncate(write);
            c.fields.truncate(write);
            c.scales = scales;
            c.bands = bands;
            c.lens = Vec::new();
        });
    drop(local_to_tmp);
    drop(tmp_to_final);
    let tokens_seen = chunks.iter().map(|c| c.tokens).sum();
    let nnz = chunks.iter().map(|c| c.terms.len() as u64).sum();
    let mut item_scale: Vec<f32> = Vec::with_capacity(n);
    for c in &chunks {
        item_scale.extend_from_slice(&c.scales);
    }
    // Band norms: the largest of each band and of all together, then each
    // item's as bytes (see `Model::item_bands`).
    let mut band_max = [0f32; BANDS + 1];
    for c in &chunks {
        for item in c.bands.chunks_exact(BANDS) {
            for (m, &x) in band_max.iter_mut().zip(item) {
                *m = m.max(x);
            }
            band_max[BANDS] = band_max[BANDS].max(whole_norm(item));
        }
    }
    let code = |x: f32, max: f32| -> u64 {
        if max > 0.0 {
            (f64::from(x) / f64::from(max) * 255.0)
                .ceil()
                .clamp(0.0, 255.0) as u64
        } else {
            0
        }
    };
    let mut item_bands: Vec<u64> = Vec::with_capacity(n);
    for c in &mut chunks {
        for item in c.bands.chunks_exact(BANDS) {
            let mut v = code(whole_norm(item), band_max[BANDS]) << (8 * BANDS);
            for (b, &x) in item.iter().enumerate() {
                v |= code(x, band_max[b]) << (8 * b);
            }
            item_bands.push(v);
        }
        c.bands = Vec::new();
    }
    let mut bands: Vec<u32> = cuts
        .iter()
        .zip(band_max)
        .flat_map(|(&c, m)| [c, m.to_bits()])
        .collect();
    // Then a zero, so the section is a whole number of 8-byte words.
    bands.extend([band_max[BANDS].to_bits(), 0]);
    give_back_free_memory();
    stage_done("weight", None);
    Ok(Trained {
        config,
        analyzer,
        vocab,
        idf,
        df: df_final,
        avgdl,
        chunks,
        item_scale,
        item_bands,
        bands,
        nnz,
        tokens_seen,
        terms_dropped,
    })
}

/// The norm of an item's weights over all bands, from its per-band norms.
fn whole_norm(bands: &[f32]) -> f32 {
    bands.iter().map(|x| x * x).sum::<f32>().sqrt()
}

/// Returns the allocator's free memory to the system. glibc keeps freed
/// blocks of up to 32 MB in its heaps, so a stage's scratch space stayed
/// resident into the next stages: at 1M items, about 100 MB of training's
/// peak. Elsewhere a no-op.
fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: glibc's malloc_trim takes the allocator's locks itself and
        // only releases memory no allocation holds.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// The forward index's item offsets (n + 1 values).
fn forward_offsets(chunks: &[Chunk]) -> Vec<u64> {
    let mut offsets = Vec::with_capacity(chunks.iter().map(Chunk::items).sum::<usize>() + 1);
    offsets.push(0u64);
    let mut base = 0u64;
    for c in chunks {
        offsets.extend(c.ends.iter().map(|&e| base + e as u64));
        base += c.terms.len() as u64;
    }
    offsets
}

/// The inverted index's term offsets: postings per term are its df.
fn inverted_offsets(df: &[u32]) -> Vec<u64> {
    let mut offsets = Vec::with_capacity(df.len() + 1);
    let mut total = 0u64;
    offsets.push(0);
    for &d in df {
        total += d as u64;
        offsets.push(total);
    }
    offsets
}

/// Term ranges with about `POSTINGS_PER_PIECE` postings each, fewer for
/// short items (see `POSTINGS_PER_ITEM_AND_PIECE`), and at least four, so
/// both cores work and a piece is a fraction of the index.
fn term_ranges(inv_offsets: &[u64], items: usize) -> Vec<std::ops::Range<u32>> {
    let nterms = inv_offsets.len() - 1;
    let nnz = inv_offsets[nterms];
    let most = nnz / (items as u64 * POSTINGS_PER_ITEM_AND_PIECE).max(1);
    let parts = nnz.div_ceil(POSTINGS_PER_PIECE).min(most).max(4);
    let mut out = Vec::new();
    let mut t0 = 0usize;
    for p in 1..=parts {
        let t1 = if p == parts {
            nterms
        } else {
            let goal = nnz * p / parts;
            inv_offsets.partition_point(|&o| o < goal).clamp(t0, nterms)
        };
        if t1 > t0 {
            out.push(t0 as u32..t1 as u32);
            t0 = t1;
        }
    }
    out
}

/// One term range of the inverted index, with the range's per-term bounds.
/// Items come out ascending per term. `items`/`weights` hold the range's
/// postings, `term_max`/`term_base` its terms.
struct InvertedPiece<'a> {
    terms: std::ops::Range<u32>,
    items: &'a mut [u32],
    weights: &'a mut [f32],
    term_max: &'a mut [f32],
    term_base: &'a mut [f32],
}

/// Splits term ranges into one run of consecutive ranges per thread, with
/// about the same number of postings each.
fn lanes<T>(ranges: Vec<T>, postings: impl Fn(&T) -> u64) -> Vec<Vec<T>> {
    let total: u64 = ranges.iter().map(&postings).sum();
    let n = rayon::current_num_threads().max(1) as u64;
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut done = 0u64;
    for r in ranges {
        let lane = ((done * n) / total.max(1)) as usize;
        done += postings(&r);
        if out.len() <= lane {
            out.push(Vec::new());
        }
        if let Some(last) = out.last_mut() {
            last.push(r);
        }
    }
    out
}

/// Per item, where its entries of terms `t0..` start (chunk-local entry
/// index): a lane's position, advanced by each range it inverts, so a
/// range reads only its own entries of each item.
fn cursors_at(t: &Trained, t0: u32) -> Vec<usize> {
    let mut at = Vec::with_capacity(t.item_scale.len());
    for c in &t.chunks {
        for i in 0..c.items() {
            let span = c.span(i);
            at.push(span.start + c.terms[span.clone()].partition_point(|&x| x < t0));
        }
    }
    at
}

/// Fills one term range of the inverted index; `at` are the lane's item
/// cursors at the range's first term (see [`cursors_at`]).
fn invert(t: &Trained, inv_offsets: &[u64], out: InvertedPiece<'_>, at: &mut [usize]) {
    const AHEAD: usize = 16;
    let InvertedPiece {
        terms,
        items,
        weights,
        term_max,
        term_base,
    } = out;
    let (t0, t1) = (terms.start, terms.end);
    let base = inv_offsets[t0 as usize];
    let mut cursor: Vec<usize> = inv_offsets[t0 as usize..t1 as usize]
        .iter()
        .map(|&o| (o - base) as usize)
        .collect();
    let mut item = 0usize;
    for c in &t.chunks {
        // The first entry of each item in the range is a cache miss per
        // item and piece: fetched ahead, while earlier items are inverted.
        for i in 0..c.items() {
            if let Some(&j) = at.get(item + AHEAD)
                && i + AHEAD < c.items()
                && let Some(x) = c.terms.get(j)
            {
                super::prefetch(x);
            }
            let end = c.ends[i];
            // term_base[t] * item_scale[d] bounds every weight of t (see Model).
            let scale = c.scales[i];
            let mut j = at[item];
            while j < end {
                let term = c.terms[j];
                if term >= t1 {
                    break;
                }
                let local = (term - t0) as usize;
                let w = c.weights[j];
                let pos = cursor[local];
                items[pos] = item as u32;
                weights[pos] = w;
                cursor[local] += 1;
                term_max[local] = term_max[local].max(w);
                term_base[local] = term_base[local].max(w / scale);
                j += 1;
            }
            at[item] = j;
            item += 1;
        }
    }
}

/// The model's metadata for a training result.
fn model_meta(catalog: &Catalog, t: &Trained) -> ModelMeta {
    let config_hash = sha256_hex(t.config.canonical_json().as_bytes());
    let version = env!("CARGO_PKG_VERSION");
    let model_id = sha256_hex(
        format!(
            "{}|{}|{}|{}",
            FORMAT_VERSION, catalog.fingerprint, config_hash, version
        )
        .as_bytes(),
    )[..16]
        .to_string();
    ModelMeta {
        format_version: FORMAT_VERSION,
        prodsim_version: version.to_string(),
        model_id,
        catalog_fingerprint: catalog.fingerprint.clone(),
        catalog_file: catalog
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        config_hash,
        trained_at: timestamp_now(),
        items: catalog.len() as u64,
        terms: t.vocab.len() as u64,
        nonzeros: t.nnz,
        rows_skipped: catalog.skipped_lines.len() as u64,
        fields: catalog
            .fields
            .iter()
            .map(|&(c, _)| catalog.columns[c].clone())
            .collect(),
        title_column: catalog.columns[catalog.title_column].clone(),
        avg_item_len: t.avgdl,
    }
}

/// Item numbers sorted by id.
fn id_order(catalog: &Catalog) -> Vec<u32> {
    let mut order: Vec<u32> = (0..catalog.len() as u32).collect();
    order.par_sort_unstable_by(|&a, &b| catalog.id(a as usize).cmp(catalog.id(b as usize)));
    order
}

/// Runs `stage_done(name)` timings into a report's stage list.
struct Stages {
    list: Vec<(&'static str, f64)>,
    lap: Instant,
}

impl Stages {
    fn new() -> Self {
        Stages {
            list: Vec::new(),
            lap: Instant::now(),
        }
    }
    fn done(&mut self, name: &'static str) {
        self.record(name, None);
    }
    /// Records `secs` (default: the time since the last record) for
    /// `name`, added to its entry when it was the last one recorded.
    fn record(&mut self, name: &'static str, secs: Option<f64>) {
        let secs = secs.unwrap_or_else(|| self.lap.elapsed().as_secs_f64());
        match self.list.last_mut() {
            Some(last) if last.0 == name => last.1 += secs,
            _ => self.list.push((name, secs)),
        }
        self.lap = Instant::now();
    }
}

/// Trains a model on a loaded catalogue. `config.fields` and `id_column`
/// are taken from the catalogue as loaded (it already applied them).
pub fn train(
    catalog: &Catalog,
    config: &ModelConfig,
    progress: &dyn Progress,
) -> Result<(Model, TrainReport)> {
    train_in_waves(catalog, config, progress, WAVE)
}

/// [`train`], merging vocabularies every `wave` chunks.
fn train_in_waves(
    catalog: &Catalog,
    config: &ModelConfig,
    progress: &dyn Progress,
    wave: usize,
) -> Result<(Model, TrainReport)> {
    let start = Instant::now();
    let mut stages = Stages::new();
    let t = build(catalog, config, progress, wave, &mut |s, secs| {
        stages.record(s, secs)
    })?;
    // Inverted index, a term range per task.
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    progress.update("index", 0, t.nnz);
    let nterms = t.vocab.len();
    let inv_offsets = inverted_offsets(&t.df);
    let mut inv_items = vec![0u32; t.nnz as usize];
    let mut inv_weights = vec![0f32; t.nnz as usize];
    let mut term_max = vec![0f32; nterms];
    let mut term_base = vec![0f32; nterms];
    {
        let mut pieces = Vec::new();
        let (mut items, mut weights) = (&mut inv_items[..], &mut inv_weights[..]);
        let (mut tmax, mut tbase) = (&mut term_max[..], &mut term_base[..]);
        for r in term_ranges(&inv_offsets, catalog.len()) {
            let postings = (inv_offsets[r.end as usize] - inv_offsets[r.start as usize]) as usize;
            let nt = r.len();
            let (a, rest) = std::mem::take(&mut items).split_at_mut(postings);
            items = rest;
            let (b, rest) = std::mem::take(&mut weights).split_at_mut(postings);
            weights = rest;
            let (c, rest) = std::mem::take(&mut tmax).split_at_mut(nt);
            tmax = rest;
            let (d, rest) = std::mem::take(&mut tbase).split_at_mut(nt);
            tbase = rest;
            pieces.push(InvertedPiece {
                terms: r,
                items: a,
                weights: b,
                term_max: c,
                term_base: d,
            });
        }
        lanes(pieces, |p| p.items.len() as u64)
            .into_par_iter()
            .with_max_len(1)
            .for_each(|lane| {
                let mut at = cursors_at(&t, lane.first().map_or(0, |p| p.terms.start));
                for p in lane {
                    invert(&t, &inv_offsets, p, &mut at);
                }
            });
    }
    stages.done("index");
    let n = catalog.len();
    let ids = StrTable::from_iter((0..n).map(|i| catalog.id(i)));
    let titles = StrTable::from_iter((0..n).map(|i| catalog.title(i)));
    let id_order = id_order(catalog);
    let meta = model_meta(catalog, &t);
    let fwd_offsets = forward_offsets(&t.chunks);
    let nnz = t.nnz as usize;
    let mut fwd_terms = Vec::with_capacity(nnz);
    let mut fwd_weights = Vec::with_capacity(nnz);
    let mut fwd_fields = Vec::with_capacity(nnz);
    for c in &t.chunks {
        fwd_terms.extend_from_slice(&c.terms);
        fwd_weights.extend_from_slice(&c.weights);
        fwd_fields.extend_from_slice(&c.fields);
    }
    progress.update("done", n as u64, n as u64);
    let Trained {
        config,
        analyzer,
        vocab,
        idf,
        item_scale,
        item_bands,
        bands,
        tokens_seen,
        terms_dropped,
        ..
    } = t;
    let model = Model {
        config,
        meta,
        analyzer,
        vocab,
        idf: idf.into(),
        term_max: term_max.into(),
        term_base: term_base.into(),
        item_scale: item_scale.into(),
        bands: bands.into(),
        item_bands: item_bands.into(),
        whole_codes: Default::default(),
        common: Default::default(),
        ids,
        titles,
        id_order: id_order.into(),
        fwd_offsets: fwd_offsets.into(),
        fwd_terms: fwd_terms.into(),
        fwd_weights: fwd_weights.into(),
        fwd_fields: fwd_fields.into(),
        inv_offsets: inv_offsets.into(),
        inv_items: inv_items.into(),
        inv_weights: inv_weights.into(),
    };
    stages.done("ids");
    let report = TrainReport {
        seconds: start.elapsed().as_secs_f64(),
        stages: stages.list,
        tokens_seen,
        terms_dropped,
    };
    Ok((model, report))
}

/// What [`train_to_file`] wrote.
#[derive(Debug, Clone)]
pub struct SavedModel {
    pub meta: ModelMeta,
    /// The config as the model file records it.
    pub config: ModelConfig,
    /// Size of the model file.
    pub bytes: u64,
}

/// Items per piece of the id and title tables written at once.
const STRINGS_PER_PIECE: usize = 1 << 16;

/// Trains a model and writes it to `path` (atomically, like
/// [`super::format::save`]) without building the model in memory: the
/// forward vectors are written from the chunks they were weighted in, the
/// inverted index is built and written a term range at a time, and pieces
/// are written in parallel at their final offsets. The file's bytes are
/// those `save(train(..))` writes; the peak memory is about the forward
/// index (10 bytes per non-zero) instead of the whole model twice over.
/// It takes the catalogue to free its cells once the ids and titles are
/// written.
pub fn train_to_file(
    catalog: Catalog,
    config: &ModelConfig,
    path: &std::path::Path,
    progress: &dyn Progress,
) -> Result<(SavedModel, TrainReport)> {
    use super::format::ModelFileWriter;
    let start = Instant::now();
    let owned = catalog;
    let catalog = &owned;
    let mut stages = Stages::new();
    let mut t = build(catalog, config, progress, WAVE, &mut |s, secs| {
        stages.record(s, secs)
    })?;
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    let n = catalog.len();
    let nterms = t.vocab.len() as u64;
    let nnz = t.nnz;
    let meta = model_meta(catalog, &t);
    let encode = |e: serde_json::Error| Error::input(format!("cannot encode the model: {e}"));
    let config_json = serde_json::to_vec(&t.config).map_err(encode)?;
    let meta_json = serde_json::to_vec(&meta).map_err(encode)?;
    let (id_bytes, title_bytes) = rayon::join(
        || {
            (0..n)
                .into_par_iter()
                .map(|i| catalog.id(i).len() as u64)
                .sum::<u64>()
        },
        || {
            (0..n)
                .into_par_iter()
                .map(|i| catalog.title(i).len() as u64)
                .sum::<u64>()
        },
    );
    let (n64, vocab_bytes) = (n as u64, t.vocab.bytes.len() as u64);
    let lens: [u64; 22] = [
        config_json.len() as u64,
        meta_json.len() as u64,
        (nterms + 1) * 8,
        vocab_bytes,
        nterms * 4,
        nterms * 4,
        nterms * 4,
        n64 * 4,
        t.bands.len() as u64 * 4,
        t.item_bands.len() as u64 * 8,
        (n64 + 1) * 8,
        id_bytes,
        (n64 + 1) * 8,
        title_bytes,
        n64 * 4,
        (n64 + 1) * 8,
        nnz * 4,
        nnz * 4,
        nnz * 2,
        (nterms + 1) * 8,
        nnz * 4,
        nnz * 4,
    ];
    let file = ModelFileWriter::create(path, &lens)?;
    progress.update("write", 0, 3);

    // Everything but the inverted index: small sections, ids and titles,
    // and the forward vectors, chunk by chunk, in parallel.
    {
        let t = &t;
        let file = &file;
        let fwd_offsets = forward_offsets(&t.chunks);
        let mut tasks: Vec<Box<dyn Fn() -> Result<()> + Send + Sync + '_>> = Vec::new();
        tasks.push(Box::new(|| {
            file.write("config", 0, &config_json)?;
            file.write("meta", 0, &meta_json)?;
            file.write("vocab.o", 0, bytemuck::cast_slice(&t.vocab.offsets))?;
            file.write("vocab.s", 0, &t.vocab.bytes)?;
            file.write("idf", 0, bytemuck::cast_slice(&t.idf))?;
            file.write("iscale", 0, bytemuck::cast_slice(&t.item_scale))?;
            file.write("bands", 0, bytemuck::cast_slice(&t.bands))?;
            file.write("ibands", 0, bytemuck::cast_slice(&t.item_bands))?;
            file.write("fwd.o", 0, bytemuck::cast_slice(&fwd_offsets))?;
            file.write("inv.o", 0, bytemuck::cast_slice(&inverted_offsets(&t.df)))
        }));
        tasks.push(Box::new(|| {
            file.write("idorder", 0, bytemuck::cast_slice(&id_order(catalog)))
        }));
        // Id and title tables in pieces: offsets, then the piece's text.
        for (table, column) in [("ids", catalog.id_column), ("title", catalog.title_column)] {
            let (offsets, strings) = match table {
                "ids" => ("ids.o", "ids.s"),
                _ => ("title.o", "title.s"),
            };
            let starts: Vec<usize> = (0..n).step_by(STRINGS_PER_PIECE).collect();
            // Byte offset where each piece's text starts.
            let piece_bytes: Vec<u64> = starts
                .par_iter()
                .map(|&s| {
                    (s..(s + STRINGS_PER_PIECE).min(n))
                        .map(|i| catalog.cell(i, column).len() as u64)
                        .sum()
                })
                .collect();
            let mut at = 0u64;
            let piece_at: Vec<u64> = piece_bytes
                .iter()
                .map(|&b| {
                    let here = at;
                    at += b;
                    here
                })
                .collect();
            file.write(offsets, 0, &0u64.to_le_bytes())?;
            let (starts, piece_at) = (std::sync::Arc::new(starts), std::sync::Arc::new(piece_at));
            for k in 0..starts.len() {
                let (starts, piece_at) = (starts.clone(), piece_at.clone());
                tasks.push(Box::new(move || {
                    let s = starts[k];
                    let e = (s + STRINGS_PER_PIECE).min(n);
                    let mut text = Vec::new();
                    let mut ends = Vec::with_capacity(e - s);
                    for i in s..e {
                        text.extend_from_slice(catalog.cell(i, column).as_bytes());
                        ends.push(piece_at[k] + text.len() as u64);
                    }
                    file.write(strings, piece_at[k], &text)?;
                    file.write(offsets, (s as u64 + 1) * 8, bytemuck::cast_slice(&ends))
                }));
            }
        }
        let mut at = 0u64;
        for c in &t.chunks {
            let here = at;
            at += c.terms.len() as u64;
            tasks.push(Box::new(move || {
                file.write("fwd.t", here * 4, bytemuck::cast_slice(&c.terms))?;
                file.write("fwd.w", here * 4, bytemuck::cast_slice(&c.weights))?;
                file.write("fwd.f", here * 2, bytemuck::cast_slice(&c.fields))
            }));
        }
        tasks
            .into_par_iter()
            .with_max_len(1)
            .map(|task| {
                if progress.cancelled() {
                    return Err(Error::Cancelled);
                }
                task()
            })
            .collect::<Result<()>>()?;
    }
    // Ids and titles are written: the catalogue's cells are not needed.
    drop(owned);
    give_back_free_memory();
    stages.done("write forward");
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    progress.update("write", 1, 3);
    // The inverted index needs the forward terms and weights only.
    for c in &mut t.chunks {
        c.fields = Vec::new();
    }
    let inv_offsets = inverted_offsets(&t.df);
    let postings =
        |r: &std::ops::Range<u32>| inv_offsets[r.end as usize] - inv_offsets[r.start as usize];
    // The lanes build pieces and hand them to one writer thread: writes to
    // one file serialise on its lock, and a lane waiting there could not
    // build its next piece (at 1M items, default config, the two lanes
    // spent a tenth of the training spinning on that lock).
    struct Built {
        p0: u64,
        t0: u64,
        items: Vec<u32>,
        weights: Vec<f32>,
        term_max: Vec<f32>,
        term_base: Vec<f32>,
    }
    // Written pieces' buffers, for the next pieces: fresh buffers of this
    // size are new mappings, faulted in and zeroed page by page.
    let spare: std::sync::Mutex<Vec<Built>> = Default::default();
    std::thread::scope(|scope| -> Result<()> {
        // Rendezvous: a lane blocks until the writer takes its piece, so at
        // most one piece per lane plus the one being written are alive.
        let (send, receive) = std::sync::mpsc::sync_channel::<Built>(0);
        let file = &file;
        let spare = &spare;
        let writer = scope.spawn(move || -> Result<()> {
            for b in receive {
                file.write("inv.i", b.p0 * 4, bytemuck::cast_slice(&b.items))?;
                file.write("inv.w", b.p0 * 4, bytemuck::cast_slice(&b.weights))?;
                file.write("termmax", b.t0, bytemuck::cast_slice(&b.term_max))?;
                file.write("termbase", b.t0, bytemuck::cast_slice(&b.term_base))?;
                if let Ok(mut spare) = spare.lock() {
                    spare.push(b);
                }
            }
            Ok(())
        });
        let built = lanes(term_ranges(&inv_offsets, n), postings)
            .into_par_iter()
            .with_max_len(1)
            .map(|lane| {
                let mut at = cursors_at(&t, lane.first().map_or(0, |r| r.start));
                for r in lane {
                    if progress.cancelled() {
                        return Err(Error::Cancelled);
                    }
                    let len = postings(&r) as usize;
                    let reused = spare.lock().ok().and_then(|mut s| s.pop());
                    let mut b = reused.unwrap_or(Built {
                        p0: 0,
                        t0: 0,
                        items: Vec::new(),
                        weights: Vec::new(),
                        term_max: Vec::new(),
                        term_base: Vec::new(),
                    });
                    b.p0 = inv_offsets[r.start as usize];
                    b.t0 = r.start as u64 * 4;
                    b.items.clear();
                    b.items.resize(len, 0);
                    for (v, l) in [
                        (&mut b.weights, len),
                        (&mut b.term_max, r.len()),
                        (&mut b.term_base, r.len()),
                    ] {
                        v.clear();
                        v.resize(l, 0.0);
                    }
                    invert(
                        &t,
                        &inv_offsets,
                        InvertedPiece {
                            terms: r,
                            items: &mut b.items,
                            weights: &mut b.weights,
                            term_max: &mut b.term_max,
                            term_base: &mut b.term_base,
                        },
                        &mut at,
                    );
                    // Fails only when the writer stopped on an error, which
                    // its join below reports.
                    if send.send(b).is_err() {
                        return Ok(());
                    }
                }
                Ok(())
            })
            .collect::<Result<()>>();
        drop(send);
        let written = writer.join().unwrap_or_else(|_| {
            Err(Error::Io {
                context: "the model writer thread panicked".into(),
                source: std::io::Error::other("panic"),
            })
        });
        built.and(written)
    })?;
    stages.done("index");
    progress.update("write", 2, 3);
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    let bytes = file.finish()?;
    stages.done("sync");
    progress.update("done", n as u64, n as u64);
    let report = TrainReport {
        seconds: start.elapsed().as_secs_f64(),
        stages: stages.list,
        tokens_seen: t.tokens_seen,
        terms_dropped: t.terms_dropped,
    };
    Ok((
        SavedModel {
            meta,
            config: t.config,
            bytes,
        },
        report,
    ))
}

fn rfc3339(secs: i64) -> String {
    // Civil-from-days (Howard Hinnant's algorithm), so no date crate is needed.
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// RFC 3339 UTC timestamp of now, or of SOURCE_DATE_EPOCH when it is set
/// (the reproducible-builds convention), so a rebuild can be byte-identical.
pub fn timestamp_now() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    rfc3339(secs)
}

/// The config a model trained on `catalog` records: columns as the
/// catalogue resolved them, stopword files read in.
pub fn effective_config(catalog: &Catalog, config: &ModelConfig) -> Result<ModelConfig> {
    let mut config = config.clone();
    config.check()?;
    config.id_column = catalog.columns[catalog.id_column].clone();
    config.fields = catalog
        .field_specs()
        .iter()
        .map(|f| format!("{}:{}", f.name, f.weight))
        .collect::<Vec<_>>()
        .join(",");
    config.preprocess.resolve()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cancels once a given stage has been reported.
    struct CancelAt(&'static str, std::sync::atomic::AtomicBool);

    impl Progress for CancelAt {
        fn update(&self, stage: &str, _done: u64, _total: u64) {
            if stage == self.0 {
                self.1.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        fn cancelled(&self) -> bool {
            self.1.load(std::sync::atomic::Ordering::Relaxed)
        }
    }

    #[test]
    fn every_stage_can_be_cancelled() {
        let cat = Catalog::from_bytes(
            std::path::Path::new("t.csv"),
            b"id,title\n1,sony tv\n2,kodak ink 10B\n",
            &crate::catalog::CatalogOptions::default(),
        )
        .unwrap();
        for stage in ["analyse", "vocabulary", "weight"] {
            let p = CancelAt(stage, Default::default());
            let r = train(&cat, &ModelConfig::default(), &p);
            assert!(matches!(r, Err(Error::Cancelled)), "{stage}");
        }
        let p = CancelAt("never", Default::default());
        assert!(train(&cat, &ModelConfig::default(), &p).is_ok());
    }

    #[test]
    fn cached_char_grams_give_every_item_its_own_keys() {
        // Words repeat across rows (the cache's hits) and differ by one
        // letter (a wrong span would show).
        let csv =
            b"id,title\n1,sony tv sony\n2,tv sonx kodak\n3,kodak sony ink\n4,ink\n5,sonx sony tv\n";
        let cat = Catalog::from_bytes(
            std::path::Path::new("t.csv"),
            csv,
            &crate::catalog::CatalogOptions::default(),
        )
        .unwrap();
        let (m, _) = train(&cat, &ModelConfig::default(), &crate::jobs::NoProgress).unwrap();
        for item in 0..m.len() as u32 {
            let mut want: Vec<String> = Vec::new();
            m.analyzer()
                .analyze(m.title(item), &mut |k| want.push(k.to_string()));
            want.sort();
            want.dedup();
            let (terms, _, _) = m.item_vector(item);
            let mut got: Vec<String> = terms.iter().map(|&t| m.term_key(t).to_string()).collect();
            got.sort();
            assert_eq!(got, want, "item {item}");
        }
    }

    /// A synthetic catalogue over more than one chunk, its text fields
    /// weighted, as the command line loads it.
    fn synth_catalog(items: usize) -> Catalog {
        let mut csv = Vec::new();
        crate::synth::write_catalog(&crate::synth::SynthOptions { items, seed: 7 }, &mut csv)
            .unwrap();
        let opts = crate::catalog::CatalogOptions {
            id_column: None,
            fields: Some(crate::catalog::parse_fields("title:2,brand,category:0.5").unwrap()),
        };
        Catalog::from_bytes(std::path::Path::new("synth.csv"), &csv, &opts).unwrap()
    }

    #[test]
    fn chunks_analysed_with_reused_scratch_equal_fresh_ones() {
        // Chunk 2 repeats chunk 0's texts under other ids; chunk 1 differs.
        // One chunk per wave, so chunks 1 and 2 reuse the scratch (interner,
        // entry buffers) of the chunk before: chunk 2's vectors must equal
        // chunk 0's, which was analysed with fresh ones.
        let rows = |seed| {
            let mut csv = Vec::new();
            crate::synth::write_catalog(
                &crate::synth::SynthOptions { items: CHUNK, seed },
                &mut csv,
            )
            .unwrap();
            String::from_utf8(csv).unwrap()
        };
        let (a, b) = (rows(7), rows(8));
        let mut lines = a.lines();
        let mut csv = format!("{}\n", lines.next().unwrap());
        let body: Vec<&str> = lines.collect();
        body.iter().for_each(|l| csv.push_str(&format!("{l}\n")));
        b.lines()
            .skip(1)
            .for_each(|l| csv.push_str(&format!("B{l}\n")));
        body.iter().for_each(|l| csv.push_str(&format!("C{l}\n")));
        let opts = crate::catalog::CatalogOptions {
            id_column: None,
            fields: Some(crate::catalog::parse_fields("title:2,brand").unwrap()),
        };
        let cat =
            Catalog::from_bytes(std::path::Path::new("r.csv"), csv.as_bytes(), &opts).unwrap();
        assert_eq!(cat.len(), 3 * CHUNK);
        for sets in [&[][..], &["char_ngrams=[0,0]"][..]] {
            let mut config = ModelConfig::default();
            for s in sets {
                config.set(s).unwrap();
            }
            let (model, _) = train_in_waves(&cat, &config, &crate::jobs::NoProgress, 1).unwrap();
            for i in 0..CHUNK as u32 {
                assert_eq!(
                    model.item_vector(i),
                    model.item_vector(2 * CHUNK as u32 + i),
                    "{sets:?}: item {i}"
                );
            }
        }
    }

    #[test]
    fn merging_vocabularies_in_waves_changes_nothing() {
        let cat = synth_catalog(3 * CHUNK + 100);
        for sets in [
            &[][..],
            &["weighting.scheme=bm25", "char_ngrams=[3,5]"][..],
            &["vocabulary.min_df=2", "vocabulary.max_features=700"][..],
        ] {
            let mut config = ModelConfig::default();
            for s in sets {
                config.set(s).unwrap();
            }
            let bytes = |wave| {
                let (mut model, report) =
                    train_in_waves(&cat, &config, &crate::jobs::NoProgress, wave).unwrap();
                let names: Vec<&str> = report.stages.iter().map(|s| s.0).collect();
                assert_eq!(&names[..3], ["analyse", "vocabulary", "weight"]);
                model.meta.trained_at = String::new();
                super::super::format::to_bytes(&model).unwrap()
            };
            let whole = bytes(WAVE);
            for wave in [1, 3] {
                assert!(bytes(wave) == whole, "{sets:?}, waves of {wave} chunks");
            }
        }
    }

    #[test]
    fn the_streamed_file_has_the_saved_models_bytes() {
        let cat = synth_catalog(CHUNK + 900);
        let dir = tempfile::tempdir().unwrap();
        for sets in [
            &[][..],
            &["char_ngrams=[0,0]"][..],
            &["weighting.scheme=bm25", "char_ngrams=[3,5]"][..],
            // Filters drop terms, so items lose entries in place.
            &["vocabulary.min_df=3", "vocabulary.max_df=0.2"][..],
            &[
                "vocabulary.max_features=500",
                "weighting.sublinear_tf=false",
            ][..],
        ] {
            let mut config = ModelConfig::default();
            for s in sets {
                config.set(s).unwrap();
            }
            let path = dir.path().join("m.psm");
            let (saved, report) =
                train_to_file(cat.clone(), &config, &path, &crate::jobs::NoProgress).unwrap();
            let (mut model, _) = train(&cat, &config, &crate::jobs::NoProgress).unwrap();
            // The clock may have ticked between the two.
            model.meta.trained_at = saved.meta.trained_at.clone();
            let want = super::super::format::to_bytes(&model).unwrap();
            let got = std::fs::read(&path).unwrap();
            assert_eq!(saved.bytes, got.len() as u64, "{sets:?}");
            assert!(
                got == want,
                "{sets:?}: streamed file differs from save(train(..))"
            );
            assert_eq!(saved.meta, model.meta, "{sets:?}");
            assert!(report.stages.iter().any(|s| s.0 == "index"));
            // And it opens as the same model.
            let opened = super::super::format::load_verified(&path).unwrap();
            assert_eq!(opened.len(), cat.len());
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "temporary files left: {names:?}");
    }

    #[test]
    fn the_inverted_index_lists_each_items_terms_in_pieces() {
        // Several term ranges even for a small model; every posting must
        // land where a one-pass counting sort puts it.
        let cat = synth_catalog(300);
        let (m, _) = train(&cat, &ModelConfig::default(), &crate::jobs::NoProgress).unwrap();
        assert!(term_ranges(&m.inv_offsets, m.len()).len() >= 4);
        let mut want: Vec<Vec<(u32, f32)>> = vec![Vec::new(); m.vocab_len()];
        for item in 0..m.len() as u32 {
            let (terms, weights, _) = m.item_vector(item);
            for (&t, &w) in terms.iter().zip(weights) {
                want[t as usize].push((item, w));
            }
        }
        for (t, postings) in want.iter().enumerate() {
            let (items, weights) = m.postings(t as u32);
            let got: Vec<(u32, f32)> = items.iter().copied().zip(weights.iter().copied()).collect();
            assert_eq!(&got, postings, "term {t}");
            let max = postings.iter().map(|p| p.1).fold(0f32, f32::max);
            assert_eq!(m.term_max(t as u32), max);
        }
    }

    #[test]
    fn key_prefixes_order_like_keys() {
        let mut keys = vec![
            "wab",
            "wa",
            "w",
            "",
            "wabcdefgh",
            "wabcdefg",
            "wabcdefgha",
            "wb",
            "c a",
            "c\u{e9}t",
            "nab cd",
            "wab\0",
            "wab\0\0x",
            "\u{ff}",
            "nabcdefghijklmno",
            "nabcdefghijklmnop",
            "nabcdefghijklmnoa",
            "nabcdefghijklmn",
        ];
        keys.sort();
        for a in &keys {
            for b in &keys {
                if key_prefix(a) < key_prefix(b) {
                    assert!(a < b, "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn parallel_string_tables_equal_serial_ones() {
        // Keys shorter than, as long as and longer than a prefix, some
        // ending in NUL bytes (which a prefix pads with).
        let words: Vec<String> = (0..40_000)
            .map(|n| "x".repeat(n % 19) + &n.to_string() + &"\0".repeat(n % 3))
            .collect();
        let key = |t: u32| words[t as usize].as_str();
        for ids in [
            vec![],
            vec![3u32],
            (0..40_000u32).rev().step_by(3).collect::<Vec<_>>(),
        ] {
            let sorted: Vec<Sorted> = ids.iter().map(|&t| Sorted::of(t, key(t))).collect();
            let par = str_table_par(&sorted, &key);
            assert_eq!(par, StrTable::from_iter(ids.iter().map(|&t| key(t))));
            assert_eq!(par.len(), ids.len());
        }
    }

    #[test]
    fn lanes_keep_ranges_in_order_and_balanced() {
        let ranges: Vec<u64> = vec![5, 1, 1, 40, 2, 2, 2, 9, 1, 30];
        let l = lanes(ranges.clone(), |&p| p);
        let flat: Vec<u64> = l.iter().flatten().copied().collect();
        assert_eq!(flat, ranges);
        assert!(l.len() <= rayon::current_num_threads().max(1));
        assert!(l.iter().all(|lane| !lane.is_empty()));
    }

    #[test]
    fn term_ranges_cover_every_term_once() {
        let offsets = inverted_offsets(&[5, 1, 1, 40, 2, 2, 2, 9, 1]);
        let ranges = term_ranges(&offsets, 2);
        assert_eq!(ranges.first().map(|r| r.start), Some(0));
        assert_eq!(ranges.last().map(|r| r.end), Some(9));
        assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
        assert!(ranges.iter().all(|r| !r.is_empty()));
        assert_eq!(term_ranges(&inverted_offsets(&[3]), 1), vec![0..1]);
        // Many pieces for long items, four for short ones.
        let long = inverted_offsets(&vec![1000; 10_000]);
        assert_eq!(term_ranges(&long, 100).len(), 5);
        assert_eq!(term_ranges(&long, 1_000_000).len(), 4);
    }

    #[test]
    fn a_cancelled_streamed_training_leaves_no_file() {
        let cat = synth_catalog(200);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.psm");
        for stage in ["analyse", "vocabulary", "weight", "write"] {
            let p = CancelAt(stage, Default::default());
            let r = train_to_file(cat.clone(), &ModelConfig::default(), &path, &p);
            assert!(matches!(r, Err(Error::Cancelled)), "{stage}");
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert!(left.is_empty(), "{stage}: {left:?}");
        }
    }

    #[test]
    fn repeated_short_texts_give_the_same_vectors_as_fresh_ones() {
        // The brand repeats (cached per chunk); the same brand spelled in
        // one row per item in a second catalogue without repeats must give
        // the same keys.
        let csv = b"id,title,brand\n1,tv 55in,Sony\n2,ink 10B,Kodak\n3,tv 65in,Sony\n4,ink,Sony\n";
        let opts = crate::catalog::CatalogOptions {
            id_column: None,
            fields: Some(crate::catalog::parse_fields("title,brand:2").unwrap()),
        };
        let cat = Catalog::from_bytes(std::path::Path::new("t.csv"), csv, &opts).unwrap();
        let (m, _) = train(&cat, &ModelConfig::default(), &crate::jobs::NoProgress).unwrap();
        for item in 0..m.len() as u32 {
            let row = item as usize;
            let mut want: Vec<(String, u16)> = Vec::new();
            for (f, &(col, _)) in cat.fields.iter().enumerate() {
                m.analyzer().analyze(cat.cell(row, col), &mut |k| {
                    want.push((k.to_string(), 1 << f));
                });
            }
            let (terms, _, fields) = m.item_vector(item);
            for (&t, &bits) in terms.iter().zip(fields) {
                let key = m.term_key(t);
                let from: u16 = want
                    .iter()
                    .filter(|w| w.0 == key)
                    .map(|w| w.1)
                    .fold(0, |a, b| a | b);
                assert_eq!(bits, from, "item {item} key {key}");
            }
            want.sort();
            want.dedup_by(|a, b| a.0 == b.0);
            assert_eq!(terms.len(), want.len(), "item {item}");
        }
    }

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_798_761_599), "2026-12-31T23:59:59Z");
    }
}
