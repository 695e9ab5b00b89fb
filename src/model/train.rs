//! Training: catalogue + config -> model, in parallel chunks, with memory
//! proportional to the non-zeros and no step quadratic in the items.

use super::intern::Interner;
use super::{FORMAT_VERSION, Model, ModelConfig, ModelMeta, Scheme, StrTable};
use crate::catalog::{Catalog, sha256_hex};
use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::text::{Analyzer, Piece, TokenKind};
use rayon::prelude::*;
use std::time::Instant;

/// Items per parallel work unit: big enough to amortise the chunk's
/// vocabulary map, small enough to balance two cores.
const CHUNK: usize = 4096;

/// What training did, for the command line's summary.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub seconds: f64,
    /// Wall time of each stage, in order.
    pub stages: Vec<(&'static str, f64)>,
    pub tokens_seen: u64,
    pub terms_dropped: u64,
}

/// One item's token before weighting: chunk-local term, field bits, and the
/// per-scheme term frequency already combined over fields.
#[derive(Clone, Copy)]
struct Entry {
    term: u32,
    fields: u16,
    tf: f32,
}

/// A chunk's finished item vectors, concatenated; `lens` per item.
struct ForwardPiece {
    terms: Vec<u32>,
    weights: Vec<f32>,
    fields: Vec<u16>,
    lens: Vec<u64>,
    /// Per item: the factor its weights were divided by, inverted
    /// (1 / L2 norm for TF-IDF, 1 for BM25).
    scales: Vec<f32>,
}

struct ChunkOut {
    keys: Interner,
    df: Vec<u32>,
    /// End offset into `entries` of each item.
    ends: Vec<usize>,
    entries: Vec<Entry>,
    /// Weighted length of each item (BM25's dl).
    lens: Vec<f32>,
    tokens: u64,
}

