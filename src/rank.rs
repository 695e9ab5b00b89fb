//! Neighbours for a text or a catalogue item: exact top-k through the
//! inverted index, each with its per-token breakdown. The explorer and
//! `prodsim query --explain` both print what this module returns.

use crate::error::{Error, Result};
use crate::model::{BANDS, Model, QueryVector, Representation, Scheme};
use crate::text::{TokenKind, key_text};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Work counters of pruned searches (feature `stats`): postings read,
/// items seen, items kept by the first (global and whole-norm) bound and
/// by the per-band bound, items scored from their stored vectors, vector
/// entries merged, and CPU cycles per phase; for tuning, printed by
/// `prodsim batch`.
#[cfg(feature = "stats")]
pub mod stats {
    use std::sync::atomic::{AtomicU64, Ordering};
    pub static POSTINGS: AtomicU64 = AtomicU64::new(0);
    pub static SCORED: AtomicU64 = AtomicU64::new(0);
    pub static MERGED: AtomicU64 = AtomicU64::new(0);
    pub static BOUNDED: AtomicU64 = AtomicU64::new(0);
    pub static KEPT: AtomicU64 = AtomicU64::new(0);
    pub static ASIDE_READ: AtomicU64 = AtomicU64::new(0);
    pub static SEARCHES: AtomicU64 = AtomicU64::new(0);
    pub static TOUCHED: AtomicU64 = AtomicU64::new(0);
    pub static SEED_TOUCHED: AtomicU64 = AtomicU64::new(0);
    pub static TIGHT: AtomicU64 = AtomicU64::new(0);
    pub static SIG_OUT: AtomicU64 = AtomicU64::new(0);
    pub static RESEEDS: AtomicU64 = AtomicU64::new(0);
    /// CPU cycles per phase: first postings, seeding, the other postings,
    /// bounding, completion; then parts of them: the first pass of
    /// bounding, completion through the set-aside lists, and completion's
    /// setup (query tables).
    /// `TIGHT` counts candidates bounded in completion from the search
    /// table (by their signature first; `SIG_OUT` of them ruled out by it,
    /// the others then by their coded common entries).
    pub static CYCLES: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
    pub fn now() -> u64 {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: reads the time-stamp counter; no memory is touched.
        return unsafe { std::arch::x86_64::_rdtsc() };
        #[cfg(not(target_arch = "x86_64"))]
        0
    }
    pub fn add(c: &AtomicU64, n: usize) {
        c.fetch_add(n as u64, Ordering::Relaxed);
    }
    /// Zeroes every counter (to count a chosen set of searches).
    pub fn reset() {
        for c in [
            &POSTINGS,
            &SCORED,
            &MERGED,
            &BOUNDED,
            &KEPT,
            &ASIDE_READ,
            &SEARCHES,
            &TOUCHED,
            &SEED_TOUCHED,
            &TIGHT,
            &SIG_OUT,
            &RESEEDS,
        ]
        .into_iter()
        .chain(CYCLES.iter())
        {
            c.store(0, Ordering::Relaxed);
        }
    }
    pub fn report() -> String {
        let s = SEARCHES.load(Ordering::Relaxed).max(1) as f64;
        let per = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64 / s;
        format!(
            "per search: reseeded {:.2}, tight-bounded {:.0} ({:.0} by signature), postings {:.0}, items seen {:.0} ({:.0} when seeding), aside postings read {:.0}, kept {:.0}, bounded {:.0}, scored {:.1}, merged {:.0} ({} searches); kcycles: first {:.1}, seed {:.1}, read {:.1}, bound {:.1} (first pass {:.1}), complete {:.1} (by lists {:.1}, setup {:.1})",
            per(&RESEEDS),
            per(&TIGHT),
            per(&SIG_OUT),
            per(&POSTINGS),
            per(&TOUCHED),
            per(&SEED_TOUCHED),
            per(&ASIDE_READ),
            per(&KEPT),
            per(&BOUNDED),
            per(&SCORED),
            per(&MERGED),
            s,
            per(&CYCLES[0]) / 1e3,
            per(&CYCLES[1]) / 1e3,
            per(&CYCLES[2]) / 1e3,
            per(&CYCLES[3]) / 1e3,
            per(&CYCLES[5]) / 1e3,
            per(&CYCLES[4]) / 1e3,
            per(&CYCLES[6]) / 1e3,
            per(&CYCLES[7]) / 1e3,
        )
    }
}

macro_rules! tick {
    ($t:ident, $phase:expr) => {
        #[cfg(feature = "stats")]
        {
            let n = stats::now();
            stats::add(&stats::CYCLES[$phase], (n - $t) as usize);
            $t = n;
        }
    };
}

macro_rules! count {
    ($c:ident, $n:expr) => {
        #[cfg(feature = "stats")]
        stats::add(&stats::$c, $n);
    };
}

/// What to find neighbours for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Query {
    /// Free text, preprocessed like the catalogue's fields.
    Text(String),
    /// A catalogue item by id; the item itself is left out of its results.
    Item(String),
}

impl Query {
    /// `text` or `item`.
    pub fn kind(&self) -> &'static str {
        match self {
            Query::Text(_) => "text",
            Query::Item(_) => "item",
        }
    }
    /// The text or the id.
    pub fn value(&self) -> &str {
        match self {
            Query::Text(s) | Query::Item(s) => s,
        }
    }
}

/// One token's share of a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenContribution {
    pub token: String,
    pub kind: TokenKind,
    /// Item fields the token was found in.
    pub fields: Vec<String>,
    pub query_weight: f64,
    pub item_weight: f64,
    /// query_weight x item_weight; the contributions add up to the score.
    pub contribution: f64,
}

/// One ranked item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Neighbour {
    pub rank: usize,
    #[serde(skip)]
    pub item: u32,
    pub item_id: String,
    pub title: String,
    pub score: f64,
    /// Largest contribution first; empty unless explanation was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Vec<TokenContribution>>,
}

/// A query token and its weight; `matched` is false when the vocabulary
/// does not know it (it then cannot contribute to any score).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryToken {
    pub token: String,
    pub kind: TokenKind,
    pub weight: f64,
    pub matched: bool,
}

/// The query as the model saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryInfo {
    pub kind: &'static str,
    pub query: String,
    pub tokens: Vec<QueryToken>,
}

/// A query's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranking {
    pub query: QueryInfo,
    pub results: Vec<Neighbour>,
}

/// Heap entry ordered so the *worst* kept candidate is on top.
#[derive(PartialEq)]
struct Candidate(f32, u32);
impl Eq for Candidate {}
impl Ord for Candidate {
    fn cmp(&self, o: &Self) -> Ordering {
        // Better = higher score, then lower item number.
        o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
    }
}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Best-first order of (item, score): score descending, item ascending.
pub fn better(a: &(u32, f32), b: &(u32, f32)) -> Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

impl Representation for Model {
    fn encode_text(&self, text: &str) -> QueryVector {
        let analyzer = self.analyzer();
        let mut counts: FxHashMap<String, u32> = FxHashMap::default();
        analyzer.analyze(text, &mut |key| {
            *counts.entry(key.to_string()).or_insert(0) += 1;
        });
        let sublinear = self.config.weighting.sublinear_tf;
        let mut q = QueryVector::default();
        for (key, c) in counts {
            match self.find_term(&key) {
                Some(t) => {
                    let w = match self.config.weighting.scheme {
                        Scheme::Tfidf => {
                            let c = c as f32;
                            let tf = if sublinear { 1.0 + c.ln() } else { c };
                            tf * analyzer.kind_weight(TokenKind::of_key(&key)) * self.idf(t)
                        }
                        Scheme::Bm25 => 1.0,
                    };
                    q.terms.push((t, w));
                }
                None => q.unknown.push(key),
            }
        }
        q.terms.sort_unstable_by_key(|x| x.0);
        q.unknown.sort();
        if self.config.weighting.scheme == Scheme::Tfidf {
            let norm = q.terms.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
            if norm > 0.0 {
                q.terms.iter_mut().for_each(|x| x.1 /= norm);
            }
        }
        q
    }

    fn encode_item(&self, item: u32) -> QueryVector {
        let (terms, weights, _) = self.item_vector(item);
        let bm25 = self.config.weighting.scheme == Scheme::Bm25;
        QueryVector {
            terms: terms
                .iter()
                .zip(weights)
                .map(|(&t, &w)| (t, if bm25 { 1.0 } else { w }))
                .collect(),
            unknown: Vec::new(),
        }
    }

    fn top_k(&self, query: &QueryVector, k: usize, exclude: Option<u32>) -> Vec<(u32, f32)> {
        top_k_pruned(self, query, k, exclude)
    }

    fn contributions(&self, query: &QueryVector, item: u32) -> Vec<(u32, f32, f32, u16)> {
        let (terms, weights, fields) = self.item_vector(item);
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < query.terms.len() && j < terms.len() {
            match query.terms[i].0.cmp(&terms[j]) {
                Ordering::Less => i += 1,
                Ordering::Greater => j += 1,
                Ordering::Equal => {
                    out.push((terms[j], query.terms[i].1, weights[j], fields[j]));
                    i += 1;
                    j += 1;
                }
            }
        }
        out
    }
}

