//! Retrieval metrics against relevance judgements, with trec_eval's
//! definitions: P@k, recall@k, hit@k, MRR (cut at 100), nDCG@k (gain =
//! grade, log2 discount) and MAP (over the retrieved depth).

use crate::error::Result;
use crate::judgements::Judgements;
use crate::model::Model;
use crate::rank::{encode, ranked};
use rayon::prelude::*;
use serde::Serialize;
use serde::ser::SerializeMap;
use std::collections::HashMap;

/// How deep each query is ranked: MAP looks at this many results, like a
/// trec_eval run of 1000 documents per topic.
pub const DEPTH: usize = 1000;
/// MRR counts the first relevant item only within this rank.
pub const MRR_CUTOFF: usize = 100;

/// Metric values in a fixed, documented order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metrics(pub Vec<(String, f64)>);

impl Metrics {
    /// The value of a metric by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).map(|x| x.1)
    }
}

impl Serialize for Metrics {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Metric names for a cut-off k, in report order.
pub fn metric_names(k: usize) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for h in [1, 5, k] {
        let n = format!("hit@{h}");
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names.extend([
        format!("recall@{k}"),
        format!("p@{k}"),
        "mrr".into(),
        format!("ndcg@{k}"),
        "map".into(),
    ]);
    names
}

/// Metrics of one ranked list. `ranked` holds item keys best first;
/// `grades` maps judged keys to grades (> 0 relevant). Queries without a
/// relevant item get `None`: they are undefined, not zero.
pub fn score_query<K: Eq + std::hash::Hash>(
    ranked: &[K],
    grades: &HashMap<K, i32>,
    k: usize,
) -> Option<Metrics> {
    let relevant = grades.values().filter(|&&g| g > 0).count();
    if relevant == 0 {
        return None;
    }
    let grade = |item: &K| grades.get(item).copied().unwrap_or(0);
    let rel_at = |n: usize| ranked.iter().take(n).filter(|i| grade(i) > 0).count();
    let first = ranked.iter().position(|i| grade(i) > 0).map(|p| p + 1);
    let mut values = Vec::new();
    for name in metric_names(k) {
        let v = if let Some(h) = name.strip_prefix("hit@") {
            let h: usize = h.parse().unwrap_or(k);
            f64::from(u8::from(first.is_some_and(|f| f <= h)))
        } else if name.starts_with("recall@") {
            rel_at(k) as f64 / relevant as f64
        } else if name.starts_with("p@") {
            rel_at(k) as f64 / k as f64
        } else if name == "mrr" {
            first
                .filter(|&f| f <= MRR_CUTOFF)
                .map_or(0.0, |f| 1.0 / f as f64)
        } else if name.starts_with("ndcg@") {
            let dcg: f64 = ranked
                .iter()
                .take(k)
                .enumerate()
                .map(|(i, item)| grade(item).max(0) as f64 / ((i + 2) as f64).log2())
                .sum();
            let mut ideal: Vec<i32> = grades.values().copied().filter(|&g| g > 0).collect();
            ideal.sort_unstable_by(|a, b| b.cmp(a));
            let idcg: f64 = ideal
                .iter()
                .take(k)
                .enumerate()
                .map(|(i, &g)| g as f64 / ((i + 2) as f64).log2())
                .sum();
            dcg / idcg
        } else {
            let mut hits = 0usize;
            let mut sum = 0.0;
            for (i, item) in ranked.iter().enumerate() {
                if grade(item) > 0 {
                    hits += 1;
                    sum += hits as f64 / (i + 1) as f64;
                }
            }
            sum / relevant as f64
        };
        values.push((name, v));
    }
    Some(Metrics(values))
}

/// One query's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    pub query_kind: &'static str,
    pub query: String,
    pub relevant: usize,
    /// Rank of the first relevant item, if retrieved within the depth.
    pub first_relevant_rank: Option<usize>,
    pub metrics: Metrics,
}

/// An evaluation: mean metrics, per-query values, warnings.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub queries: usize,
    pub k: usize,
    pub metrics: Metrics,
    pub per_query: Vec<QueryResult>,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Evaluates `model` on `judgements` at cut-off `k`.
