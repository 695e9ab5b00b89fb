//! Comparing two models (A, the one loaded; B, the challenger): how each
//! query's neighbours moved, how much two rankings overlap (Jaccard@k and
//! rank-biased overlap), and per-query metric wins and losses.
//!
//! Everything here works on item **ids**, not item numbers, so two models
//! trained on different catalogue versions (or skipping different empty
//! rows) still compare correctly.

use crate::eval::EvalReport;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// How an item's rank changed from ranking A to ranking B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "by", rename_all = "lowercase")]
pub enum Movement {
    /// Higher in B than in A, by this many places.
    Up(usize),
    /// Lower in B than in A, by this many places.
    Down(usize),
    /// Same rank in both.
    Same,
    /// In B's list, not in A's.
    New,
    /// In A's list, not in B's.
    Dropped,
}

impl Movement {
    /// A short label: "▲3", "▼1", "=", "new", "out" (ASCII: "+3", "-1").
    pub fn label(&self, ascii: bool) -> String {
        match (self, ascii) {
            (Movement::Up(n), false) => format!("▲{n}"),
            (Movement::Up(n), true) => format!("+{n}"),
            (Movement::Down(n), false) => format!("▼{n}"),
            (Movement::Down(n), true) => format!("-{n}"),
            (Movement::Same, _) => "=".into(),
            (Movement::New, _) => "new".into(),
            (Movement::Dropped, _) => "out".into(),
        }
    }
}

/// One row of a side-by-side comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MovedItem {
    pub item_id: String,
    /// 1-based ranks; `None` when the item is not in that list.
    pub rank_a: Option<usize>,
    pub rank_b: Option<usize>,
    pub movement: Movement,
}

/// Rank movement of every item in B's list (in B's order), followed by the
/// items of A's list that B dropped (in A's order).
pub fn movements<S: AsRef<str>>(a: &[S], b: &[S]) -> Vec<MovedItem> {
    let pos_a: HashMap<&str, usize> = first_positions(a);
    let pos_b: HashMap<&str, usize> = first_positions(b);
    let mut out = Vec::with_capacity(a.len() + b.len());
    for (i, id) in b.iter().enumerate() {
        let id = id.as_ref();
        if pos_b.get(id) != Some(&i) {
            continue; // a repeated id: only its first place counts
        }
        let rank_b = i + 1;
        let (rank_a, movement) = match pos_a.get(id) {
            None => (None, Movement::New),
            Some(&j) => {
                let rank_a = j + 1;
                let m = match rank_a.cmp(&rank_b) {
                    std::cmp::Ordering::Greater => Movement::Up(rank_a - rank_b),
                    std::cmp::Ordering::Less => Movement::Down(rank_b - rank_a),
                    std::cmp::Ordering::Equal => Movement::Same,
                };
                (Some(rank_a), m)
            }
        };
        out.push(MovedItem {
            item_id: id.to_string(),
            rank_a,
            rank_b: Some(rank_b),
            movement,
        });
    }
    for (j, id) in a.iter().enumerate() {
        let id = id.as_ref();
        if pos_a.get(id) == Some(&j) && !pos_b.contains_key(id) {
            out.push(MovedItem {
                item_id: id.to_string(),
                rank_a: Some(j + 1),
                rank_b: None,
                movement: Movement::Dropped,
            });
        }
    }
    out
}

fn first_positions<S: AsRef<str>>(list: &[S]) -> HashMap<&str, usize> {
    let mut m = HashMap::with_capacity(list.len());
    for (i, id) in list.iter().enumerate() {
        m.entry(id.as_ref()).or_insert(i);
    }
    m
}

/// |A@k ∩ B@k| / |A@k ∪ B@k|; 1 when both are empty.
pub fn jaccard_at_k<S: AsRef<str>>(a: &[S], b: &[S], k: usize) -> f64 {
    let sa: HashSet<&str> = a.iter().take(k).map(AsRef::as_ref).collect();
    let sb: HashSet<&str> = b.iter().take(k).map(AsRef::as_ref).collect();
    let union = sa.union(&sb).count();
    if union == 0 {
        return 1.0;
    }
    sa.intersection(&sb).count() as f64 / union as f64
}