/// Scratch space of one thread's queries: a score per item (all zero
/// between queries), the items touched, and a buffer for selections.
#[derive(Default)]
struct Scratch {
    acc: Vec<f32>,
    touched: Vec<u32>,
    values: Vec<f32>,
    dense: Dense,
    /// Query weights of the set-aside terms by position among the common
    /// terms (see [`crate::model::common::Common`]), 0 elsewhere.
    common_q: Vec<f32>,
    /// For selections that must leave `values` in place.
    spare: Vec<f32>,
}

/// Query weights by term id (0 elsewhere), so an item is scored by one pass
/// over its stored vector instead of a merge with the query. A bit per term
/// says which are loaded: the bits (a few dozen KB) stay in cache where the
/// weights (4 bytes a term) would not, and most of an item's terms miss.
#[derive(Default)]
struct Dense {
    weight: Vec<f32>,
    bits: Vec<u64>,
    set: Vec<u32>,
}

impl Dense {
    /// Holds exactly the weights of `terms`.
    fn load(&mut self, vocab: usize, terms: &[(u32, f32)]) {
        self.clear();
        if self.weight.len() < vocab {
            self.weight.resize(vocab, 0.0);
            self.bits.resize(vocab.div_ceil(64), 0);
        }
        for &(t, w) in terms {
            if let Some(slot) = self.weight.get_mut(t as usize) {
                *slot = w;
                self.bits[t as usize >> 6] |= 1 << (t & 63);
                self.set.push(t);
            }
        }
    }

    fn clear(&mut self) {
        for &t in &self.set {
            self.weight[t as usize] = 0.0;
            self.bits[t as usize >> 6] = 0;
        }
        self.set.clear();
    }