pub fn evaluate(model: &Model, judgements: &Judgements, k: usize) -> Result<EvalReport> {
    evaluate_with_pairs(model, judgements, k).map(|(report, _)| report)
}

/// [`evaluate`] plus the score of every judged pair, from one ranking of
/// each query (the evaluation screen needs both).
pub fn evaluate_with_pairs(
    model: &Model,
    judgements: &Judgements,
    k: usize,
) -> Result<(EvalReport, Vec<PairScore>)> {
    let k = k.max(1);
    let file = judgements.path.display().to_string();
    let groups = judgements.by_query();
    let mut unknown_items = 0usize;
    let mut unknown_queries = 0usize;
    let mut no_relevant = 0usize;
    for g in &groups {
        unknown_items += g
            .items
            .iter()
            .filter(|(id, _)| model.find_item(id).is_none())
            .count();
    }
    let depth = DEPTH.max(k);
    type GroupResult = (Option<Option<QueryResult>>, Vec<PairScore>);
    let results: Vec<GroupResult> = groups
        .par_iter()
        .map(|g| {
            // Only an item query can fail: its id is not in the model.
            let Ok((qv, exclude)) = encode(model, &g.query) else {
                return (None, Vec::new());
            };
            let top = ranked(model, &qv, depth, exclude);
            let pairs = judged_pairs(model, g, &qv, exclude, &top);
            let ranked: Vec<u64> = top.iter().map(|x| u64::from(x.0)).collect();
            // Judged ids the model does not know can never be retrieved; they
            // still count as relevant, as in trec_eval, under keys no item has.
            let all: HashMap<u64, i32> = g
                .items
                .iter()
                .enumerate()
                .map(|(i, (id, grade))| {
                    let key = model
                        .find_item(id)
                        .map_or((1u64 << 32) + i as u64, u64::from);
                    (key, *grade)
                })
                .collect();
            let ranked_keys = ranked;
            let metrics = score_query(&ranked_keys, &all, k);
            let result = Some(metrics.map(|m| {
                QueryResult {
                    query_kind: g.query.kind(),
                    query: g.query.value().to_string(),
                    relevant: all.values().filter(|&&g| g > 0).count(),
                    first_relevant_rank: ranked_keys
                        .iter()
                        .position(|i| all.get(i).is_some_and(|&g| g > 0))
                        .map(|p| p + 1),
                    metrics: m,
                }
            }));
            (result, pairs)
        })
        .collect();
    let mut per_query = Vec::new();
    let mut all_pairs = Vec::new();
    for (r, pairs) in results {
        all_pairs.extend(pairs);
        match r {
            None => unknown_queries += 1,
            Some(None) => no_relevant += 1,
            Some(Some(q)) => per_query.push(q),
        }
    }
    let names = metric_names(k);
    let n = per_query.len();
    let metrics = Metrics(
        names
            .iter()
            .map(|name| {
                let sum: f64 = per_query.iter().filter_map(|q| q.metrics.get(name)).sum();
                (name.clone(), if n > 0 { sum / n as f64 } else { 0.0 })
            })
            .collect(),
    );
    let mut warnings = Vec::new();
    if unknown_items > 0 {
        warnings.push(format!(
            "{file}: {unknown_items} judged item ids are not in the model; they count as relevant but unretrievable"
        ));
    }
    if unknown_queries > 0 {
        warnings.push(format!(
            "{file}: {unknown_queries} item queries name ids that are not in the model and were skipped"
        ));
    }
    if no_relevant > 0 {
        warnings.push(format!(
            "{file}: {no_relevant} queries have no relevant item (grade > 0) and are left out of the means"
        ));
    }
    let report = EvalReport {
        queries: n,
        k,
        metrics,
        per_query,
        warnings,
    };
    Ok((report, all_pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grades(pairs: &[(&'static str, i32)]) -> HashMap<&'static str, i32> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn hand_computed_metrics() {
        // Relevant: b (grade 2) at rank 2, d (grade 1) at rank 4; e relevant, not retrieved.
        let ranked = ["a", "b", "c", "d"];
        let g = grades(&[("a", 0), ("b", 2), ("d", 1), ("e", 3)]);
        let m = score_query(&ranked, &g, 3).unwrap();
        assert_eq!(m.get("hit@1"), Some(0.0));
        assert_eq!(m.get("hit@3"), Some(1.0));
        assert!((m.get("p@3").unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert!((m.get("recall@3").unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.get("mrr"), Some(0.5));
        // AP = (1/2 + 2/4) / 3
        assert!((m.get("map").unwrap() - (0.5 + 0.5) / 3.0).abs() < 1e-12);
        // DCG@3 = 2/log2(3); IDCG@3 = 3/1 + 2/log2(3) + 1/2
        let dcg = 2.0 / 3f64.log2();
        let idcg = 3.0 + 2.0 / 3f64.log2() + 0.5;
        assert!((m.get("ndcg@3").unwrap() - dcg / idcg).abs() < 1e-12);
    }

    #[test]
    fn names_for_k() {
        assert_eq!(
            metric_names(10),
            vec![
                "hit@1",
                "hit@5",
                "hit@10",
                "recall@10",
                "p@10",
                "mrr",
                "ndcg@10",
                "map"
            ]
        );
        assert_eq!(
            metric_names(5)[..2],
            ["hit@1".to_string(), "hit@5".to_string()]
        );
        assert_eq!(metric_names(5).len(), 7);
    }

    #[test]
    fn no_relevant_is_undefined_and_mrr_is_cut() {
        assert!(score_query(&["a"], &grades(&[("a", 0)]), 10).is_none());
        let ranked: Vec<String> = (0..150).map(|i| i.to_string()).collect();
        let mut g = HashMap::new();
        g.insert("120".to_string(), 1);
        let m = score_query(&ranked, &g, 10).unwrap();
        assert_eq!(m.get("mrr"), Some(0.0));
        assert!((m.get("map").unwrap() - 1.0 / 121.0).abs() < 1e-12);
    }
}

/// One judged pair as the model sees it: its score (0 when no token is
/// shared), its rank if within [`DEPTH`], and the query's best score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairScore {
    pub query: crate::rank::Query,
    pub item_id: String,
    pub grade: i32,
    pub score: f64,
    pub rank: Option<usize>,
    pub top_score: f64,
}

impl PairScore {
    /// How strongly model and label disagree, 0-1: a high score judged
    /// irrelevant, or a relevant item scored far below the query's best.
    pub fn disagreement(&self) -> f64 {
        let relative = if self.top_score > 0.0 {
            (self.score / self.top_score).clamp(0.0, 1.0)
        } else {
            0.0
        };
        if self.grade > 0 {
            1.0 - relative
        } else {
            relative
        }
    }
}

/// Scores every judged pair whose query and item the model knows.
pub fn pair_scores(model: &Model, judgements: &Judgements) -> Vec<PairScore> {
    evaluate_with_pairs(model, judgements, 10)
        .map(|(_, pairs)| pairs)
        .unwrap_or_default()
}

/// The judged pairs of one query, scored against its ranking `top`.
fn judged_pairs(
    model: &Model,
    g: &crate::judgements::QueryJudgements,
    qv: &crate::model::QueryVector,
    exclude: Option<u32>,
    top: &[(u32, f64)],
) -> Vec<PairScore> {
    let top_score = top.first().map_or(0.0, |x| x.1);
    g.items
        .iter()
        .filter_map(|(id, grade)| {
            let item = model.find_item(id)?;
            if Some(item) == exclude {
                return None;
            }
            let score: f64 = crate::model::Representation::contributions(model, qv, item)
                .iter()
                .map(|c| c.1 as f64 * c.2 as f64)
                .sum();
            let rank = top.iter().position(|x| x.0 == item).map(|p| p + 1);
            Some(PairScore {
                query: g.query.clone(),
                item_id: id.clone(),
                grade: *grade,
                score,
                rank,
                top_score,
            })
        })
        .collect()
}

/// Indices of `pairs` ordered by disagreement, strongest first (ties by
/// query, then item, so the list is stable).
pub fn disagreements(pairs: &[PairScore]) -> Vec<usize> {
    let mut out: Vec<usize> = (0..pairs.len()).collect();
    out.sort_by(|&a, &b| {
        let (a, b) = (&pairs[a], &pairs[b]);
        b.disagreement()
            .total_cmp(&a.disagreement())
            .then_with(|| a.query.value().cmp(b.query.value()))
            .then_with(|| a.item_id.cmp(&b.item_id))
    });
    out
}

/// Precision and recall of "score >= threshold means relevant" over the
/// judged pairs, as a duplicate-detection cut-off would be judged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThresholdStats {
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
}

/// Precision/recall at `threshold`; precision is 1 when nothing is kept.
pub fn threshold_stats(pairs: &[PairScore], threshold: f64) -> ThresholdStats {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for p in pairs {
        let kept = p.score >= threshold;
        match (kept, p.grade > 0) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    ThresholdStats {
        threshold,
        precision: if tp + fp > 0 {
            tp as f64 / (tp + fp) as f64
        } else {
            1.0
        },
        recall: if tp + fn_ > 0 {
            tp as f64 / (tp + fn_) as f64
        } else {
            0.0
        },
        true_positives: tp,
        false_positives: fp,
        false_negatives: fn_,
    }
}

/// Counts of relevant and irrelevant pairs per score bin over [0, max].
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub max: f64,
    pub relevant: Vec<usize>,
    pub irrelevant: Vec<usize>,
}

/// Score histograms of pairs judged relevant and irrelevant.
pub fn histogram(pairs: &[PairScore], bins: usize) -> Histogram {
    let bins = bins.max(1);
    let max = pairs.iter().map(|p| p.score).fold(0.0, f64::max).max(1e-12);
    let mut h = Histogram {
        max,
        relevant: vec![0; bins],
        irrelevant: vec![0; bins],
    };
    for p in pairs {
        let b = ((p.score / max) * bins as f64).floor() as usize;
        let b = b.min(bins - 1);
        if p.grade > 0 {
            h.relevant[b] += 1;
        } else {
            h.irrelevant[b] += 1;
        }
    }
    h
}

#[cfg(test)]
mod pair_tests {
    use super::*;
    use crate::rank::Query;

    fn pair(grade: i32, score: f64, top: f64) -> PairScore {
        PairScore {
            query: Query::Text("q".into()),
            item_id: format!("{grade}-{score}"),
            grade,
            score,
            rank: None,
            top_score: top,
        }
    }

    #[test]
    fn disagreement_orders_the_worst_first() {
        let pairs = vec![
            pair(1, 0.9, 1.0),
            pair(0, 0.95, 1.0),
            pair(2, 0.1, 1.0),
            pair(0, 0.05, 1.0),
        ];
        let d: Vec<&PairScore> = disagreements(&pairs)
            .into_iter()
            .map(|i| &pairs[i])
            .collect();
        assert_eq!(d[0].score, 0.95); // irrelevant, near the top
        assert_eq!(d[1].score, 0.1); // relevant, far below the top
        assert!((d[0].disagreement() - 0.95).abs() < 1e-12);
        assert!((d[1].disagreement() - 0.9).abs() < 1e-12);
    }

    #[test]
    fn threshold_precision_recall_by_hand() {
        let pairs = vec![
            pair(1, 0.9, 1.0),
            pair(0, 0.8, 1.0),
            pair(1, 0.3, 1.0),
            pair(0, 0.1, 1.0),
        ];
        let s = threshold_stats(&pairs, 0.5);
        assert_eq!(
            (s.true_positives, s.false_positives, s.false_negatives),
            (1, 1, 1)
        );
        assert!((s.precision - 0.5).abs() < 1e-12 && (s.recall - 0.5).abs() < 1e-12);
        let s = threshold_stats(&pairs, 0.0);
        assert_eq!(s.recall, 1.0);
        assert_eq!(threshold_stats(&pairs, 2.0).precision, 1.0);
        let h = histogram(&pairs, 2);
        assert_eq!(h.relevant, vec![1, 1]);
        assert_eq!(h.irrelevant, vec![1, 1]);
    }
}
