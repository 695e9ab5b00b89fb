//! The champion/challenger gate: evaluate model A (the champion) and model
//! B (the challenger) on the same judgements, report both models' metrics
//! and their difference, a paired bootstrap confidence interval and an exact
//! sign test on the chosen metric, and decide whether B passes.
//!
//! **The gate.** B passes when the observed mean difference on the metric,
//! `mean over paired queries of (B − A)`, is at least `min_gain` (within
//! [`GAIN_TOLERANCE`], so rounding noise never flips a decision). With
//! `require_significant` it must also be *credibly* positive: the lower
//! bound of the 95% bootstrap interval must be above 0. The interval and the
//! sign test are always reported; only these two rules decide.
//!
//! Paired queries are those both models could score (an item query whose id
//! one model lacks is scored by the other only); when every query pairs, the
//! gate's difference is exactly `eval(B) − eval(A)` on that metric.
//!
//! `prodsim compare` and `prodsim promote --require-gain` call
//! [`compare`]; the explorer can call it too.

use crate::ab::{Outcomes, QueryDelta, outcomes, per_query};
use crate::error::{Error, Result};
use crate::eval::{EvalReport, Metrics, evaluate, metric_names};
use crate::judgements::Judgements;
use crate::model::Model;
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;

/// Bootstrap resamples unless told otherwise.
pub const DEFAULT_SAMPLES: usize = 10_000;
/// Seed of the bootstrap unless told otherwise.
pub const DEFAULT_SEED: u64 = 42;
/// Coverage of the reported confidence interval.
pub const CONFIDENCE: f64 = 0.95;
/// A difference this close to `min_gain` counts as reaching it: means of a
/// thousand queries differ from their exact value by ~1e-16, and a gate
/// must not fail on that.
pub const GAIN_TOLERANCE: f64 = 1e-12;
/// The cut-off when neither `--k` nor the metric names one.
pub const DEFAULT_K: usize = 10;

/// Checks a metric name and settles the cut-off k.
///
/// With `k` given, the metric must be one [`metric_names`]`(k)` reports
/// (`ndcg@10` with k = 5 is an error that says so). Without it, k is 10 when
/// the metric exists at k = 10 (`ndcg@10`, `mrr`, `map`, `hit@1`, `hit@5`),
/// else the metric's own cut-off (`ndcg@5` gives k = 5).
pub fn resolve_metric(metric: &str, k: Option<usize>) -> Result<(String, usize)> {
    let metric = metric.trim().to_ascii_lowercase();
    if k == Some(0) {
        return Err(Error::input("--k must be at least 1"));
    }
    let k = match k {
        Some(k) => k,
        None if metric_names(DEFAULT_K).contains(&metric) => DEFAULT_K,
        None => metric
            .split_once('@')
            .and_then(|(_, n)| n.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_K),
    };
    let names = metric_names(k);
    if names.contains(&metric) {
        return Ok((metric, k));
    }
    let mut hint = String::new();
    if let Some(n) = metric
        .split_once('@')
        .and_then(|(_, n)| n.parse::<usize>().ok())
        && n > 0
        && n != k
        && metric_names(n).contains(&metric)
    {
        hint = format!(" ({metric} needs --k {n}, or leave --k out)");
    }
    Err(Error::input(format!(
        "--metric {metric:?} is not computed at k = {k}{hint}; valid metrics at k = {k}: {}",
        names.join(", ")
    )))
}

/// SplitMix64 (Steele, Lea & Flood 2014): a fixed sequence for a seed, so
/// a confidence interval is the same on every machine and every run.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0), by multiply-shift; the bias is below
    /// n / 2^64, far under anything a bootstrap could show.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// Percentile bootstrap interval of the mean of `deltas` at `level` (0.95):