fn analyse_chunk(
    catalog: &Catalog,
    rows: std::ops::Range<usize>,
    analyzer: &Analyzer,
    config: &ModelConfig,
) -> ChunkOut {
    let sublinear = config.weighting.sublinear_tf && config.weighting.scheme == Scheme::Tfidf;
    let mut out = ChunkOut {
        keys: Interner::default(),
        df: Vec::new(),
        ends: Vec::with_capacity(rows.len()),
        entries: Vec::new(),
        lens: Vec::with_capacity(rows.len()),
        tokens: 0,
    };
    // (term, field) per occurrence; sorted to count occurrences per field.
    let mut occ: Vec<(u32, u8)> = Vec::new();
    // A word's character n-grams, interned once per chunk: catalogues
    // repeat their words, and expanding and interning n-grams was the
    // biggest cost of training with them.
    let mut grams_of: rustc_hash::FxHashMap<Box<str>, (u32, u32)> = Default::default();
    let mut gram_ids: Vec<u32> = Vec::new();
    for row in rows {
        occ.clear();
        for (f, &(col, _)) in catalog.fields.iter().enumerate() {
            let text = catalog.cell(row, col);
            analyzer.analyze_pieces(text, &mut |piece| match piece {
                Piece::Key(key) => occ.push((out.keys.intern(key), f as u8)),
                Piece::CharWord(word) => {
                    let (start, len) = match grams_of.get(word) {
                        Some(&span) => span,
                        None => {
                            let start = gram_ids.len();
                            analyzer.char_grams(word, &mut |key| {
                                gram_ids.push(out.keys.intern(key));
                            });
                            let span = (start as u32, (gram_ids.len() - start) as u32);
                            grams_of.insert(word.into(), span);
                            span
                        }
                    };
                    let ids = &gram_ids[start as usize..(start + len) as usize];
                    occ.extend(ids.iter().map(|&id| (id, f as u8)));
                }
            });
        }
        out.df.resize(out.keys.len(), 0);
        out.tokens += occ.len() as u64;
        occ.sort_unstable();
        let mut len = 0f32;
        let mut i = 0;
        while i < occ.len() {
            let term = occ[i].0;
            let kind_w = analyzer.kind_weight(TokenKind::of_key(out.keys.get(term)));
            let mut tf = 0f32;
            let mut bits = 0u16;
            while i < occ.len() && occ[i].0 == term {
                let field = occ[i].1;
                let mut count = 0u32;
                while i < occ.len() && occ[i] == (term, field) {
                    count += 1;
                    i += 1;
                }
                let fw = catalog.fields[field as usize].1;
                let c = count as f32;
                tf += fw * if sublinear { 1.0 + c.ln() } else { c };
                bits |= 1 << field;
            }
            tf *= kind_w;
            len += tf;
            out.df[term as usize] += 1;
            out.entries.push(Entry {
                term,
                fields: bits,
                tf,
            });
        }
        out.lens.push(len);
        out.ends.push(out.entries.len());
    }
    out
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

/// Trains a model on a loaded catalogue. `config.fields` and `id_column`
/// are taken from the catalogue as loaded (it already applied them).
pub fn train(
    catalog: &Catalog,
    config: &ModelConfig,
    progress: &dyn Progress,
) -> Result<(Model, TrainReport)> {
    let start = Instant::now();
    let mut stages: Vec<(&'static str, f64)> = Vec::new();
    let mut lap = Instant::now();
    let mut stage_done = |name: &'static str| {
        stages.push((name, lap.elapsed().as_secs_f64()));
        lap = Instant::now();
    };
    let config = effective_config(catalog, config)?;
    let analyzer = Analyzer::new(&config.preprocess)?;

    let n = catalog.len();
    let ranges: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(CHUNK)
        .map(|s| s..(s + CHUNK).min(n))
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    progress.update("analyse", 0, n as u64);
    let chunks: Vec<ChunkOut> = ranges
        .par_iter()
        .map(|r| {
            if progress.cancelled() {
                return None;
            }
            let out = analyse_chunk(catalog, r.clone(), &analyzer, &config);
            let d = done.fetch_add(r.len(), std::sync::atomic::Ordering::Relaxed) + r.len();
            progress.update("analyse", d as u64, n as u64);
            Some(out)
        })
        .collect::<Option<Vec<_>>>()
        .ok_or(Error::Cancelled)?;

    stage_done("analyse");
    // Merge chunk vocabularies into global temporary ids with their df, in
    // parallel: keys are split into shards by hash, each shard merged by one
    // task. Temporary ids only order nothing (the final vocabulary is
    // sorted by key), so the model does not depend on the sharding.
    progress.update("vocabulary", 0, chunks.len() as u64);
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    const SHARDS: usize = 64;
    let shard_of = |key: &str| {
        use std::hash::BuildHasher;
        // The high bits: FxHash mixes by multiplying, which leaves the most
        // entropy at the top of the word.
        (rustc_hash::FxBuildHasher.hash_one(key) >> 58) as usize % SHARDS
    };
    // Per chunk: its local ids grouped by shard (offsets per shard).
    let grouped: Vec<(Vec<u32>, Vec<u32>)> = chunks
        .par_iter()
        .map(|c| {
            let shards: Vec<u8> = (0..c.keys.len() as u32)
                .map(|l| shard_of(c.keys.get(l)) as u8)
                .collect();
            let mut starts = vec![0u32; SHARDS + 1];
            for &sh in &shards {
                starts[sh as usize + 1] += 1;
            }
            for i in 1..starts.len() {
                starts[i] += starts[i - 1];
            }
            let mut cursor = starts.clone();
            let mut locals = vec![0u32; shards.len()];
            for (l, &sh) in shards.iter().enumerate() {
                locals[cursor[sh as usize] as usize] = l as u32;
                cursor[sh as usize] += 1;
            }
            (locals, starts)
        })
        .collect();
    // Each shard interns its keys chunk by chunk; ids in visiting order.
    let merged: Vec<(Interner, Vec<u32>, Vec<u32>)> = (0..SHARDS)
        .into_par_iter()
        .map(|sh| {
            let mut interner = Interner::default();
            let mut df: Vec<u32> = Vec::new();
            let mut ids: Vec<u32> = Vec::new();
            for (c, (locals, starts)) in chunks.iter().zip(&grouped) {
                for &l in &locals[starts[sh] as usize..starts[sh + 1] as usize] {
                    let id = interner.intern(c.keys.get(l));
                    if id as usize == df.len() {
                        df.push(0);
                    }
                    df[id as usize] += c.df[l as usize];
                    ids.push(id);
                }
            }
            (interner, df, ids)
        })
        .collect();
    let mut shard_base = Vec::with_capacity(SHARDS);
    let mut total = 0u32;
    for (interner, _, _) in &merged {
        shard_base.push(total);
        total += interner.len() as u32;
    }
    // Where each chunk starts in each shard's visiting order.
    let mut chunk_pos = vec![[0u32; SHARDS]; chunks.len() + 1];
    for (c, (_, starts)) in grouped.iter().enumerate() {
        for sh in 0..SHARDS {
            chunk_pos[c + 1][sh] = chunk_pos[c][sh] + (starts[sh + 1] - starts[sh]);
        }
    }
    let local_to_tmp: Vec<Vec<u32>> = grouped
        .par_iter()
        .enumerate()
        .map(|(c, (locals, starts))| {
            let mut map = vec![0u32; locals.len()];
            for sh in 0..SHARDS {
                let ids = &merged[sh].2[chunk_pos[c][sh] as usize..chunk_pos[c + 1][sh] as usize];
                let slice = &locals[starts[sh] as usize..starts[sh + 1] as usize];
                for (&l, &id) in slice.iter().zip(ids) {
                    map[l as usize] = shard_base[sh] + id;
                }
            }
            map
        })
        .collect();
    drop(grouped);
    let mut gdf: Vec<u32> = Vec::with_capacity(total as usize);
    let mut gkeys: Vec<&str> = Vec::with_capacity(total as usize);
    for (interner, df, _) in &merged {
        gdf.extend_from_slice(df);
        gkeys.extend((0..interner.len() as u32).map(|i| interner.get(i)));
    }

    // Vocabulary filters: min_df, max_df, then max_features by df.
    let v = &config.vocabulary;
    let max_df = (v.max_df * n as f64).floor().max(1.0) as u32;
    let mut kept: Vec<u32> = (0..gkeys.len() as u32)
        .filter(|&t| {
            let df = gdf[t as usize];
            df >= v.min_df && (v.max_df >= 1.0 || df <= max_df)
        })
        .collect();
    if v.max_features > 0 && kept.len() > v.max_features {
        kept.sort_unstable_by(|&a, &b| {
            gdf[b as usize]
                .cmp(&gdf[a as usize])
                .then_with(|| gkeys[a as usize].cmp(gkeys[b as usize]))
        });
        kept.truncate(v.max_features);
    }
    kept.par_sort_unstable_by(|&a, &b| gkeys[a as usize].cmp(gkeys[b as usize]));
    let terms_dropped = (gkeys.len() - kept.len()) as u64;
    let mut tmp_to_final = vec![u32::MAX; gkeys.len()];
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
    let vocab = StrTable::from_iter(kept.iter().map(|&t| gkeys[t as usize]));
    let df_final: Vec<u32> = kept.iter().map(|&t| gdf[t as usize]).collect();
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

    stage_done("vocabulary");
    // Weight, normalise and sort each item's vector by final term id.
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    progress.update("weight", 0, n as u64);
    let scheme = config.weighting.scheme;
    let (k1, b) = (config.weighting.k1, config.weighting.b);
    let pieces: Vec<ForwardPiece> = chunks
        .par_iter()
        .zip(local_to_tmp.par_iter())
        .map(|(c, map)| {
            let mut terms = Vec::with_capacity(c.entries.len());
            let mut weights = Vec::with_capacity(c.entries.len());
            let mut fields = Vec::with_capacity(c.entries.len());
            let mut lens = Vec::with_capacity(c.ends.len());
            let mut scales = Vec::with_capacity(c.ends.len());
            let mut item: Vec<(u32, f32, u16)> = Vec::new();
            let mut start = 0;
            for (i, &end) in c.ends.iter().enumerate() {
                item.clear();
                for e in &c.entries[start..end] {
                    let t = tmp_to_final[map[e.term as usize] as usize];
                    if t == u32::MAX {
                        continue;
                    }
                    let w = match scheme {
                        Scheme::Tfidf => e.tf * idf[t as usize],
                        Scheme::Bm25 => {
                            let norm = k1 * (1.0 - b + b * (c.lens[i] / avgdl as f32));
                            idf[t as usize] * e.tf * (k1 + 1.0) / (e.tf + norm)
                        }
                    };
                    item.push((t, w, e.fields));
                }
                start = end;
                item.sort_unstable_by_key(|x| x.0);
                let mut scale = 1.0f32;
                if scheme == Scheme::Tfidf {
                    let norm = item.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
                    if norm > 0.0 {
                        item.iter_mut().for_each(|x| x.1 /= norm);
                        scale = 1.0 / norm;
                    }
                }
                scales.push(scale);
                for &(t, w, f) in &item {
                    terms.push(t);
                    weights.push(w);
                    fields.push(f);
                }
                lens.push(item.len() as u64);
            }
            ForwardPiece {
                terms,
                weights,
                fields,
                lens,
                scales,
            }
        })
        .collect();
    let tokens_seen = chunks.iter().map(|c| c.tokens).sum();
    drop(chunks);
    drop(local_to_tmp);

    let nnz: usize = pieces.iter().map(|p| p.terms.len()).sum();
    let mut fwd_offsets = Vec::with_capacity(n + 1);
    fwd_offsets.push(0u64);
    let mut fwd_terms = Vec::with_capacity(nnz);
    let mut fwd_weights = Vec::with_capacity(nnz);
    let mut fwd_fields = Vec::with_capacity(nnz);
    let mut item_scale: Vec<f32> = Vec::with_capacity(n);
    for p in pieces {
        item_scale.extend_from_slice(&p.scales);
        for l in p.lens {
            let last = *fwd_offsets.last().unwrap_or(&0);
            fwd_offsets.push(last + l);
        }
        fwd_terms.extend_from_slice(&p.terms);
        fwd_weights.extend_from_slice(&p.weights);
        fwd_fields.extend_from_slice(&p.fields);
    }

    stage_done("weight");
    // Inverted index by counting sort: items come out ascending per term.
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    progress.update("index", 0, nnz as u64);
    let mut counts = vec![0u64; nterms + 1];
    for &t in &fwd_terms {
        counts[t as usize + 1] += 1;
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    let inv_offsets = counts.clone();
    let mut cursor = counts;
    let mut inv_items = vec![0u32; nnz];
    let mut inv_weights = vec![0f32; nnz];
    let mut term_max = vec![0f32; nterms];
    // term_base[t] * item_scale[d] bounds every weight of t (see Model).
    let mut term_base = vec![0f32; nterms];
    for item in 0..n {
        let (s, e) = (fwd_offsets[item] as usize, fwd_offsets[item + 1] as usize);
        let scale = item_scale[item];
        for j in s..e {
            let t = fwd_terms[j] as usize;
            let pos = cursor[t] as usize;
            inv_items[pos] = item as u32;
            inv_weights[pos] = fwd_weights[j];
            cursor[t] += 1;
            term_max[t] = term_max[t].max(fwd_weights[j]);
            term_base[t] = term_base[t].max(fwd_weights[j] / scale);
        }
    }

    stage_done("index");
    let ids = StrTable::from_iter((0..n).map(|i| catalog.id(i)));
    let titles = StrTable::from_iter((0..n).map(|i| catalog.title(i)));
    let mut id_order: Vec<u32> = (0..n as u32).collect();
    id_order.par_sort_unstable_by(|&a, &b| catalog.id(a as usize).cmp(catalog.id(b as usize)));

    let config_hash = sha256_hex(config.canonical_json().as_bytes());
    let version = env!("CARGO_PKG_VERSION");
    let model_id = sha256_hex(
        format!(
            "{}|{}|{}|{}",
            FORMAT_VERSION, catalog.fingerprint, config_hash, version
        )
        .as_bytes(),
    )[..16]
        .to_string();
    let rows_skipped = catalog.skipped_lines.len() as u64;
    let meta = ModelMeta {
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
        items: n as u64,
        terms: nterms as u64,
        nonzeros: nnz as u64,
        rows_skipped,
        fields: catalog
            .fields
            .iter()
            .map(|&(c, _)| catalog.columns[c].clone())
            .collect(),
        title_column: catalog.columns[catalog.title_column].clone(),
        avg_item_len: avgdl,
    };
    progress.update("done", n as u64, n as u64);
    let model = Model {
        config,
        meta,
        analyzer,
        vocab,
        idf: idf.into(),
        term_max: term_max.into(),
        term_base: term_base.into(),
        item_scale: item_scale.into(),
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
    stage_done("ids");
    let report = TrainReport {
        seconds: start.elapsed().as_secs_f64(),
        stages,
        tokens_seen,
        terms_dropped,
    };
    Ok((model, report))
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

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_798_761_599), "2026-12-31T23:59:59Z");
    }
}