    /// The item's score against the loaded weights: the same f32 sum, in
    /// the same order, as merging them with its vector (a term not loaded
    /// adds +0.0, which leaves the sum unchanged).
    fn score(&self, model: &Model, item: u32) -> f32 {
        let (terms, weights, _) = model.item_vector(item);
        count!(SCORED, 1);
        count!(MERGED, terms.len());
        let mut s = 0.0f32;
        for (&t, &w) in terms.iter().zip(weights) {
            let t = t as usize;
            let hit = self.bits.get(t >> 6).map_or(0, |b| (b >> (t & 63)) & 1) as usize;
            // Without a branch: a miss reads slot 0 and multiplies it by 0.
            let q = self.weight.get(t * hit).copied().unwrap_or(0.0) * hit as f32;
            s += q * w;
        }
        s
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[cfg(test)]
thread_local! {
    /// Queries of this thread that skipped at least one posting list.
    static PRUNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Pruned queries completed from the set-aside postings / item by item.
    static BY_LISTS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static BY_ITEMS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Pruned queries bounded by the dense scan / by the touched list.
    static SCANNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static LISTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Candidates ruled out / kept by their coded common entries.
    static TIGHT_OUT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static TIGHT_IN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Candidates ruled out by their common-term signature alone.
    static SIG_OUT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Searches that seeded again mid-read / after the first bounding pass.
    static RESEEDED_MID: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static RESEEDED_KEPT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Replaces `(RESEED_POSTINGS, RESEED_KEPT)` when set, so small test
    /// models take both paths.
    static RESEED_AT: std::cell::Cell<Option<(usize, usize)>> = const { std::cell::Cell::new(None) };
}

/// Slack added to every upper bound so f32 rounding in the accumulator
/// can never make pruning drop an item that belongs in the top k.
pub(crate) fn with_slack(bound: f32) -> f32 {
    bound * SLACK_MUL + SLACK_ADD
}

/// The factor and the term of [`with_slack`] (also used by [`crate::scan`]).
pub(crate) const SLACK_MUL: f32 = 1.0 + 1e-4;
pub(crate) const SLACK_ADD: f32 = 1e-6;

/// The k-th largest accumulated score among `items` (0 when fewer than k).
fn kth_best(acc: &[f32], items: &[u32], k: usize, exclude: Option<u32>, buf: &mut Vec<f32>) -> f32 {
    buf.clear();
    buf.extend(
        items
            .iter()
            .filter(|&&d| Some(d) != exclude)
            .map(|&d| acc.get(d as usize).copied().unwrap_or(0.0))
            .filter(|x| x.is_finite()),
    );
    if buf.len() < k || k == 0 {
        return 0.0;
    }
    let (_, kth, _) = buf.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
    *kth
}

/// Items whose exact score is taken first to set the pruning threshold.
const SEED_CANDIDATES: usize = 32;
/// Postings read before the threshold is seeded.
const SEED_POSTINGS: usize = 20_000;

/// The best k exactly scored items seen so far; `threshold` is the bar an
/// item must reach: the k-th best score (0 until there are k), or with a
/// band, a little below it, so every item whose score could equal the k-th
/// after exact rescoring is kept too.
struct TopK {
    k: usize,
    heap: BinaryHeap<Candidate>,
    /// With a band: items outside the heap that may still be within the
    /// band of the final k-th score.
    near: Option<Vec<(u32, f32)>>,
    /// Size at which `near` is next trimmed (doubles when many items are
    /// genuinely tied, so trimming stays linear overall).
    near_cap: usize,
}

/// Relative and absolute width of the rescoring band: far above the
/// rounding error of an f32 sum of a few hundred products in [0, 1].
const BAND_REL: f32 = 2e-4;
const BAND_ABS: f32 = 1e-6;

/// `x` lowered by the rescoring band.
fn below_band(x: f32) -> f32 {
    x - (x.abs() * BAND_REL + BAND_ABS)
}

impl TopK {
    fn new(k: usize, band: bool) -> TopK {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
            near: band.then(Vec::new),
            near_cap: 4 * k + 64,
        }
    }

    fn push(&mut self, item: u32, score: f32) {
        if score <= 0.0 {
            return;
        }
        let c = Candidate(score, item);
        if self.heap.len() < self.k {
            self.heap.push(c);
            return;
        }
        let out = match self.heap.peek() {
            Some(worst) if c < *worst => {
                let out = self.heap.pop();
                self.heap.push(c);
                out.map_or((item, score), |w| (w.1, w.0))
            }
            _ => (item, score),
        };
        let theta = self.threshold();
        if let Some(near) = &mut self.near
            && out.1 >= theta
        {
            near.push(out);
            if near.len() > self.near_cap {
                near.retain(|x| x.1 >= theta);
                self.near_cap = self.near_cap.max(2 * near.len());
            }
        }
    }

    /// The kept items, best first: the k best, plus with a band every item
    /// within the band of the k-th.
    fn into_sorted(self) -> Vec<(u32, f32)> {
        let theta = self.threshold();
        let mut out: Vec<(u32, f32)> = self.heap.into_iter().map(|c| (c.1, c.0)).collect();
        if let Some(near) = self.near {
            out.extend(near.into_iter().filter(|x| x.1 >= theta));
        }
        out.sort_unstable_by(better);
        out
    }

    fn threshold(&self) -> f32 {
        let kth = if self.heap.len() < self.k {
            0.0
        } else {
            self.heap.peek().map_or(0.0, |c| c.0)
        };
        if self.near.is_some() {
            below_band(kth)
        } else {
            kth
        }
    }
}

/// Exact top-k by dynamic pruning, a term-at-a-time MaxScore:
///
/// 1. Terms are taken best score bound first (query weight x the term's
///    largest item weight) into an accumulator of partial scores.
/// 2. After the first few thousand postings, the best partial scores are
///    scored exactly from their stored vectors: the k-th of those is a
///    threshold the final k-th score can only exceed.
/// 3. Of the terms not read yet, the longest postings with the smallest
///    bounds are set aside as long as their bound stays under the
///    threshold: then no item that only they contain can enter the top k.
///    The other terms are read; the set-aside postings (common character
///    n-grams, mostly) never are.
///    The set-aside terms' bound is the smaller of the sum of their
///    largest weights and, by Cauchy-Schwarz, the norm of their query
///    weights times the largest item norm over their df bands (per band,
///    and over all bands together).
/// 4. Each item seen gets an upper bound: its partial score plus the
///    set-aside terms bounded per item, by the query's norm in each df
///    band times the item's own norm there (a byte per band, stored by
///    training; older models bound each weight by the item's scale
///    instead). Items are completed from their stored vectors in order of
///    that bound until it falls below the threshold.
///
/// The result equals scoring every item (tested against exhaustive
/// scoring on random data); ties keep catalogue order.
pub fn top_k_pruned(
    model: &Model,
    query: &QueryVector,
    k: usize,
    exclude: Option<u32>,
) -> Vec<(u32, f32)> {
    search(model, query, k, exclude, false)
}

/// [`top_k_pruned`], with `band`: also every item within the rescoring
/// band of the k-th score.
fn search(
    model: &Model,
    query: &QueryVector,
    k: usize,
    exclude: Option<u32>,
    band: bool,
) -> Vec<(u32, f32)> {
    if k == 0 || query.terms.is_empty() {
        return Vec::new();
    }
    count!(SEARCHES, 1);
    #[cfg(feature = "stats")]
    let mut t0 = stats::now();
    // (term, query weight, bound, postings length), best bound first.
    let mut terms: Vec<(u32, f32, f32, usize)> = query
        .terms
        .iter()
        .filter_map(|&(t, qw)| {
            let df = model.doc_freq(t);
            (df > 0 && qw > 0.0).then(|| (t, qw, qw * model.term_max(t), df))
        })
        .collect();
    terms.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.3.cmp(&b.3)));
    let long_list = (model.len() / 64).max(1024);
    // Only these may be set aside: shorter lists cost less to read than
    // the seeding and bounding they would save. Models with per-item band
    // norms set aside exactly the lists their bands cover.
    let aside_min = model.band_floor().unwrap_or(long_list / 4);
    SCRATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Scratch {
            acc,
            touched,
            values,
            dense,
            common_q,
            spare,
        } = &mut *guard;
        if acc.len() < model.len() {
            acc.resize(model.len(), 0.0);
        }
        // One slot per item and one spare: `read_list` writes every posting's
        // item at the end and only counts it when it is new, without a branch.
        if touched.len() <= model.len() {
            touched.resize(model.len() + 1, 0);
        }
        let mut nt = 0usize;
        let mut top = TopK::new(k, band);
        let read_list = |t: u32, qw: f32, acc: &mut [f32], touched: &mut [u32], nt: &mut usize| {
            let n = accumulate(model, t, qw, acc, touched, nt);
            count!(POSTINGS, n);
            n
        };
        // Read the best-bound terms until the threshold can be seeded.
        let mut read = 0usize;
        let mut next = 0;
        while next < terms.len() {
            let (t, qw, _, df) = terms[next];
            if (read >= SEED_POSTINGS || df >= long_list) && nt >= k {
                break;
            }
            read += read_list(t, qw, acc, touched, &mut nt);
            next += 1;
        }
        // Set aside the longest, weakest postings while their bounds stay
        // under the threshold; read the others. An item that only set-aside
        // terms reach scores at most the smaller of two bounds: the sum of
        // their largest weights, and (Cauchy-Schwarz, per df band) the norm
        // of their query weights times the band's largest item norm.
        let mut aside: Vec<(u32, f32)> = Vec::new();
        let mut aside_sq = [0f32; BANDS];
        // What the set-aside terms add to any item at most.
        let mut aside_max = 0.0f32;
        // Seeding costs passes over the items seen: only worth it when a
        // posting list long enough to be set aside is left.
        if terms[next..].iter().any(|x| x.3 >= aside_min) {
            dense.load(model.vocab_len(), &query.terms);
            count!(SEED_TOUCHED, nt);
            tick!(t0, 0);
            seed(model, dense, acc, &touched[..nt], values, exclude, &mut top);
            tick!(t0, 1);
            let mut theta = top.threshold();
            // Unread terms, longest and weakest first.
            let by_ratio = |list: &mut Vec<usize>| {
                list.sort_by(|&a, &b| {
                    let ra = terms[a].3 as f64 / f64::from(terms[a].2).max(1e-12);
                    let rb = terms[b].3 as f64 / f64::from(terms[b].2).max(1e-12);
                    rb.total_cmp(&ra)
                })
            };
            let mut order: Vec<usize> = (next..terms.len()).collect();
            by_ratio(&mut order);
            let mut bound = 0.0f32;
            // Sets term j aside if the set-aside terms' bound stays under
            // the threshold with it.
            let mut set_aside = |j: usize, theta: f32| {
                let (t, qw, b, df) = terms[j];
                if df < aside_min {
                    return false;
                }
                let mut sq = aside_sq;
                let l2 = match model.band_of(df) {
                    Some(band) => {
                        sq[band] += qw * qw;
                        let per_band: f32 =
                            (0..BANDS).map(|i| sq[i].sqrt() * model.band_max(i)).sum();
                        let whole = sq.iter().sum::<f32>().sqrt() * model.bands_max();
                        per_band.min(whole)
                    }
                    None => f32::INFINITY,
                };
                if with_slack((bound + b).min(l2)) < theta {
                    bound += b;
                    aside_max = bound.min(l2);
                    aside_sq = sq;
                    aside.push((t, qw));
                    return true;
                }
                false
            };
            let mut to_read: Vec<usize> = order
                .into_iter()
                .filter(|&j| !set_aside(j, theta))
                .collect();
            let pending: usize = to_read.iter().map(|&j| terms[j].3).sum();
            if pending >= reseed_at().0 {
                // Much left to read: read the best-bound part of it, seed
                // again from the fuller partial scores, and set aside what
                // the higher threshold allows of the rest.
                to_read.sort_unstable();
                let mut done = 0;
                let mut read_now = 0usize;
                while done < to_read.len() && read_now < pending / 4 {
                    let (t, qw, _, _) = terms[to_read[done]];
                    read_now += read_list(t, qw, acc, touched, &mut nt);
                    done += 1;
                }
                seed(model, dense, acc, &touched[..nt], values, exclude, &mut top);
                count!(RESEEDS, 1);
                #[cfg(test)]
                RESEEDED_MID.with(|p| p.set(p.get() + 1));
                theta = top.threshold();
                let mut rest = to_read.split_off(done);
                by_ratio(&mut rest);
                to_read = rest.into_iter().filter(|&j| !set_aside(j, theta)).collect();
            }
            for j in to_read {
                let (t, qw, _, _) = terms[j];
                read_list(t, qw, acc, touched, &mut nt);
            }
        } else {
            for &(t, qw, _, _) in &terms[next..] {
                read_list(t, qw, acc, touched, &mut nt);
            }
        }
        count!(TOUCHED, nt);
        tick!(t0, 2);
        #[cfg(test)]
        if !aside.is_empty() {
            PRUNED.with(|p| p.set(p.get() + 1));
        }
        aside.sort_unstable_by_key(|x| x.0);
        let base: f32 = aside
            .iter()
            .map(|&(t, qw)| qw * model.weight_bound(t))
            .sum();
        // Upper bounds of every item seen; seeded items are already in `top`
        // (their accumulator holds infinity).
        // Per item, the set-aside terms add at most the sum over bands of
        // (query norm in the band) x (the item's norm in the band), or the
        // smaller whole-norm product; in models without band norms, their
        // per-item weight bounds.
        // What one unit of an item's band byte is worth, per band and for
        // all bands together (see `Model::item_bands`).
        let mut per_byte = [0f32; BANDS + 1];
        for b in 0..BANDS {
            per_byte[b] = aside_sq[b].sqrt() * model.band_max(b) / 255.0;
        }
        per_byte[BANDS] = aside_sq.iter().sum::<f32>().sqrt() * model.bands_max() / 255.0;
        let theta = top.threshold();
        let mut bounded: Vec<(f32, f32, u32)> = Vec::new();
        if aside.is_empty() {
            for &d in &touched[..nt] {
                let partial = std::mem::take(&mut acc[d as usize]);
                if Some(d) != exclude && partial.is_finite() {
                    top.push(d, partial);
                }
            }
        } else {
            // Two passes: the partial scores first, keeping the items that
            // neither the global bound nor their whole norm rules out, as
            // most items seen have small partial scores (by a scan of every
            // slot when many were seen, else through the touched list with
            // independent random reads and no branch to mispredict); then
            // those items' per-band bounds.
            // With band norms, the first pass also bounds each item by its
            // norm over all bands (one byte an item, mostly cached).
            let whole = model.item_whole_codes();
            let per_whole = if whole.is_empty() {
                0.0
            } else {
                per_byte[BANDS]
            };
            let n = model.len();
            let bound = crate::scan::Bound {
                whole,
                rest_max: aside_max,
                per_byte: per_whole,
                theta,
                exclude,
            };
            // Seeing a large share of the items, scan them all in order.
            let scanned = if nt.saturating_mul(DENSE_SHARE) >= n && !whole.is_empty() {
                if values.len() < n {
                    values.resize(n, 0.0);
                }
                acc.get_mut(..n)
                    .and_then(|acc| crate::scan::keep_dense(acc, &bound, touched, values))
            } else {
                None
            };
            #[cfg(test)]
            match scanned {
                Some(_) => SCANNED.with(|p| p.set(p.get() + 1)),
                None => LISTED.with(|p| p.set(p.get() + 1)),
            }
            let kept = match scanned {
                Some(kept) => kept,
                None => {
                    values.clear();
                    values.resize(nt, 0.0);
                    let mut kept = 0;
                    for i in 0..nt {
                        // Slots are scattered over 4 bytes per item: fetch ahead.
                        if let Some(&ahead) = touched[..nt].get(i + SLOT_AHEAD)
                            && let Some(p) = acc.get(ahead as usize)
                        {
                            crate::model::prefetch(p);
                            if let Some(w) = whole.get(ahead as usize) {
                                crate::model::prefetch(w);
                            }
                        }
                        let d = touched[i];
                        let partial = std::mem::take(&mut acc[d as usize]);
                        touched[kept] = d;
                        values[kept] = partial;
                        kept += usize::from(bound.keeps(d, partial));
                    }
                    kept
                }
            };
            count!(KEPT, kept);
            // Many items left: their partial scores now count every list
            // read, so the best of them are far better candidates than the
            // seed's; scoring them raises the threshold the rest must reach.
            let (kept, theta) = if kept >= reseed_at().1 {
                #[cfg(test)]
                RESEEDED_KEPT.with(|p| p.set(p.get() + 1));
                reseed(
                    model,
                    dense,
                    &touched[..kept],
                    &mut values[..kept],
                    spare,
                    &mut top,
                );
                let bound = crate::scan::Bound {
                    theta: theta.max(top.threshold()),
                    ..bound
                };
                // The first pass' test again, with the new threshold (the
                // new seeds' -inf fails it): no band code is read for the
                // items it rules out.
                let mut left = 0;
                for i in 0..kept {
                    let (d, partial) = (touched[i], values[i]);
                    touched[left] = d;
                    values[left] = partial;
                    left += usize::from(bound.keeps(d, partial));
                }
                (left, bound.theta)
            } else {
                (kept, theta)
            };
            #[cfg(feature = "stats")]
            stats::add(&stats::CYCLES[5], (stats::now() - t0) as usize);
            let codes = model.item_bands_codes();
            let (touched, values) = (&touched[..kept], &values[..kept]);
            if codes.is_empty() {
                for (&d, &partial) in touched.iter().zip(values) {
                    let ub = with_slack(partial + base * model.item_scale(d));
                    if ub >= theta {
                        bounded.push((ub, partial, d));
                    }
                }
            } else {
                for (i, (&d, &partial)) in touched.iter().zip(values).enumerate() {
                    // The codes are scattered over 8 bytes per item: fetch ahead.
                    if let Some(c) = touched
                        .get(i + SLOT_AHEAD)
                        .and_then(|&a| codes.get(a as usize))
                    {
                        crate::model::prefetch(c);
                    }
                    // (A code missing from a damaged file bounds nothing.)
                    let code = codes.get(d as usize).copied().unwrap_or(u64::MAX);
                    let byte = |b: usize| ((code >> (8 * b)) & 255) as f32;
                    let mut per_band = 0.0f32;
                    for (b, &f) in per_byte[..BANDS].iter().enumerate() {
                        per_band += f * byte(b);
                    }
                    let rest = per_band.min(per_byte[BANDS] * byte(BANDS));
                    let ub = with_slack(partial + rest);
                    if ub >= theta {
                        bounded.push((ub, partial, d));
                    }
                }
            }
            count!(BOUNDED, bounded.len());
        }
        tick!(t0, 3);
        // Completing many candidates one by one can cost more than reading
        // the set-aside postings: then read them, for the candidates only.
        let aside_postings: usize = aside.iter().map(|&(t, _)| model.doc_freq(t)).sum();
        let per_item = aside.len() + (model.meta.nonzeros as usize / model.len().max(1));
        if bounded.len().saturating_mul(per_item) > 2 * aside_postings {
            #[cfg(test)]
            BY_LISTS.with(|p| p.set(p.get() + 1));
            #[cfg(feature = "stats")]
            let t6 = stats::now();
            for &(_, partial, d) in &bounded {
                // Marks the candidates (a partial score is never 0 here).
                acc[d as usize] = partial.max(f32::MIN_POSITIVE);
            }
            for &(t, qw) in &aside {
                let (items, weights) = model.postings(t);
                count!(ASIDE_READ, items.len());
                for (&d, &w) in items.iter().zip(weights) {
                    if let Some(slot) = acc.get_mut(d as usize)
                        && *slot != 0.0
                    {
                        *slot += qw * w;
                    }
                }
            }
            for &(_, _, d) in &bounded {
                let score = std::mem::take(&mut acc[d as usize]);
                top.push(d, score);
            }
            #[cfg(feature = "stats")]
            stats::add(&stats::CYCLES[6], (stats::now() - t6) as usize);
        } else {
            #[cfg(test)]
            if !aside.is_empty() {
                BY_ITEMS.with(|p| p.set(p.get() + 1));
            }
            #[cfg(feature = "stats")]
            let t7 = stats::now();
            dense.load(model.vocab_len(), &aside);
            // The set-aside terms' weights by common-term position, when
            // every one is a common term: then each candidate is first
            // bounded from its coded common entries, and only the ones
            // that bound cannot rule out are read from their stored vectors.
            // And per signature bucket, the sum of their weights.
            let mut sig_q = [0f32; crate::model::common::SIG_BUCKETS];
            let common = model.common().filter(|c| {
                common_q.clear();
                common_q.resize(c.len(), 0.0);
                aside.iter().all(|&(t, qw)| match c.position(t) {
                    Some(p) => {
                        common_q[p] = qw;
                        sig_q[crate::model::common::bucket(p)] += qw * model.weight_bound(t);
                        true
                    }
                    None => false,
                })
            });
            // Candidates best bound first (ties by item), sorted a block at
            // a time: most searches stop well before the last one.
            #[cfg(feature = "stats")]
            stats::add(&stats::CYCLES[7], (stats::now() - t7) as usize);
            match common {
                Some(c) => {
                    complete_by_codes(model, c, common_q, &sig_q, dense, &mut bounded, &mut top)
                }
                None => {
                    let (mut sorted, mut block) = (0, FIRST_BLOCK);
                    let mut i = 0;
                    while i < bounded.len() {
                        if i == sorted {
                            sorted = sort_block(&mut bounded, sorted, block);
                            block *= 2;
                        }
                        let (ub, partial, d) = bounded[i];
                        if ub < top.threshold() {
                            break;
                        }
                        prefetch_ahead(model, &bounded[..sorted], i, |c| c.2);
                        top.push(d, partial + dense.score(model, d));
                        i += 1;
                    }
                }
            }
        }
        tick!(t0, 4);
        top.into_sorted()
    })
}