/// `samples` resamples of the queries with replacement, each resample's
/// mean, and the (1 − level)/2 and (1 + level)/2 quantiles of those means
/// (linear interpolation between order statistics). Resample `i` draws from
/// its own stream seeded by `seed` and `i`, so the result does not depend on
/// the number of threads. `None` for no deltas or no samples.
///
/// Resampling per-query differences is the paired bootstrap: a query's A
/// and B values always travel together.
pub fn bootstrap_mean_ci(
    deltas: &[f64],
    samples: usize,
    seed: u64,
    level: f64,
) -> Option<Interval> {
    let n = deltas.len();
    if n == 0 || samples == 0 {
        return None;
    }
    let mut means: Vec<f64> = (0..samples as u64)
        .into_par_iter()
        .map(|i| {
            // Decorrelate the per-resample seeds by running them through the mixer.
            let mut rng = SplitMix64::new(SplitMix64::new(seed ^ i.rotate_left(32)).next_u64());
            let sum: f64 = (0..n).map(|_| deltas[rng.below(n)]).sum();
            sum / n as f64
        })
        .collect();
    means.sort_unstable_by(f64::total_cmp);
    let alpha = (1.0 - level.clamp(0.0, 1.0)) / 2.0;
    Some(Interval {
        low: quantile(&means, alpha),
        high: quantile(&means, 1.0 - alpha),
    })
}

/// The q-quantile of sorted values, interpolating linearly (R's type 7).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Two-sided exact sign test: the probability, if B and A were equally
/// likely to win a non-tied query, of a split at least as uneven as
/// `wins`:`losses`. Binomial(n, 1/2) tail summed in log space, so tens of
/// thousands of queries neither overflow nor underflow to nonsense. 1 when
/// there are no non-tied queries.
pub fn sign_test(wins: usize, losses: usize) -> f64 {
    let n = wins + losses;
    if n == 0 {
        return 1.0;
    }
    let k = wins.min(losses);
    // ln C(n, i) built up term by term; ln P(X = i) = ln C(n, i) − n ln 2.
    let mut log_c = 0.0f64;
    let mut terms = Vec::with_capacity(k + 1);
    for i in 0..=k {
        if i > 0 {
            log_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        terms.push(log_c - n as f64 * std::f64::consts::LN_2);
    }
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_tail = max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln();
    (2.0 * log_tail.exp()).min(1.0)
}

/// What the gate checks, and how the interval is computed.
#[derive(Debug, Clone, PartialEq)]
pub struct GateOptions {
    /// A name from [`metric_names`]`(k)`; see [`resolve_metric`].
    pub metric: String,
    pub k: usize,
    /// B must beat A by at least this much on the metric (may be negative:
    /// "B may be this much worse").
    pub min_gain: f64,
    /// Also require the interval's lower bound to be above 0.
    pub require_significant: bool,
    pub samples: usize,
    pub seed: u64,
}

impl GateOptions {
    /// Options for `metric` (checked, k settled as by [`resolve_metric`])
    /// with the default samples and seed.
    pub fn new(metric: &str, k: Option<usize>, min_gain: f64) -> Result<GateOptions> {
        let (metric, k) = resolve_metric(metric, k)?;
        Ok(GateOptions {
            metric,
            k,
            min_gain,
            require_significant: false,
            samples: DEFAULT_SAMPLES,
            seed: DEFAULT_SEED,
        })
    }

    /// Checks the options (finite gain, samples, metric at k): bad input.
    pub fn check(&self) -> Result<()> {
        if !self.min_gain.is_finite() {
            return Err(Error::input(format!(
                "the minimum gain (--min-gain, --require-gain) {} must be a finite number such as 0.01",
                self.min_gain
            )));
        }
        if self.samples == 0 {
            return Err(Error::input(
                "--samples must be at least 1 (10000 is the default)",
            ));
        }
        if !metric_names(self.k).contains(&self.metric) {
            return Err(Error::input(format!(
                "metric {:?} is not computed at k = {}; valid: {}",
                self.metric,
                self.k,
                metric_names(self.k).join(", ")
            )));
        }
        Ok(())
    }
}

/// One model of a comparison: who it is and how it scored.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSide {
    /// The model file as given (after alias resolution).
    pub path: String,
    pub model_id: String,
    pub config_hash: String,
    pub catalog_file: String,
    pub catalog_fingerprint: String,
    /// Queries this model scored (as `prodsim eval` counts them).
    pub queries: usize,
    /// Mean metrics, exactly as `prodsim eval` reports them.
    pub metrics: Metrics,
}

impl ModelSide {
    fn new(model: &Model, path: &Path, report: &EvalReport) -> ModelSide {
        ModelSide {
            path: path.display().to_string(),
            model_id: model.meta.model_id.clone(),
            config_hash: model.meta.config_hash.clone(),
            catalog_file: model.meta.catalog_file.clone(),
            catalog_fingerprint: model.meta.catalog_fingerprint.clone(),
            queries: report.queries,
            metrics: report.metrics.clone(),
        }
    }
}