/// Extrapolated rank-biased overlap (Webber, Moffat & Zobel 2010, eq. 32)
/// of two rankings with persistence `p` (0 < p < 1; 0.9 weighs the top ten
/// most). 1 for identical lists, 0 for disjoint ones; both empty gives 1.
/// Lists of different lengths use the paper's uneven-length form (eq. 30).
pub fn rbo<S: AsRef<str>>(a: &[S], b: &[S], p: f64) -> f64 {
    let dedup = |l: &[S]| -> Vec<String> {
        let mut seen = HashSet::new();
        l.iter()
            .map(|x| x.as_ref().to_string())
            .filter(|x| seen.insert(x.clone()))
            .collect()
    };
    let (a, b) = (dedup(a), dedup(b));
    // S is the shorter list, L the longer.
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let (s, l) = (short.len(), long.len());
    if l == 0 {
        return 1.0;
    }
    if s == 0 {
        return 0.0;
    }
    let mut seen_s: HashSet<&str> = HashSet::new();
    let mut seen_l: HashSet<&str> = HashSet::new();
    // overlap[d-1] = |S:d ∩ L:d| (S:d is all of S once d > s).
    let mut overlap = Vec::with_capacity(l);
    let mut x = 0usize;
    for d in 0..l {
        let ld = long[d].as_str();
        if d < s {
            let sd = short[d].as_str();
            if sd == ld {
                x += 1;
            } else {
                if seen_l.contains(sd) {
                    x += 1;
                }
                if seen_s.contains(ld) {
                    x += 1;
                }
            }
            seen_s.insert(sd);
        } else if seen_s.contains(ld) {
            x += 1;
        }
        seen_l.insert(ld);
        overlap.push(x);
    }
    let x_at = |d: usize| overlap[d - 1] as f64;
    let (x_s, x_l) = (x_at(s), x_at(l));
    let mut sum = 0.0;
    for d in 1..=l {
        sum += x_at(d) / d as f64 * p.powi(d as i32);
    }
    for d in (s + 1)..=l {
        sum += x_s * (d - s) as f64 / (s * d) as f64 * p.powi(d as i32);
    }
    let tail = ((x_l - x_s) / l as f64 + x_s / s as f64) * p.powi(l as i32);
    ((1.0 - p) / p * sum + tail).clamp(0.0, 1.0)
}

/// One query's metric under A and B.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryDelta {
    pub query_kind: &'static str,
    pub query: String,
    pub a: f64,
    pub b: f64,
}

impl QueryDelta {
    /// B minus A.
    pub fn delta(&self) -> f64 {
        self.b - self.a
    }
}

/// Wins (B better), losses (B worse) and ties over the queries both
/// reports scored; differences within `1e-9` are ties.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    pub wins: usize,
    pub losses: usize,
    pub ties: usize,
}

/// Tolerance below which two metric values count as equal.
pub const TIE_EPSILON: f64 = 1e-9;

/// Pairs each query scored by both reports on `metric`, in A's order.
/// Queries only one side could score (an item query whose id one model
/// lacks) are left out and counted in the second value.
pub fn per_query(a: &EvalReport, b: &EvalReport, metric: &str) -> (Vec<QueryDelta>, usize) {
    let key = |kind: &str, q: &str| format!("{kind}\u{1f}{q}");
    let in_b: HashMap<String, f64> = b
        .per_query
        .iter()
        .filter_map(|q| Some((key(q.query_kind, &q.query), q.metrics.get(metric)?)))
        .collect();
    let mut out = Vec::new();
    let mut unmatched = 0usize;
    let mut matched_keys = HashSet::new();
    for q in &a.per_query {
        let k = key(q.query_kind, &q.query);
        match (q.metrics.get(metric), in_b.get(&k)) {
            (Some(va), Some(&vb)) => {
                matched_keys.insert(k);
                out.push(QueryDelta {
                    query_kind: q.query_kind,
                    query: q.query.clone(),
                    a: va,
                    b: vb,
                });
            }
            _ => unmatched += 1,
        }
    }
    unmatched += in_b.keys().filter(|k| !matched_keys.contains(*k)).count();
    (out, unmatched)
}