/// Sorts the next block of candidates (`block` of them from `sorted`, the
/// best of the rest: best bound first, ties by item); returns where the
/// sorted ones end.
fn sort_block(bounded: &mut [(f32, f32, u32)], sorted: usize, block: usize) -> usize {
    let order = |a: &(f32, f32, u32), b: &(f32, f32, u32)| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2));
    let rest = &mut bounded[sorted..];
    let take = block.min(rest.len());
    if take == 0 {
        return sorted;
    }
    if take < rest.len() {
        rest.select_nth_unstable_by(take - 1, order);
    }
    rest[..take].sort_unstable_by(order);
    sorted + take
}

/// Completes the candidates `(bound, partial score, item)` best bound
/// first, each through three tests against the threshold as it stands:
/// its bound; then, for a block of candidates at a time, its signature
/// bound (one cache line an item: [`Common::sig_sum`]); then, for the
/// ones left, its coded common entries ([`Common::bound`]); the ones
/// left after that are scored from their stored vectors. The threshold
/// only rises, so a candidate a test rules out stays ruled out.
#[inline(never)]
fn complete_by_codes(
    model: &Model,
    c: &crate::model::common::Common,
    common_q: &[f32],
    sig_q: &[f32; crate::model::common::SIG_BUCKETS],
    dense: &Dense,
    bounded: &mut [(f32, f32, u32)],
    top: &mut TopK,
) {
    let (mut sorted, mut block) = (0, FIRST_BLOCK);
    let mut left: Vec<(f32, f32, u32)> = Vec::new();
    while sorted < bounded.len() {
        let from = sorted;
        sorted = sort_block(bounded, sorted, block);
        block *= 2;
        let ready = &bounded[from..sorted];
        // Signatures: independent reads of a line an item, fetched ahead.
        left.clear();
        let theta = top.threshold();
        let mut below = false;
        for (j, &(ub, partial, d)) in ready.iter().enumerate() {
            if let Some(&(_, _, a)) = ready.get(j + SIG_AHEAD) {
                c.prefetch_sig(a);
                model.prefetch_scale(a);
            }
            if ub < theta {
                below = true;
                break;
            }
            count!(TIGHT, 1);
            if with_slack(partial + c.sig_sum(sig_q, d) * model.item_scale(d)) >= theta {
                left.push((ub, partial, d));
            } else {
                count!(SIG_OUT, 1);
                #[cfg(test)]
                SIG_OUT.with(|p| p.set(p.get() + 1));
            }
        }
        // Coded common entries, of the candidates the signatures left.
        for (j, &(ub, partial, d)) in left.iter().enumerate() {
            if j == 0 {
                for &(_, _, a) in left.iter().take(2 * COMMON_AHEAD) {
                    c.prefetch_offsets(a);
                }
                for &(_, _, a) in left.iter().take(COMMON_AHEAD) {
                    c.prefetch(a);
                }
            }
            if let Some(&(_, _, a)) = left.get(j + 2 * COMMON_AHEAD) {
                c.prefetch_offsets(a);
            }
            if let Some(&(_, _, a)) = left.get(j + COMMON_AHEAD) {
                c.prefetch(a);
            }
            if ub < top.threshold() {
                return;
            }
            let keep = with_slack(partial + c.bound(common_q, d)) >= top.threshold();
            #[cfg(test)]
            if keep {
                TIGHT_IN.with(|p| p.set(p.get() + 1));
            } else {
                TIGHT_OUT.with(|p| p.set(p.get() + 1));
            }
            if keep {
                model.prefetch_vector(d);
                top.push(d, partial + dense.score(model, d));
            }
        }
        if below {
            return;
        }
    }
}