/// Wins, losses, ties and the sign test's p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SignTest {
    pub wins: usize,
    pub losses: usize,
    pub ties: usize,
    pub p_value: f64,
}

/// The bootstrap interval and how it was made.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapCi {
    pub level: f64,
    pub low: f64,
    pub high: f64,
    pub samples: usize,
    pub seed: u64,
}

/// The decision on the chosen metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gate {
    pub metric: String,
    pub k: usize,
    /// Queries both models scored: the gate's sample.
    pub paired_queries: usize,
    /// Mean of A and of B over the paired queries.
    pub mean_a: f64,
    pub mean_b: f64,
    /// `mean_b − mean_a`: what is held against `min_gain`.
    pub difference: f64,
    pub min_gain: f64,
    pub require_significant: bool,
    pub ci: BootstrapCi,
    pub sign_test: SignTest,
    pub passed: bool,
    /// One sentence: why it passed or failed.
    pub reason: String,
}

/// One query's metric under A and B.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryChange {
    pub query_kind: &'static str,
    pub query: String,
    pub a: f64,
    pub b: f64,
    /// `b − a`.
    pub delta: f64,
}

impl From<&QueryDelta> for QueryChange {
    fn from(d: &QueryDelta) -> Self {
        QueryChange {
            query_kind: d.query_kind,
            query: d.query.clone(),
            a: d.a,
            b: d.b,
            delta: d.delta(),
        }
    }
}

/// A whole comparison, as `compare --format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub judgements: String,
    pub k: usize,
    pub a: ModelSide,
    pub b: ModelSide,
    /// B's mean minus A's mean, for every metric.
    pub difference: Metrics,
    pub gate: Gate,
    /// Queries only one model could score (left out of the gate).
    pub unmatched_queries: usize,
    /// Every paired query, in judgements order.
    pub per_query: Vec<QueryChange>,
    /// Notes for stderr: eval warnings of each side, catalogue mismatch.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Comparison {
    /// Indices of the `n` largest per-query changes, biggest first (ties by
    /// query text, so the order is stable).
    pub fn top_movers(&self, n: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.per_query.len())
            .filter(|&i| self.per_query[i].delta.abs() > crate::ab::TIE_EPSILON)
            .collect();
        idx.sort_by(|&x, &y| {
            let (x, y) = (&self.per_query[x], &self.per_query[y]);
            y.delta
                .abs()
                .total_cmp(&x.delta.abs())
                .then_with(|| x.query.cmp(&y.query))
        });
        idx.truncate(n);
        idx
    }
}

/// Evaluates A and B on `judgements` and applies the gate.
pub fn compare(
    a: (&Model, &Path),
    b: (&Model, &Path),
    judgements: &Judgements,
    opts: &GateOptions,
) -> Result<Comparison> {
    opts.check()?;
    let (ra, rb) = rayon::join(
        || evaluate(a.0, judgements, opts.k),
        || evaluate(b.0, judgements, opts.k),
    );
    let (ra, rb) = (ra?, rb?);
    let mut c = compare_reports(
        ModelSide::new(a.0, a.1, &ra),
        ModelSide::new(b.0, b.1, &rb),
        &ra,
        &rb,
        &judgements.path,
        opts,
    )?;
    let mut warnings: Vec<String> = Vec::new();
    warnings.extend(ra.warnings.iter().map(|w| format!("A: {w}")));
    warnings.extend(rb.warnings.iter().map(|w| format!("B: {w}")));
    if a.0.meta.catalog_fingerprint != b.0.meta.catalog_fingerprint {
        warnings.push(format!(
            "A and B were trained on different catalogues (A: {} sha256 {}, B: {} sha256 {}); \
             they are compared by item id",
            a.0.meta.catalog_file,
            short(&a.0.meta.catalog_fingerprint),
            b.0.meta.catalog_file,
            short(&b.0.meta.catalog_fingerprint)
        ));
    }
    warnings.append(&mut c.warnings);
    c.warnings = warnings;
    Ok(c)
}