/// Counts wins, losses and ties of B over A.
pub fn outcomes(deltas: &[QueryDelta]) -> Outcomes {
    let mut o = Outcomes::default();
    for d in deltas {
        let x = d.delta();
        if x > TIE_EPSILON {
            o.wins += 1;
        } else if x < -TIE_EPSILON {
            o.losses += 1;
        } else {
            o.ties += 1;
        }
    }
    o
}

/// B's neighbours that nobody has judged for this query yet, in B's
/// order: what to label next so the comparison is not biased towards what
/// A showed.
pub fn unjudged<S: AsRef<str>>(b: &[S], judged: &HashSet<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    b.iter()
        .map(AsRef::as_ref)
        .filter(|id| !judged.contains(*id) && seen.insert(*id))
        .map(str::to_string)
        .collect()
}

/// Overlap of two rankings of one query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Overlap {
    pub jaccard: f64,
    pub rbo: f64,
}

/// Jaccard@k and RBO (p = `p`, over the first k) of two rankings.
pub fn overlap<S: AsRef<str>>(a: &[S], b: &[S], k: usize, p: f64) -> Overlap {
    let a = &a[..a.len().min(k)];
    let b = &b[..b.len().min(k)];
    Overlap {
        jaccard: jaccard_at_k(a, b, k),
        rbo: rbo(a, b, p),
    }
}

