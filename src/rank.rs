//! Neighbours for a text or a catalogue item: exact top-k through the
//! inverted index, each with its per-token breakdown. The explorer and
//! `prodsim query --explain` both print what this module returns.

use crate::error::{Error, Result};
use crate::model::{Model, QueryVector, Representation, Scheme};
use crate::text::{TokenKind, key_text};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

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

thread_local! {
    /// Per-thread score accumulator, sized to the largest model seen.
    static ACCUMULATOR: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
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
        if k == 0 || query.terms.is_empty() {
            return Vec::new();
        }
        ACCUMULATOR.with(|cell| {
            let mut acc = cell.borrow_mut();
            if acc.len() < self.len() {
                acc.resize(self.len(), 0.0);
            }
            let mut touched: Vec<u32> = Vec::new();
            for &(t, qw) in &query.terms {
                let (items, weights) = self.postings(t);
                for (&i, &w) in items.iter().zip(weights) {
                    let slot = &mut acc[i as usize];
                    if *slot == 0.0 {
                        touched.push(i);
                    }
                    *slot += qw * w;
                }
            }
            let mut heap: BinaryHeap<Candidate> = BinaryHeap::with_capacity(k + 1);
            for &i in &touched {
                let s = acc[i as usize];
                acc[i as usize] = 0.0;
                if Some(i) == exclude || s <= 0.0 {
                    continue;
                }
                let c = Candidate(s, i);
                if heap.len() < k {
                    heap.push(c);
                } else if let Some(worst) = heap.peek()
                    && c < *worst
                {
                    heap.pop();
                    heap.push(c);
                }
            }
            let mut out: Vec<(u32, f32)> = heap.into_iter().map(|c| (c.1, c.0)).collect();
            out.sort_unstable_by(better);
            out
        })
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

/// Top-k neighbours of a query, with breakdowns when `explain` is set.
pub fn neighbours(model: &Model, query: &Query, k: usize, explain: bool) -> Result<Ranking> {
    let (qv, exclude) = encode(model, query)?;
    let top = model.top_k(&qv, k, exclude);
    let results = top
        .into_iter()
        .enumerate()
        .map(|(r, (item, score))| Neighbour {
            rank: r + 1,
            item,
            item_id: model.item_id(item).to_string(),
            title: model.title(item).to_string(),
            score: score as f64,
            breakdown: explain.then(|| breakdown(model, &qv, item)),
        })
        .collect();
    Ok(Ranking {
        query: query_info(model, query, &qv),
        results,
    })
}