/// The first 12 characters of a hash, for people.
pub fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The gate on two evaluations already made (same judgements, same k).
pub fn compare_reports(
    a: ModelSide,
    b: ModelSide,
    ra: &EvalReport,
    rb: &EvalReport,
    judgements: &Path,
    opts: &GateOptions,
) -> Result<Comparison> {
    opts.check()?;
    let file = judgements.display();
    let (deltas, unmatched) = per_query(ra, rb, &opts.metric);
    if deltas.is_empty() {
        return Err(Error::input(format!(
            "{file}: no query could be scored by both models (A scored {}, B scored {}); \
             the judgements need queries with at least one relevant item (grade > 0) \
             whose item queries name ids both models know",
            ra.queries, rb.queries
        )));
    }
    let n = deltas.len() as f64;
    let mean_a = deltas.iter().map(|d| d.a).sum::<f64>() / n;
    let mean_b = deltas.iter().map(|d| d.b).sum::<f64>() / n;
    let diffs: Vec<f64> = deltas.iter().map(QueryDelta::delta).collect();
    let difference = diffs.iter().sum::<f64>() / n;
    let interval = bootstrap_mean_ci(&diffs, opts.samples, opts.seed, CONFIDENCE)
        .ok_or_else(|| Error::input("the bootstrap needs at least one sample"))?;
    let Outcomes { wins, losses, ties } = outcomes(&deltas);
    let sign = SignTest {
        wins,
        losses,
        ties,
        p_value: sign_test(wins, losses),
    };
    let gain_ok = difference >= opts.min_gain - GAIN_TOLERANCE;
    let significant = interval.low > 0.0;
    let passed = gain_ok && (significant || !opts.require_significant);
    let m = &opts.metric;
    let reason = if !gain_ok {
        format!(
            "{m} of B - A = {difference:+.4} is below --min-gain {:.4}",
            opts.min_gain
        )
    } else if opts.require_significant && !significant {
        format!(
            "{m} of B - A = {difference:+.4} reaches --min-gain {:.4}, but the 95% interval \
             [{:+.4}, {:+.4}] does not lie above 0 (--require-significant)",
            opts.min_gain, interval.low, interval.high
        )
    } else {
        format!(
            "{m} of B - A = {difference:+.4} >= --min-gain {:.4}{}",
            opts.min_gain,
            if opts.require_significant {
                format!(", and the 95% interval lies above 0 ({:+.4})", interval.low)
            } else {
                String::new()
            }
        )
    };
    let mut warnings = Vec::new();
    if unmatched > 0 {
        warnings.push(format!(
            "{unmatched} queries were scored by one model only and are left out of the gate, \
             which compares the {} queries both scored",
            deltas.len()
        ));
    }
    let difference_all = Metrics(
        a.metrics
            .0
            .iter()
            .filter_map(|(name, va)| Some((name.clone(), b.metrics.get(name)? - va)))
            .collect(),
    );
    Ok(Comparison {
        judgements: file.to_string(),
        k: opts.k,
        a,
        b,
        difference: difference_all,
        gate: Gate {
            metric: opts.metric.clone(),
            k: opts.k,
            paired_queries: deltas.len(),
            mean_a,
            mean_b,
            difference,
            min_gain: opts.min_gain,
            require_significant: opts.require_significant,
            ci: BootstrapCi {
                level: CONFIDENCE,
                low: interval.low,
                high: interval.high,
                samples: opts.samples,
                seed: opts.seed,
            },
            sign_test: sign,
            passed,
            reason,
        },
        unmatched_queries: unmatched,
        per_query: deltas.iter().map(QueryChange::from).collect(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::QueryResult;

    #[test]
    fn sign_test_hand_values() {
        // 9 wins, 1 loss: 2 * (C(10,0) + C(10,1)) / 2^10 = 22/1024.
        assert!((sign_test(9, 1) - 0.021_484_375).abs() < 1e-12);
        assert!((sign_test(1, 9) - 0.021_484_375).abs() < 1e-12);
        // 10:0 -> 2 / 1024.
        assert!((sign_test(10, 0) - 2.0 / 1024.0).abs() < 1e-15);
        // 3:2 -> 2 * (1 + 5 + 10) / 32 = 1 (log-space sums are within rounding).
        let one = |p: f64| (p - 1.0).abs() < 1e-12;
        assert!(one(sign_test(3, 2)));
        assert!(one(sign_test(5, 5)));
        assert_eq!(sign_test(0, 0), 1.0);
        // 1:0 -> p = 1 (both outcomes equally extreme).
        assert!(one(sign_test(1, 0)));
        // 7:3 -> 2 * (1 + 10 + 45 + 120) / 1024 = 0.34375.
        assert!((sign_test(7, 3) - 0.343_75).abs() < 1e-12);
    }

    #[test]
    fn sign_test_agrees_with_direct_sum_and_survives_thousands_of_queries() {
        // Direct sum where f64 suffices: 2 * sum_{i<=20} C(60, i) / 2^60.
        let mut c = 1.0f64;
        let mut sum = 1.0f64;
        for i in 1..=20u32 {
            c = c * f64::from(60 - i + 1) / f64::from(i);
            sum += c;
        }
        let direct = 2.0 * sum / 2f64.powi(60);
        let p = sign_test(40, 20);
        assert!(((p - direct) / direct).abs() < 1e-9, "{p} vs {direct}");
        // 2^-10000 underflows if computed directly; a 5100:4900 split is z = 2
        // (sd 50 around 5000), p about 0.046 by the normal approximation.
        let p = sign_test(5_100, 4_900);
        assert!(p > 0.04 && p < 0.05, "{p}");
        let p = sign_test(10_000, 10_001);
        assert!(p > 0.99 && p <= 1.0, "{p}");
        let p = sign_test(20_000, 100);
        assert!((0.0..1e-300).contains(&p), "{p}");
    }

    #[test]
    fn bootstrap_is_deterministic_for_a_seed() {
        let d: Vec<f64> = (0..200)
            .map(|i| ((i * 37 % 11) as f64 - 4.0) / 10.0)
            .collect();
        let x = bootstrap_mean_ci(&d, 2_000, 7, 0.95).unwrap();
        let y = bootstrap_mean_ci(&d, 2_000, 7, 0.95).unwrap();
        assert_eq!(x, y);
        let z = bootstrap_mean_ci(&d, 2_000, 8, 0.95).unwrap();
        assert_ne!(x, z, "another seed gives another interval");
    }

    #[test]
    fn bootstrap_interval_contains_the_mean_and_narrows_with_n() {
        let d: Vec<f64> = (0..400)
            .map(|i| if i % 3 == 0 { 0.5 } else { -0.1 })
            .collect();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        let ci = bootstrap_mean_ci(&d, 5_000, 1, 0.95).unwrap();
        assert!(ci.low < mean && mean < ci.high, "{ci:?} vs {mean}");
        // The standard error is 0.283/sqrt(400) = 0.0141, so the 95% interval
        // is about ±0.028 wide on each side; check it is in that range.
        let half = (ci.high - ci.low) / 2.0;
        assert!(half > 0.02 && half < 0.036, "{half}");
        let small = bootstrap_mean_ci(&d[..40], 5_000, 1, 0.95).unwrap();
        assert!(small.high - small.low > ci.high - ci.low);
    }

    #[test]
    fn all_ties_give_a_zero_interval() {
        let ci = bootstrap_mean_ci(&[0.0; 50], 1_000, 3, 0.95).unwrap();
        assert_eq!(
            ci,
            Interval {
                low: 0.0,
                high: 0.0
            }
        );
        assert!(bootstrap_mean_ci(&[], 1_000, 3, 0.95).is_none());
        assert!(bootstrap_mean_ci(&[1.0], 0, 3, 0.95).is_none());
    }

    #[test]
    fn quantile_interpolates() {
        let v = [0.0, 1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 0.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&v, 0.5), 2.0);
        assert!((quantile(&v, 0.025) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn metric_names_and_k() {
        assert_eq!(
            resolve_metric("ndcg@10", None).unwrap(),
            ("ndcg@10".into(), 10)
        );
        assert_eq!(
            resolve_metric("NDCG@5", None).unwrap(),
            ("ndcg@5".into(), 5)
        );
        assert_eq!(resolve_metric("mrr", None).unwrap(), ("mrr".into(), 10));
        assert_eq!(resolve_metric("hit@5", None).unwrap(), ("hit@5".into(), 10));
        assert_eq!(resolve_metric("map", Some(20)).unwrap(), ("map".into(), 20));
        let e = resolve_metric("ndcg@10", Some(5)).unwrap_err().to_string();
        assert!(
            e.contains("not computed at k = 5") && e.contains("ndcg@5") && e.contains("--k 10"),
            "{e}"
        );
        let e = resolve_metric("f1", None).unwrap_err().to_string();
        assert!(e.contains("\"f1\"") && e.contains("ndcg@10, map"), "{e}");
        assert!(resolve_metric("ndcg@0", None).is_err());
        assert!(resolve_metric("mrr", Some(0)).is_err());
    }

    fn report(rows: &[(&str, f64)]) -> EvalReport {
        let per_query: Vec<QueryResult> = rows
            .iter()
            .map(|(q, v)| QueryResult {
                query_kind: "text",
                query: q.to_string(),
                relevant: 1,
                first_relevant_rank: Some(1),
                metrics: Metrics(vec![("mrr".into(), *v)]),
            })
            .collect();
        let mean = rows.iter().map(|r| r.1).sum::<f64>() / rows.len().max(1) as f64;
        EvalReport {
            queries: rows.len(),
            k: 10,
            metrics: Metrics(vec![("mrr".into(), mean)]),
            per_query,
            warnings: Vec::new(),
        }
    }

    fn side(r: &EvalReport) -> ModelSide {
        ModelSide {
            path: "m.psm".into(),
            model_id: "id".into(),
            config_hash: "c".into(),
            catalog_file: "cat.csv".into(),
            catalog_fingerprint: "f".into(),
            queries: r.queries,
            metrics: r.metrics.clone(),
        }
    }

    fn gate(a: &[(&str, f64)], b: &[(&str, f64)], min_gain: f64, sig: bool) -> Result<Comparison> {
        let (ra, rb) = (report(a), report(b));
        let mut opts = GateOptions::new("mrr", None, min_gain).unwrap();
        opts.require_significant = sig;
        opts.samples = 2_000;
        compare_reports(side(&ra), side(&rb), &ra, &rb, Path::new("j.csv"), &opts)
    }

    #[test]
    fn gate_uses_the_mean_difference_and_optionally_the_interval() {
        let a: Vec<(String, f64)> = (0..20).map(|i| (format!("q{i}"), 0.5)).collect();
        let mut b = a.clone();
        b[0].1 = 1.0; // one query gains 0.5: mean gain 0.025
        let a: Vec<(&str, f64)> = a.iter().map(|(q, v)| (q.as_str(), *v)).collect();
        let b: Vec<(&str, f64)> = b.iter().map(|(q, v)| (q.as_str(), *v)).collect();
        let c = gate(&a, &b, 0.02, false).unwrap();
        assert!((c.gate.difference - 0.025).abs() < 1e-12);
        assert!(c.gate.passed, "{}", c.gate.reason);
        assert_eq!(
            (
                c.gate.sign_test.wins,
                c.gate.sign_test.losses,
                c.gate.sign_test.ties
            ),
            (1, 0, 19)
        );
        assert!(!gate(&a, &b, 0.03, false).unwrap().gate.passed);
        // One win in twenty: resamples without it have mean 0, so the interval
        // reaches 0 and a significance requirement fails.
        let c = gate(&a, &b, 0.0, true).unwrap();
        assert_eq!(c.gate.ci.low, 0.0);
        assert!(!c.gate.passed && c.gate.reason.contains("--require-significant"));
        // Reversed, B is worse and fails even a zero gain.
        let c = gate(&b, &a, 0.0, false).unwrap();
        assert!(!c.gate.passed && c.gate.difference < 0.0);
        // Identical models pass a zero gain: "at least as good".
        let c = gate(&a, &a, 0.0, false).unwrap();
        assert!(c.gate.passed);
        assert_eq!((c.gate.ci.low, c.gate.ci.high), (0.0, 0.0));
        assert_eq!(c.gate.sign_test.p_value, 1.0);
        assert!(c.top_movers(10).is_empty());
    }

    #[test]
    fn gate_needs_paired_queries() {
        let e = gate(&[("x", 1.0)], &[("y", 1.0)], 0.0, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("j.csv") && e.contains("no query"), "{e}");
        let c = gate(
            &[("x", 0.2), ("z", 1.0)],
            &[("x", 0.4), ("y", 1.0)],
            0.0,
            false,
        )
        .unwrap();
        assert_eq!(c.unmatched_queries, 2);
        assert_eq!(c.gate.paired_queries, 1);
        assert!(c.warnings[0].contains("left out of the gate"));
        assert!((c.gate.difference - 0.2).abs() < 1e-12);
    }
}