/// Mean of per-query overlaps; `None` for no queries.
pub fn mean_overlap(all: &[Overlap]) -> Option<Overlap> {
    if all.is_empty() {
        return None;
    }
    let n = all.len() as f64;
    Some(Overlap {
        jaccard: all.iter().map(|o| o.jaccard).sum::<f64>() / n,
        rbo: all.iter().map(|o| o.rbo).sum::<f64>() / n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movement_of_each_kind() {
        let a = ["x", "y", "z", "w"];
        let b = ["y", "x", "v", "w"];
        let m = movements(&a, &b);
        let got: Vec<(&str, Movement)> =
            m.iter().map(|r| (r.item_id.as_str(), r.movement)).collect();
        assert_eq!(
            got,
            vec![
                ("y", Movement::Up(1)),
                ("x", Movement::Down(1)),
                ("v", Movement::New),
                ("w", Movement::Same),
                ("z", Movement::Dropped),
            ]
        );
        assert_eq!(m[2].rank_a, None);
        assert_eq!(m[4].rank_b, None);
        assert_eq!(m[4].rank_a, Some(3));
        assert_eq!(Movement::Up(3).label(true), "+3");
        assert_eq!(Movement::Down(2).label(false), "▼2");
    }

    #[test]
    fn jaccard_hand_values() {
        assert_eq!(jaccard_at_k(&["a", "b"], &["b", "c"], 2), 1.0 / 3.0);
        assert_eq!(jaccard_at_k(&["a", "b", "c"], &["c", "b", "a"], 3), 1.0);
        // Only the first k count.
        assert_eq!(jaccard_at_k(&["a", "b", "c"], &["a", "c", "b"], 1), 1.0);
        assert_eq!(jaccard_at_k(&["a"], &["b"], 1), 0.0);
        let empty: [&str; 0] = [];
        assert_eq!(jaccard_at_k(&empty, &empty, 5), 1.0);
    }

    #[test]
    fn rbo_identical_disjoint_and_hand_value() {
        let a = ["a", "b", "c", "d"];
        assert!((rbo(&a, &a, 0.9) - 1.0).abs() < 1e-12);
        assert_eq!(rbo(&a, &["e", "f", "g", "h"], 0.9), 0.0);
        // Even lengths, k = 2: X1 = 0, X2 = 2 (swapped pair).
        // rbo_ext = (1-p)/p * (0/1*p + 2/2*p^2) + (2/2) * p^2
        let p = 0.9f64;
        let want = (1.0 - p) / p * (p * p) + p * p;
        assert!((rbo(&["a", "b"], &["b", "a"], p) - want).abs() < 1e-12);
        // Symmetric.
        let x = ["a", "b", "c", "d", "e"];
        let y = ["b", "a", "f", "c"];
        assert!((rbo(&x, &y, 0.8) - rbo(&y, &x, 0.8)).abs() < 1e-12);
        // Top-weighted: a swap at the top costs more than one at the bottom.
        let top_swap = rbo(&["b", "a", "c", "d"], &a, 0.9);
        let bottom_swap = rbo(&["a", "b", "d", "c"], &a, 0.9);
        assert!(top_swap < bottom_swap, "{top_swap} vs {bottom_swap}");
    }

    #[test]
    fn rbo_uneven_lengths_hand_value() {
        // S = [a], L = [a, b]: s = 1, l = 2, X1 = 1, X2 = 1.
        // sum = 1/1 p + 1/2 p^2 + X_s (2-1)/(1*2) p^2 = p + p^2
        // tail = ((1 - 1)/2 + 1/1) p^2
        let p = 0.5f64;
        let want = (1.0 - p) / p * (p + p * p) + p * p;
        assert!((rbo(&["a"], &["a", "b"], p) - want).abs() < 1e-12);
        // A prefix of the other list agrees fully on what it has.
        assert!(rbo(&["a", "b"], &["a", "b", "c", "d"], 0.9) > 0.99);
    }

    #[test]
    fn wins_losses_ties_and_unmatched_queries() {
        use crate::eval::{Metrics, QueryResult};
        let report = |rows: &[(&str, f64)]| EvalReport {
            queries: rows.len(),
            k: 10,
            metrics: Metrics::default(),
            per_query: rows
                .iter()
                .map(|(q, v)| QueryResult {
                    query_kind: "text",
                    query: q.to_string(),
                    relevant: 1,
                    first_relevant_rank: None,
                    metrics: Metrics(vec![("mrr".into(), *v)]),
                })
                .collect(),
            warnings: Vec::new(),
        };
        let a = report(&[("q1", 0.5), ("q2", 1.0), ("q3", 0.2), ("only-a", 1.0)]);
        let b = report(&[("q1", 1.0), ("q2", 0.5), ("q3", 0.2), ("only-b", 0.0)]);
        let (d, unmatched) = per_query(&a, &b, "mrr");
        assert_eq!(d.len(), 3);
        assert_eq!(unmatched, 2);
        assert_eq!(
            outcomes(&d),
            Outcomes {
                wins: 1,
                losses: 1,
                ties: 1
            }
        );
        assert_eq!(d[0].delta(), 0.5);
    }

    #[test]
    fn unjudged_keeps_b_order_without_repeats() {
        let judged: HashSet<String> = ["b".to_string()].into_iter().collect();
        assert_eq!(
            unjudged(&["a", "b", "c", "a"], &judged),
            vec!["a".to_string(), "c".to_string()]
        );
    }

    #[test]
    fn overlap_cuts_at_k_and_means() {
        let o = overlap(&["a", "b", "x"], &["a", "b", "y"], 2, 0.9);
        assert_eq!(o.jaccard, 1.0);
        assert!((o.rbo - 1.0).abs() < 1e-12);
        let m = mean_overlap(&[
            o,
            Overlap {
                jaccard: 0.0,
                rbo: 0.0,
            },
        ])
        .unwrap();
        assert_eq!(m.jaccard, 0.5);
        assert!(mean_overlap(&[]).is_none());
    }
}