/// Candidates sorted before completion starts (then twice as many each
/// time the sorted ones run out).
const FIRST_BLOCK: usize = 256;

/// How far ahead of the candidate being bounded from its common entries
/// those entries are fetched.
const COMMON_AHEAD: usize = 12;

/// How far ahead of the candidate being bounded its signature is fetched.
const SIG_AHEAD: usize = 24;

/// A search that has seen at least one item in this many bounds them by
/// scanning every slot of the accumulator in order ([`crate::scan`])
/// rather than by walking its list of touched items.
const DENSE_SHARE: usize = 16;

/// How far ahead of the item being bounded its accumulator slot and band
/// code are fetched.
const SLOT_AHEAD: usize = 16;

/// Adds term `t`'s postings times `qw` to the accumulator; items seen for
/// the first time are appended to `touched[..nt]` (which has a slot per
/// item and one spare). Returns the number of postings.
///
/// Not inlined: inside `search`, whose other loops grew, the compiler
/// spilled and reloaded registers for every posting.
#[inline(never)]
fn accumulate(
    model: &Model,
    t: u32,
    qw: f32,
    acc: &mut [f32],
    touched: &mut [u32],
    nt: &mut usize,
) -> usize {
    let (items, weights) = model.postings(t);
    let mut n = *nt;
    for (&d, &w) in items.iter().zip(weights) {
        let Some(slot) = acc.get_mut(d as usize) else {
            continue; // a damaged, unverified file cannot panic here
        };
        let c = qw * w;
        let old = *slot;
        *slot = old + c;
        // Written every time, counted only when new: no branch to mispredict.
        if let Some(x) = touched.get_mut(n) {
            *x = d;
        }
        // Weights are positive, so a slot is 0 until its first non-zero
        // contribution and never again: each item is counted once, and `n`
        // stays within the buffer.
        n += usize::from((old == 0.0) & (c != 0.0));
    }
    // Only a damaged file (negative weights) can count an item twice; even
    // then `touched[..nt]` stays a valid slice.
    *nt = n.min(touched.len().saturating_sub(1));
    items.len()
}

/// Scores the items with the best partial scores exactly, adds them to
/// `top` and marks them (accumulator = infinity) so they are not scored twice.
fn seed(
    model: &Model,
    query: &Dense,
    acc: &mut [f32],
    touched: &[u32],
    values: &mut Vec<f32>,
    exclude: Option<u32>,
    top: &mut TopK,
) {
    let m = (top.k + SEED_CANDIDATES).min(touched.len());
    let cut = kth_best(acc, touched, m, exclude, values);
    let mut picked: Vec<u32> = Vec::with_capacity(m);
    for &d in touched {
        if picked.len() >= m {
            break;
        }
        let slot = &mut acc[d as usize];
        if Some(d) != exclude && *slot >= cut && !slot.is_infinite() {
            *slot = f32::INFINITY;
            picked.push(d);
        }
    }
    score_exactly(model, query, &picked, top);
}

/// Adds `items` to `top` with their exact scores, each item's stored
/// vector fetched ahead while an earlier one is scored.
fn score_exactly(model: &Model, query: &Dense, items: &[u32], top: &mut TopK) {
    for (i, &d) in items.iter().enumerate() {
        prefetch_ahead(model, items, i, |&d| d);
        top.push(d, query.score(model, d));
    }
}

/// Postings left to read after seeding from which a search reads a
/// quarter of them and seeds again. The first seed comes from about
/// [`SEED_POSTINGS`] postings; in the slowest searches at 1M items its
/// threshold, not the work per posting, was what cost: given the final k-th
/// score as threshold instead, the slowest 1% of item queries took a sixth
/// of the cycles (stats build, `--features stats`).
const RESEED_POSTINGS: usize = 150_000;

/// Items kept by the first bounding pass from which a search takes new
/// seeds ([`reseed`]).
const RESEED_KEPT: usize = 16_384;

/// `(RESEED_POSTINGS, RESEED_KEPT)`, or in tests what `RESEED_AT` holds.
fn reseed_at() -> (usize, usize) {
    #[cfg(test)]
    if let Some(at) = RESEED_AT.with(|p| p.get()) {
        return at;
    }
    (RESEED_POSTINGS, RESEED_KEPT)
}

/// Scores exactly about the `k + SEED_CANDIDATES` items with the best
/// partial scores among `items`, adds them to `top`, and sets their partial
/// scores to -inf, which no bound lifts to a threshold: later passes skip
/// them. Any items would do (their exact scores only raise the threshold);
/// the best are found through a cut taken from a sample of at most
/// `RESEED_SAMPLE` partial scores, because selecting among all of them
/// (hundreds of thousands in the slowest searches) cost more than the
/// seeds saved.
fn reseed(
    model: &Model,
    query: &Dense,
    items: &[u32],
    partials: &mut [f32],
    buf: &mut Vec<f32>,
    top: &mut TopK,
) {
    let m = (top.k + SEED_CANDIDATES).min(items.len());
    if m == 0 {
        return;
    }
    let step = partials.len().div_ceil(RESEED_SAMPLE).max(1);
    buf.clear();
    buf.extend(partials.iter().step_by(step));
    // The sample's value at the rank of about 4m among all the scores.
    let rank = (4 * m / step).clamp(1, buf.len());
    let (_, cut, _) = buf.select_nth_unstable_by(rank - 1, |a, b| b.total_cmp(a));
    let cut = *cut;
    let mut best: Vec<(f32, usize)> = Vec::with_capacity(8 * m);
    for (i, &p) in partials.iter().enumerate() {
        if p >= cut {
            best.push((p, i));
        }
    }
    if best.len() > m {
        best.select_nth_unstable_by(m - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        best.truncate(m);
    }
    let picked: Vec<u32> = best
        .iter()
        .filter_map(|&(_, i)| {
            let d = items.get(i).copied();
            if let Some(p) = partials.get_mut(i) {
                *p = f32::NEG_INFINITY;
            }
            d
        })
        .collect();
    score_exactly(model, query, &picked, top);
}

/// Partial scores [`reseed`] samples to find its cut.
const RESEED_SAMPLE: usize = 4096;

/// Candidates scored from their stored vectors are scattered over the
/// forward index, so each costs a wait for memory: while candidate `i` is
/// scored, the vector of `i + AHEAD` and the offsets of `i + 2 * AHEAD` are
/// fetched. (A hint only: results do not depend on it.)
fn prefetch_ahead<T>(model: &Model, list: &[T], i: usize, item: impl Fn(&T) -> u32) {
    const AHEAD: usize = 4;
    if i == 0 {
        for c in list.iter().take(2 * AHEAD) {
            model.prefetch_offsets(item(c));
        }
        for c in list.iter().take(AHEAD) {
            model.prefetch_vector(item(c));
        }
    }
    if let Some(c) = list.get(i + 2 * AHEAD) {
        model.prefetch_offsets(item(c));
    }
    if let Some(c) = list.get(i + AHEAD) {
        model.prefetch_vector(item(c));
    }
}

/// Exact top-k by scoring every item that shares a term with the query
/// (no pruning): the reference [`top_k_pruned`] is tested and benchmarked
/// against.
pub fn top_k_exhaustive(
    model: &Model,
    query: &QueryVector,
    k: usize,
    exclude: Option<u32>,
) -> Vec<(u32, f32)> {
    if k == 0 || query.terms.is_empty() {
        return Vec::new();
    }
    SCRATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Scratch { acc, touched, .. } = &mut *guard;
        if acc.len() < model.len() {
            acc.resize(model.len(), 0.0);
        }
        if touched.len() <= model.len() {
            touched.resize(model.len() + 1, 0);
        }
        let mut nt = 0;
        for &(t, qw) in &query.terms {
            accumulate(model, t, qw, acc, touched, &mut nt);
        }
        let mut top = TopK::new(k, false);
        for &i in &touched[..nt] {
            let s = std::mem::take(&mut acc[i as usize]);
            if Some(i) != exclude {
                top.push(i, s);
            }
        }
        top.into_sorted()
    })
}

/// Turns raw contributions into sorted, named rows (largest first, then by
/// token so equal contributions are ordered deterministically).
pub fn breakdown(model: &Model, query: &QueryVector, item: u32) -> Vec<TokenContribution> {
    let mut rows: Vec<TokenContribution> = model
        .contributions(query, item)
        .into_iter()
        .map(|(t, qw, iw, bits)| {
            let (text, kind) = model.term(t);
            TokenContribution {
                token: text.to_string(),
                kind,
                fields: model.field_names(bits),
                query_weight: qw as f64,
                item_weight: iw as f64,
                contribution: qw as f64 * iw as f64,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.contribution
            .total_cmp(&a.contribution)
            .then_with(|| a.token.cmp(&b.token))
    });
    rows
}

/// Encodes a query, failing for an unknown item id.
pub fn encode(model: &Model, query: &Query) -> Result<(QueryVector, Option<u32>)> {
    match query {
        Query::Text(t) => Ok((model.encode_text(t), None)),
        Query::Item(id) => {
            let item = model.find_item(id).ok_or_else(|| {
                Error::input(format!(
                    "item {id:?} is not in the model (trained on {}); check the id",
                    model.meta.catalog_file
                ))
            })?;
            Ok((model.encode_item(item), Some(item)))
        }
    }
}

/// Describes the query's tokens, matched and unmatched.
pub fn query_info(model: &Model, query: &Query, qv: &QueryVector) -> QueryInfo {
    let mut tokens: Vec<QueryToken> = qv
        .terms
        .iter()
        .map(|&(t, w)| {
            let (text, kind) = model.term(t);
            QueryToken {
                token: text.to_string(),
                kind,
                weight: w as f64,
                matched: true,
            }
        })
        .collect();
    tokens.extend(qv.unknown.iter().map(|key| QueryToken {
        token: key_text(key).to_string(),
        kind: TokenKind::of_key(key),
        weight: 0.0,
        matched: false,
    }));
    QueryInfo {
        kind: query.kind(),
        query: query.value().to_string(),
        tokens,
    }
}

/// Exact top-k: candidates from the index's f32 accumulator (every item
/// within the rescoring band of the k-th score), rescored in f64 as the sum
/// of their per-token contributions, so every reported score is exactly
/// what its breakdown adds up to. Best first, ties by item number.
pub fn ranked(model: &Model, qv: &QueryVector, k: usize, exclude: Option<u32>) -> Vec<(u32, f64)> {
    let mut top: Vec<(u32, f64)> = search(model, qv, k, exclude, true)
        .into_iter()
        .map(|(item, _)| (item, exact_score_f64(model, &qv.terms, item)))
        .collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(k);
    top
}

/// The f64 sum of an item's contributions, in the order
/// [`Representation::contributions`] lists them.
fn exact_score_f64(model: &Model, query: &[(u32, f32)], item: u32) -> f64 {
    let (terms, weights, _) = model.item_vector(item);
    let (mut i, mut j) = (0, 0);
    let mut s = 0.0f64;
    while i < query.len() && j < terms.len() {
        match query[i].0.cmp(&terms[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                s += f64::from(query[i].1) * f64::from(weights[j]);
                i += 1;
                j += 1;
            }
        }
    }
    s
}

/// Top-k neighbours of a query, with breakdowns when `explain` is set.
pub fn neighbours(model: &Model, query: &Query, k: usize, explain: bool) -> Result<Ranking> {
    let (qv, exclude) = encode(model, query)?;
    let top = ranked(model, &qv, k, exclude);
    let results = top
        .into_iter()
        .enumerate()
        .map(|(r, (item, score))| Neighbour {
            rank: r + 1,
            item,
            item_id: model.item_id(item).to_string(),
            title: model.title(item).to_string(),
            score,
            breakdown: explain.then(|| breakdown(model, &qv, item)),
        })
        .collect();
    Ok(Ranking {
        query: query_info(model, query, &qv),
        results,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small deterministic generator, so the tests need no crate (the
    /// other modules' tests use it too).
    pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }
    use crate::catalog::{Catalog, CatalogOptions};
    use crate::jobs::NoProgress;
    use crate::model::{ModelConfig, train};
    use std::path::Path;

    pub(crate) fn model_from(csv: &str, sets: &[&str]) -> Model {
        let cat = Catalog::from_bytes(
            Path::new("t.csv"),
            csv.as_bytes(),
            &CatalogOptions::default(),
        )
        .unwrap();
        let mut config = ModelConfig::default();
        for s in sets {
            config.set(s).unwrap();
        }
        train(&cat, &config, &NoProgress).unwrap().0
    }

    const CAT: &str = "id,title\n\
        a,Panasonic KX-TS3282B corded phone\n\
        b,Panasonic KXTS3282B phone black\n\
        c,Sony WH-1000XM4 wireless headphones\n\
        d,Sony headphones\n\
        e,Sony headphones\n\
        f,Kodak ink cartridge 10B\n";

    #[test]
    fn breakdown_adds_up_to_the_score() {
        for sets in [
            &[][..],
            &["scheme=bm25"][..],
            &["char_ngrams=[0,0]", "stemmer=english"][..],
        ] {
            let m = model_from(CAT, sets);
            for q in [
                Query::Text("panasonic kx ts3282b".into()),
                Query::Text("sony wireless headphones".into()),
                Query::Item("c".into()),
            ] {
                let r = neighbours(&m, &q, 10, true).unwrap();
                assert!(!r.results.is_empty());
                for n in &r.results {
                    let sum: f64 = n
                        .breakdown
                        .as_ref()
                        .unwrap()
                        .iter()
                        .map(|t| t.contribution)
                        .sum();
                    assert!(
                        (sum - n.score).abs() < 1e-6,
                        "{sets:?} {q:?}: {sum} vs {}",
                        n.score
                    );
                    for t in n.breakdown.as_ref().unwrap() {
                        assert!((t.query_weight * t.item_weight - t.contribution).abs() < 1e-12);
                        assert_eq!(t.fields, vec!["title"]);
                    }
                }
            }
        }
    }

    #[test]
    fn codes_meet_and_item_queries_exclude_themselves() {
        let m = model_from(CAT, &[]);
        let r = neighbours(&m, &Query::Text("kx ts3282b".into()), 2, false).unwrap();
        let ids: Vec<&str> = r.results.iter().map(|n| n.item_id.as_str()).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&"a") && ids.contains(&"b"), "{ids:?}");
        let r = neighbours(&m, &Query::Item("a".into()), 5, false).unwrap();
        assert_eq!(r.results[0].item_id, "b");
        assert!(r.results.iter().all(|n| n.item_id != "a"));
        assert!(neighbours(&m, &Query::Item("zz".into()), 5, false).is_err());
    }

    #[test]
    fn ties_break_by_catalogue_order() {
        let m = model_from(CAT, &[]);
        let r = neighbours(&m, &Query::Text("sony headphones".into()), 3, false).unwrap();
        assert_eq!(r.results[0].score, r.results[1].score);
        assert_eq!(r.results[0].item_id, "d");
        assert_eq!(r.results[1].item_id, "e");
        assert_eq!(r.results[2].item_id, "c");
    }

    #[test]
    fn unknown_tokens_are_reported() {
        let m = model_from(CAT, &["char_ngrams=[0,0]"]);
        let r = neighbours(&m, &Query::Text("sony zzyzx".into()), 3, false).unwrap();
        let unmatched: Vec<&str> = r
            .query
            .tokens
            .iter()
            .filter(|t| !t.matched)
            .map(|t| t.token.as_str())
            .collect();
        assert!(unmatched.contains(&"zzyzx"), "{unmatched:?}");
        let r = neighbours(&m, &Query::Text("qqq".into()), 3, false).unwrap();
        assert!(r.results.is_empty());
    }

    #[test]
    fn tfidf_weights_match_hand_computation() {
        // Two items; "sony" in both (df 2), "tv" in one (df 1); N = 2.
        let m = model_from(
            "id,title\n1,sony tv\n2,sony\n",
            &["char_ngrams=[0,0]", "word_ngrams=[1,1]"],
        );
        let idf_sony = (3f64 / 3.0).ln() + 1.0;
        let idf_tv = (3f64 / 2.0).ln() + 1.0;
        let norm = (idf_sony * idf_sony + idf_tv * idf_tv).sqrt();
        let (terms, weights, _) = m.item_vector(0);
        let sony = m.find_term("wsony").unwrap();
        let tv = m.find_term("wtv").unwrap();
        let w = |t| weights[terms.iter().position(|&x| x == t).unwrap()] as f64;
        assert!((w(sony) - idf_sony / norm).abs() < 1e-6);
        assert!((w(tv) - idf_tv / norm).abs() < 1e-6);
        let (_, weights2, _) = m.item_vector(1);
        assert!((weights2[0] as f64 - 1.0).abs() < 1e-6);
    }

    #[test]
    fn bm25_weights_match_hand_computation() {
        let m = model_from(
            "id,title\n1,sony sony tv\n2,sony\n",
            &[
                "char_ngrams=[0,0]",
                "word_ngrams=[1,1]",
                "codes=false",
                "scheme=bm25",
                "k1=1.2",
                "b=0.75",
            ],
        );
        // dl: item 1 = 3 (sony x2 + tv), item 2 = 1; avgdl = 2.
        let (k1, b, avgdl) = (1.2f64, 0.75f64, 2.0f64);
        let idf = |df: f64| (1.0 + (2.0 - df + 0.5) / (df + 0.5)).ln();
        let bm = |tf: f64, dl: f64, df: f64| {
            idf(df) * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * dl / avgdl))
        };
        let sony = m.find_term("wsony").unwrap();
        let (terms, weights, _) = m.item_vector(0);
        let ws = weights[terms.iter().position(|&x| x == sony).unwrap()] as f64;
        assert!((ws - bm(2.0, 3.0, 2.0)).abs() < 1e-5, "{ws}");
        let r = neighbours(&m, &Query::Text("tv".into()), 1, true).unwrap();
        assert!((r.results[0].score - bm(1.0, 3.0, 1.0)).abs() < 1e-5);
        assert_eq!(
            r.results[0].breakdown.as_ref().unwrap()[0].query_weight,
            1.0
        );
    }

    #[test]
    fn top_k_equals_exhaustive_scoring_on_random_data() {
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15u64);
        let words = [
            "red", "blue", "case", "phone", "kx", "ts3282b", "ink", "10b", "sony", "tv", "usb",
            "cable",
        ];
        let mut csv = String::from("id,title\n");
        for i in 0..300 {
            let n = 1 + next() % 5;
            let t: Vec<&str> = (0..n)
                .map(|_| words[(next() % words.len() as u64) as usize])
                .collect();
            csv.push_str(&format!("{i},{}\n", t.join(" ")));
        }
        for sets in [&[][..], &["scheme=bm25"][..]] {
            let m = model_from(&csv, sets);
            for q in 0..20u32 {
                let qv = m.encode_item(q);
                let mut all: Vec<(u32, f32)> = (0..m.len() as u32)
                    .filter(|&i| i != q)
                    .map(|i| {
                        (
                            i,
                            m.contributions(&qv, i)
                                .iter()
                                .map(|c| c.1 * c.2)
                                .sum::<f32>(),
                        )
                    })
                    .filter(|x| x.1 > 0.0)
                    .collect();
                all.sort_by(better);
                let top = m.top_k(&qv, 10, Some(q));
                assert_eq!(top.len(), all.len().min(10));
                for (a, b) in top.iter().zip(&all) {
                    assert!(
                        (a.1 - b.1).abs() <= 1e-5 * b.1.abs().max(1.0),
                        "{sets:?} q{q}: {a:?} vs {b:?}"
                    );
                }
            }
        }
    }

    /// Reseeding thresholds (postings left, items kept) the test catalogues
    /// reach in many searches.
    const LOW_RESEED: (usize, usize) = (64, 16);

    #[test]
    fn ranking_equals_exhaustive_f64_ranking() {
        let mut next = xorshift(0x2545_F491_4F6C_DD1Du64);
        // 200 words with a skewed distribution, so some postings are long;
        // every 7th title repeats an earlier one, so exact ties run past k.
        let vocab: Vec<String> = (0..200).map(|i| format!("w{}x{}", i % 37, i)).collect();
        let mut titles: Vec<String> = Vec::new();
        let mut csv = String::from("id,title\n");
        for i in 0..2000 {
            let title = if i % 7 == 3 {
                titles[(next() % (titles.len() as u64).min(40)) as usize].clone()
            } else {
                let n = 2 + next() % 8;
                let t: Vec<&str> = (0..n)
                    .map(|_| {
                        let r = next() % 1000;
                        let w = (r * r / 5000) as usize % vocab.len();
                        vocab[w].as_str()
                    })
                    .collect();
                t.join(" ")
            };
            csv.push_str(&format!("{i},{title}\n"));
            titles.push(title);
        }
        for sets in [&[][..], &["scheme=bm25"][..], &["char_ngrams=[0,0]"][..]] {
            let m = model_from(&csv, sets);
            for q in (0..2000u32).step_by(97).chain(0..40) {
                let qv = m.encode_item(q);
                let mut all: Vec<(u32, f64)> = (0..m.len() as u32)
                    .filter(|&i| i != q)
                    .map(|i| {
                        let s: f64 = m
                            .contributions(&qv, i)
                            .iter()
                            .map(|c| c.1 as f64 * c.2 as f64)
                            .sum();
                        (i, s)
                    })
                    .filter(|x| x.1 > 0.0)
                    .collect();
                all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                for k in [1usize, 3, 10, 26] {
                    // Exactly the f64 ranking, ties by item number: every
                    // item within rounding of the k-th score was rescored,
                    // also when the search seeds again.
                    let want = &all[..all.len().min(k)];
                    for at in [None, Some(LOW_RESEED)] {
                        RESEED_AT.with(|p| p.set(at));
                        let got = ranked(&m, &qv, k, Some(q));
                        RESEED_AT.with(|p| p.set(None));
                        assert_eq!(got, want, "{sets:?} q{q} k{k} {at:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn band_keeps_every_item_within_rounding_of_the_kth() {
        // f32 sums can order two nearly equal items differently from their
        // f64 rescoring: the band keeps both for it, nothing further down.
        let mut top = TopK::new(2, true);
        for (item, score) in [
            (5, 0.9),
            (1, 0.5),
            (2, 0.70001),
            (3, 0.7),
            (4, 0.69995),
            (6, 0.6),
        ] {
            top.push(item, score);
        }
        let kept: Vec<u32> = top.into_sorted().iter().map(|x| x.0).collect();
        assert_eq!(kept, vec![5, 2, 3, 4]);
        let mut plain = TopK::new(2, false);
        for (item, score) in [(5, 0.9), (2, 0.70001), (3, 0.7), (4, 0.69995)] {
            plain.push(item, score);
        }
        assert_eq!(plain.into_sorted(), vec![(5, 0.9), (2, 0.70001)]);
        // Exact ties past k all stay, for the tie-break by item number.
        let mut tied = TopK::new(3, true);
        for item in (0..1000).rev() {
            tied.push(item, 0.5);
        }
        tied.push(2000, 0.4);
        let kept = tied.into_sorted();
        assert_eq!(kept.len(), 1000);
        assert!(kept.iter().enumerate().all(|(i, x)| x.0 == i as u32));
    }

    #[test]
    fn band_codes_bound_every_items_norms_closely() {
        // Zipf-like words over 3,000 items, so several bands have terms.
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15u64);
        let mut csv = String::from("id,title\n");
        for i in 0..3000 {
            let n = 1 + next() % 8;
            let t: Vec<String> = (0..n)
                .map(|_| {
                    let r = (next() % 10_000) as f64 / 10_000.0;
                    format!("w{}", (r.powi(4) * 300.0) as usize)
                })
                .collect();
            csv.push_str(&format!("{i},{}\n", t.join(" ")));
        }
        for sets in [&["char_ngrams=[0,0]"][..], &["scheme=bm25"][..]] {
            let m = model_from(&csv, sets);
            let cuts = crate::model::band_cuts(m.len());
            let mut true_max = [0f32; BANDS + 1];
            let mut norms = Vec::new();
            for item in 0..m.len() as u32 {
                let (terms, weights, _) = m.item_vector(item);
                let mut sq = [0f32; BANDS + 1];
                for (&t, &w) in terms.iter().zip(weights) {
                    let df = m.doc_freq(t);
                    let band = cuts.iter().position(|&c| df >= c as usize);
                    assert_eq!(m.band_of(df), band, "{sets:?} df {df}");
                    if let Some(b) = band {
                        sq[b] += w * w;
                        sq[BANDS] += w * w;
                    }
                }
                let n = sq.map(f32::sqrt);
                for (mx, x) in true_max.iter_mut().zip(n) {
                    *mx = mx.max(x);
                }
                norms.push(n);
            }
            let used = (0..BANDS).filter(|&b| true_max[b] > 0.0).count();
            assert!(used >= 3, "{sets:?}: only {used} bands have terms");
            for (b, &mx) in true_max[..BANDS].iter().enumerate() {
                assert!((m.band_max(b) - mx).abs() <= 1e-6 * mx.max(1.0));
            }
            assert!((m.bands_max() - true_max[BANDS]).abs() <= 1e-5 * true_max[BANDS].max(1.0));
            for (item, n) in norms.iter().enumerate() {
                let code = m.item_bands_code(item as u32).unwrap();
                for (b, &x) in n.iter().enumerate() {
                    let max = if b < BANDS {
                        m.band_max(b)
                    } else {
                        m.bands_max()
                    };
                    let bound = ((code >> (8 * b)) & 255) as f32 * max / 255.0;
                    // An upper bound (up to f32 rounding), at most one step above.
                    assert!(bound >= x * (1.0 - 1e-6), "{sets:?} item {item} band {b}");
                    assert!(
                        bound <= x + max / 255.0 + 1e-6,
                        "{sets:?} item {item} band {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn signatures_bound_what_common_terms_add() {
        use crate::model::common::{SIG_BUCKETS, bucket};
        let mut next = xorshift(0x5151_7e57);
        let vocab: Vec<String> = (0..300).map(|i| format!("w{i}x{}", i % 7)).collect();
        let mut csv = String::from("id,title\n");
        for i in 0..3000 {
            let len = 3 + (next() % 10) as usize;
            let title: Vec<&str> = (0..len)
                .map(|_| {
                    let r = (next() % 10_000) as f64 / 10_000.0;
                    vocab[((r * r) * vocab.len() as f64) as usize].as_str()
                })
                .collect();
            csv.push_str(&format!("{i},{}\n", title.join(" ")));
        }
        for sets in [&[][..], &["scheme=bm25"][..]] {
            let model = model_from(&csv, sets);
            assert!(model.prepare_searches(), "{sets:?}: no table");
            let Some(c) = model.common() else {
                panic!("{sets:?}: no table")
            };
            let common: Vec<u32> = (0..model.vocab_len() as u32)
                .filter(|&t| c.position(t).is_some())
                .collect();
            assert!(common.len() > 50, "{} common terms", common.len());
            let (mut tight, mut loose) = (0usize, 0usize);
            for _ in 0..50 {
                // A query weight for some of the common terms.
                let mut q = vec![0f32; model.vocab_len()];
                let mut sums = [0f32; SIG_BUCKETS];
                let mut all = 0f32;
                for &t in &common {
                    if next().is_multiple_of(8) {
                        let w = (1 + next() % 1000) as f32 / 1000.0;
                        q[t as usize] = w;
                        if let Some(p) = c.position(t) {
                            sums[bucket(p)] += w * model.weight_bound(t);
                        }
                        all += w * model.weight_bound(t);
                    }
                }
                for d in 0..model.len() as u32 {
                    let (terms, weights, _) = model.item_vector(d);
                    let exact: f64 = terms
                        .iter()
                        .zip(weights)
                        .map(|(&t, &w)| f64::from(q[t as usize]) * f64::from(w))
                        .sum();
                    let bound = c.sig_sum(&sums, d) * model.item_scale(d);
                    assert!(
                        f64::from(with_slack(bound)) >= exact,
                        "{sets:?} item {d}: bound {bound} < {exact}"
                    );
                    // Against the bound without a signature: every set-aside
                    // term at its largest weight for this item.
                    if bound < 0.5 * all * model.item_scale(d) {
                        tight += 1;
                    } else {
                        loose += 1;
                    }
                }
            }
            // Not a bound that holds by being huge: for most items, less
            // than half of what the terms could add without it.
            assert!(tight > loose, "{sets:?}: tight {tight}, loose {loose}");
        }
    }

    #[test]
    fn pruned_top_k_equals_exhaustive_on_random_data() {
        let mut next = xorshift(0x51_7CC1_B727_220Au64);
        // Zipf-like word use, so a few postings are long and many are short,
        // as in catalogues; some duplicate titles make exact ties.
        let vocab: Vec<String> = (0..400).map(|i| format!("t{i}")).collect();
        let mut titles: Vec<String> = Vec::new();
        let mut csv = String::from("id,title\n");
        for i in 0..4000 {
            let title = if i % 50 == 7 && i > 0 {
                titles[(next() % i as u64) as usize].clone()
            } else {
                let n = 1 + next() % 9;
                let t: Vec<&str> = (0..n)
                    .map(|_| {
                        let r = (next() % 10_000) as f64 / 10_000.0;
                        vocab[((r * r * r) * vocab.len() as f64) as usize].as_str()
                    })
                    .collect();
                t.join(" ")
            };
            csv.push_str(&format!("{i},{title}\n"));
            titles.push(title);
        }
        PRUNED.with(|p| p.set(0));
        BY_LISTS.with(|p| p.set(0));
        BY_ITEMS.with(|p| p.set(0));
        SCANNED.with(|p| p.set(0));
        LISTED.with(|p| p.set(0));
        TIGHT_OUT.with(|p| p.set(0));
        TIGHT_IN.with(|p| p.set(0));
        SIG_OUT.with(|p| p.set(0));
        RESEEDED_MID.with(|p| p.set(0));
        RESEEDED_KEPT.with(|p| p.set(0));
        let mut queries = 0usize;
        for sets in [
            &["char_ngrams=[0,0]"][..],
            &[][..],
            &["scheme=bm25", "char_ngrams=[0,0]"][..],
        ] {
            let mut with_bands = model_from(&csv, sets);
            assert!(with_bands.band_floor().is_some(), "{sets:?}: no band norms");
            // Models written before the band norms still search exactly,
            // with the per-item weight bounds alone.
            let mut without = model_from(&csv, sets);
            without.bands = Default::default();
            without.item_bands = Default::default();
            assert!(without.band_floor().is_none());
            // Batch runs complete candidates through the coded common
            // entries (where an item has enough of them).
            let mut prepared = model_from(&csv, sets);
            prepared.prepare_searches();
            for (m, banded) in [
                (&mut with_bands, true),
                (&mut without, false),
                (&mut prepared, true),
            ] {
                let m = &*m;
                let (pruned_before, queries_before) = (PRUNED.with(|p| p.get()), queries);
                let mut qvs: Vec<(QueryVector, Option<u32>)> = (0..4000u32)
                    .step_by(61)
                    .map(|q| (m.encode_item(q), Some(q)))
                    .collect();
                for q in 0..40 {
                    let n = 1 + next() % 6;
                    let text: Vec<&str> = (0..n)
                        .map(|_| vocab[(next() % 400) as usize].as_str())
                        .collect();
                    let _ = q;
                    qvs.push((m.encode_text(&text.join(" ")), None));
                }
                for (qv, exclude) in &qvs {
                    for k in [1usize, 5, 10, 26] {
                        let want = top_k_exhaustive(m, qv, k, *exclude);
                        // As shipped, and seeding again at thresholds small
                        // enough for this catalogue.
                        for at in [None, Some(LOW_RESEED)] {
                            queries += 1;
                            RESEED_AT.with(|p| p.set(at));
                            let got = top_k_pruned(m, qv, k, *exclude);
                            RESEED_AT.with(|p| p.set(None));
                            assert_eq!(got.len(), want.len(), "{sets:?} k{k} {at:?}");
                            for (j, (a, b)) in got.iter().zip(&want).enumerate() {
                                assert!(
                                    (a.1 - b.1).abs() <= 1e-5 * b.1.max(1.0),
                                    "{sets:?} k{k} {at:?} #{j}: {a:?} vs {b:?}"
                                );
                                let tie = want
                                    .iter()
                                    .chain(&got)
                                    .filter(|x| (x.1 - b.1).abs() < 1e-5 * b.1.max(1.0))
                                    .count()
                                    > 2;
                                assert!(
                                    tie || a.0 == b.0,
                                    "{sets:?} k{k} {at:?} #{j}: {a:?} vs {b:?}"
                                );
                            }
                        }
                    }
                }
                let pruned = PRUNED.with(|p| p.get()) - pruned_before;
                let asked = queries - queries_before;
                assert!(
                    pruned * 4 > asked,
                    "{sets:?} bands {banded}: pruned {pruned} of {asked} queries"
                );
            }
        }
        // The test is only worth something if pruning really happened.
        let pruned = PRUNED.with(|p| p.get());
        assert!(pruned * 4 > queries, "pruned {pruned} of {queries} queries");
        let (lists, items) = (BY_LISTS.with(|p| p.get()), BY_ITEMS.with(|p| p.get()));
        assert!(
            lists > 0 && items > 0,
            "completed by lists {lists}, by items {items}"
        );
        // The signatures ruled candidates out; the coded common entries
        // both ruled out some of the others and let some through to exact
        // scoring.
        let (out, kept) = (TIGHT_OUT.with(|p| p.get()), TIGHT_IN.with(|p| p.get()));
        let by_sig = SIG_OUT.with(|p| p.get());
        assert!(
            by_sig > 0 && out > 0 && kept > 0,
            "signatures ruled out {by_sig}, common entries ruled out {out}, kept {kept}"
        );
        // Both ways of seeding again were compared with exhaustive scoring.
        let (mid, kept) = (
            RESEEDED_MID.with(|p| p.get()),
            RESEEDED_KEPT.with(|p| p.get()),
        );
        assert!(
            mid > 0 && kept > 0,
            "seeded again mid-read {mid}, after bounding {kept}"
        );
        // Both ways of bounding were compared with exhaustive scoring (the
        // scan only where the CPU has AVX-512).
        let (scanned, listed) = (SCANNED.with(|p| p.get()), LISTED.with(|p| p.get()));
        assert!(
            listed > 0 && (scanned > 0 || !crate::scan::available()),
            "bounded by the scan {scanned}, by the list {listed}"
        );
    }
}
