//! Model B, retrained in the explorer, next to model A: B's ranking of the
//! current query, each row's rank movement, the A/B token breakdown of the
//! selected row, overlap figures, and both models' metrics on the
//! judgements. The figures come from [`crate::ab`], the library
//! `prodsim compare` uses.

use super::{App, Effect, Overlay, Queue};
use crate::ab::{MovedItem, Outcomes, Overlap, QueryDelta};
use crate::eval::EvalReport;
use crate::model::Model;
use crate::rank::{Query, Ranking, TokenContribution};
use crate::text::TokenKind;
use crate::tui::action::{AbEvaluation, Side, Trained};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Rank-biased overlap persistence: 0.9 puts most weight on the top ten.
pub const RBO_P: f64 = 0.9;
/// Cut-off of the A/B metrics and of B's unjudged neighbours per query
/// (`prodsim eval`'s default).
pub const EVAL_K: usize = 10;
/// Without judgements, overlap is averaged over this many catalogue items
/// picked with a fixed seed (the same pick as `prodsim tui --sample`).
pub const OVERLAP_SAMPLE: usize = 200;
pub const OVERLAP_SEED: u64 = 42;

/// The metric wins and losses are counted on.
pub fn headline_metric() -> String {
    format!("ndcg@{EVAL_K}")
}

/// Model B and its ranking of the current query.
pub struct Challenger {
    pub model: Arc<Model>,
    /// The file B was saved to (or, after a swap, loaded from).
    pub path: Option<PathBuf>,
    /// True while B exists only in memory.
    pub unsaved: bool,
    pub ranking: Option<Ranking>,
    pub ranking_error: Option<String>,
    /// Options that differed from A's when B was trained (`stemmer=english`).
    pub changes: Vec<String>,
    pub seconds: f64,
}

/// A retraining in progress, as last reported by its worker.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainJob {
    pub generation: u64,
    /// A: retrain the loaded model (mismatch notice); B: the challenger.
    pub target: Side,
    pub stage: String,
    pub done: u64,
    pub total: u64,
    pub elapsed_ms: u64,
    pub changes: Vec<String>,
}

/// Share of training time per stage of `model::train`, measured on the
/// sample (3,226 items): analysing the text dominates.
const STAGE_SHARES: &[(&str, f64)] = &[
    ("analyse", 0.62),
    ("vocabulary", 0.14),
    ("weight", 0.15),
    ("index", 0.09),
];

impl TrainJob {
    /// Estimated share of the whole job done, 0-1.
    pub fn fraction(&self) -> f64 {
        if self.stage == "done" {
            return 1.0;
        }
        let mut before = 0.0;
        for &(stage, share) in STAGE_SHARES {
            if stage == self.stage {
                let within = if self.total > 0 {
                    self.done as f64 / self.total as f64
                } else {
                    0.0
                };
                return (before + share * within.clamp(0.0, 1.0)).clamp(0.0, 1.0);
            }
            before += share;
        }
        0.0
    }

    /// Estimated time left, once enough is done to extrapolate.
    pub fn remaining_ms(&self) -> Option<u64> {
        let f = self.fraction();
        (f >= 0.05 && self.elapsed_ms > 0)
            .then(|| (self.elapsed_ms as f64 * (1.0 - f) / f).round() as u64)
    }
}

/// A result being computed on a worker.
#[derive(Debug, Clone, Default)]
pub enum Pending<T> {
    #[default]
    Idle,
    Running,
    Ready(T),
    Failed(String),
}

/// One token's contribution to an item's score under A and under B.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenDelta {
    pub token: String,
    pub kind: TokenKind,
    pub a: Option<TokenContribution>,
    pub b: Option<TokenContribution>,
}

impl TokenDelta {
    pub fn contribution_a(&self) -> f64 {
        self.a.as_ref().map_or(0.0, |c| c.contribution)
    }
    pub fn contribution_b(&self) -> f64 {
        self.b.as_ref().map_or(0.0, |c| c.contribution)
    }
    /// B minus A.
    pub fn delta(&self) -> f64 {
        self.contribution_b() - self.contribution_a()
    }
}

/// Joins two breakdowns of the same pair by token: the tokens whose
/// contribution changed most come first (ties by token), so the reason
/// for a move is on top.
pub fn token_deltas(a: &[TokenContribution], b: &[TokenContribution]) -> Vec<TokenDelta> {
    let mut by_key: HashMap<(&str, &str), TokenDelta> = HashMap::new();
    for (side, rows) in [(Side::A, a), (Side::B, b)] {
        for r in rows {
            let d = by_key
                .entry((r.kind.name(), r.token.as_str()))
                .or_insert_with(|| TokenDelta {
                    token: r.token.clone(),
                    kind: r.kind,
                    a: None,
                    b: None,
                });
            match side {
                Side::A => d.a = Some(r.clone()),
                Side::B => d.b = Some(r.clone()),
            }
        }
    }
    let mut out: Vec<TokenDelta> = by_key.into_values().collect();
    out.sort_by(|x, y| {
        y.delta()
            .abs()
            .total_cmp(&x.delta().abs())
            .then_with(|| x.token.cmp(&y.token))
            .then_with(|| x.kind.name().cmp(y.kind.name()))
    });
    out
}

/// The selected row of the A/B view, explained under both models.
#[derive(Debug, Clone, PartialEq)]
pub struct AbDetail {
    pub item_id: String,
    pub title: String,
    pub rank_a: Option<usize>,
    pub rank_b: Option<usize>,
    /// Score under each model; `None` when the model lacks the item.
    pub score_a: Option<f64>,
    pub score_b: Option<f64>,
    pub tokens: Vec<TokenDelta>,
}

/// Both models' metrics on the judgements and what follows from them.
#[derive(Debug, Clone)]
pub struct AbEvalView {
    pub a: EvalReport,
    pub b: EvalReport,
    pub metric: String,
    /// Per query, in A's report order.
    pub deltas: Vec<QueryDelta>,
    /// Queries only one model could score.
    pub unmatched: usize,
    pub outcomes: Outcomes,
    /// Judged queries whose B top-k holds unjudged items, with those items.
    pub unjudged: Vec<(Query, Vec<String>)>,
    pub millis: f64,
}

/// Everything the A/B view shows besides the two rankings.
#[derive(Debug, Clone, Default)]
pub struct AbState {
    /// B's neighbours with their movement, then the ones B dropped.
    pub rows: Vec<MovedItem>,
    pub selected: usize,
    /// The selected item, kept across re-rankings.
    pub selected_id: Option<String>,
    /// Scroll of the A/B breakdown.
    pub scroll: usize,
    pub detail: Option<AbDetail>,
    /// Overlap of A's and B's neighbours of the current query.
    pub overlap: Option<Overlap>,
    /// Mean overlap over a query set, and its size.
    pub set_overlap: Pending<(Overlap, usize)>,
    /// What the query set is ("judged queries", "sampled items").
    pub set_name: String,
    pub eval: Pending<Box<AbEvalView>>,
    /// Labels changed since the metrics were computed.
    pub eval_stale: bool,
    pub(super) overlap_generation: u64,
    pub(super) eval_generation: u64,
}

/// True when a ranking answers the query on screen.
fn answers(r: &Ranking, q: &Query) -> bool {
    r.query.kind == q.kind() && r.query.query == q.value()
}

impl App {
    /// True when a model B is loaded.
    pub fn has_b(&self) -> bool {
        self.b.is_some()
    }

    /// True when quitting now would lose a model trained in this session.
    pub fn unsaved_models(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.model_unsaved {
            out.push("A");
        }
        if self.b.as_ref().is_some_and(|b| b.unsaved) {
            out.push("B");
        }
        out
    }

    pub(super) fn rerank_b(&mut self) {
        self.b_rank_generation += 1;
        if self.b.is_none() {
            return;
        }
        match self.query.clone() {
            Some(query) => self.effects.push(Effect::Rank {
                side: Side::B,
                generation: self.b_rank_generation,
                query,
                k: self.k,
            }),
            None => {
                if let Some(b) = self.b.as_mut() {
                    b.ranking = None;
                    b.ranking_error = None;
                }
                self.refresh_ab();
            }
        }
    }

    /// Recomputes the rows, movements and overlap of the current query
    /// once both rankings answer it; keeps the selected item if it is
    /// still there.
    pub(super) fn refresh_ab(&mut self) {
        let rows = match (&self.query, &self.ranking, self.b.as_ref()) {
            (Some(q), Some(ra), Some(b)) => match &b.ranking {
                Some(rb) if answers(ra, q) && answers(rb, q) => {
                    let a_ids: Vec<&str> = ra.results.iter().map(|n| n.item_id.as_str()).collect();
                    let b_ids: Vec<&str> = rb.results.iter().map(|n| n.item_id.as_str()).collect();
                    self.ab.overlap = Some(crate::ab::overlap(&a_ids, &b_ids, self.k, RBO_P));
                    crate::ab::movements(&a_ids, &b_ids)
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        if rows.is_empty() {
            self.ab.overlap = None;
        }
        self.ab.rows = rows;
        self.ab.selected = self
            .ab
            .selected_id
            .as_ref()
            .and_then(|id| self.ab.rows.iter().position(|r| &r.item_id == id))
            .unwrap_or_else(|| self.ab.selected.min(self.ab.rows.len().saturating_sub(1)));
        self.select_ab(self.ab.selected);
    }

    /// Selects a row of the A/B view and explains it under both models.
    pub(super) fn select_ab(&mut self, row: usize) {
        let changed = row != self.ab.selected;
        self.ab.selected = row;
        self.ab.selected_id = self.ab.rows.get(row).map(|r| r.item_id.clone());
        if changed {
            self.ab.scroll = 0;
        }
        self.ab.detail = self.ab_detail();
    }

    fn ab_detail(&self) -> Option<AbDetail> {
        let row = self.ab.rows.get(self.ab.selected)?;
        let query = self.query.as_ref()?;
        let b = self.b.as_ref()?;
        // The breakdown from the ranking when the item is in it, else
        // computed the way the ranking would have (same library calls).
        let explain = |model: &Model, ranking: Option<&Ranking>| {
            if let Some(n) =
                ranking.and_then(|r| r.results.iter().find(|n| n.item_id == row.item_id))
            {
                let rows = n.breakdown.clone().unwrap_or_default();
                return Some((n.score, rows));
            }
            let item = model.find_item(&row.item_id)?;
            let (qv, _) = crate::rank::encode(model, query).ok()?;
            let rows = crate::rank::breakdown(model, &qv, item);
            Some((rows.iter().map(|r| r.contribution).sum(), rows))
        };
        let a = explain(&self.model, self.ranking.as_ref());
        let bb = explain(&b.model, b.ranking.as_ref());
        let empty = Vec::new();
        let tokens = token_deltas(
            a.as_ref().map_or(&empty, |x| &x.1),
            bb.as_ref().map_or(&empty, |x| &x.1),
        );
        let title = b
            .model
            .find_item(&row.item_id)
            .map(|i| b.model.title(i).to_string())
            .or_else(|| {
                self.model
                    .find_item(&row.item_id)
                    .map(|i| self.model.title(i).to_string())
            })
            .unwrap_or_else(|| row.item_id.clone());
        Some(AbDetail {
            item_id: row.item_id.clone(),
            title,
            rank_a: row.rank_a,
            rank_b: row.rank_b,
            score_a: a.map(|x| x.0),
            score_b: bb.map(|x| x.0),
            tokens,
        })
    }

    /// Installs a freshly trained model B and opens the A/B view.
    pub(super) fn install_b(&mut self, trained: Trained, changes: Vec<String>) {
        let id = trained.model.meta.model_id.clone();
        self.b = Some(Challenger {
            model: trained.model,
            path: None,
            unsaved: true,
            ranking: None,
            ranking_error: None,
            changes: changes.clone(),
            seconds: trained.seconds,
        });
        self.ab = AbState::default();
        self.ab_view = true;
        if matches!(&self.overlay, Some(Overlay::Options(p)) if p.editing.is_none()) {
            self.overlay = None;
        }
        self.rerank_b();
        self.start_ab_overlap();
        self.start_ab_eval();
        let what = if changes.is_empty() {
            "same options as A".to_string()
        } else {
            changes.join(", ")
        };
        self.status = format!(
            "model B {id} trained in {:.2} s ({what}); a: A/B view, S save, W swap, X discard",
            trained.seconds
        );
    }

    /// Starts averaging the overlap of A and B over a query set: the
    /// judged queries when there are judgements, else a seeded sample of
    /// catalogue items.
    pub(super) fn start_ab_overlap(&mut self) {
        if self.b.is_none() {
            return;
        }
        let judgements = self
            .store
            .as_ref()
            .map(|s| s.to_judgements())
            .filter(|j| !j.rows.is_empty());
        let queries: Vec<Query> = match &judgements {
            Some(j) => {
                self.ab.set_name = "judged queries".into();
                j.by_query().into_iter().map(|g| g.query).collect()
            }
            None => {
                self.ab.set_name = format!("sampled items (seed {OVERLAP_SEED})");
                crate::cli::sample_item_queries(&self.model, OVERLAP_SAMPLE, OVERLAP_SEED)
            }
        };
        self.ab.overlap_generation += 1;
        self.ab.set_overlap = Pending::Running;
        self.effects.push(Effect::AbOverlap {
            generation: self.ab.overlap_generation,
            queries,
            k: self.k,
        });
    }

    /// Starts evaluating A and B on the judgements (if there are any).
    pub(super) fn start_ab_eval(&mut self) {
        if self.b.is_none() {
            return;
        }
        self.ab.eval_generation += 1;
        self.ab.eval_stale = false;
        match self
            .store
            .as_ref()
            .map(|s| s.to_judgements())
            .filter(|j| !j.rows.is_empty())
        {
            Some(judgements) => {
                self.ab.eval = Pending::Running;
                self.effects.push(Effect::AbEvaluate {
                    generation: self.ab.eval_generation,
                    judgements,
                });
            }
            None => self.ab.eval = Pending::Idle,
        }
    }

    /// The A/B metrics overlay; recomputes when labels changed since.
    pub(super) fn open_ab_metrics(&mut self) {
        if self.b.is_none() {
            self.status = "no model B yet: o opens the options, r there retrains".into();
            return;
        }
        let recompute = match self.ab.eval {
            Pending::Idle | Pending::Failed(_) => self.store.is_some(),
            Pending::Ready(_) => self.ab.eval_stale,
            Pending::Running => false,
        };
        if recompute {
            self.start_ab_eval();
        }
        self.overlay = Some(Overlay::AbMetrics { scroll: 0 });
    }

    /// The preprocessing trace of the query under A and under B.
    pub(super) fn open_ab_trace(&mut self) {
        let Some(b) = &self.b else { return };
        let text = self.query_text();
        let a = self.model.analyzer().trace(&text);
        let bt = b.model.analyzer().trace(&text);
        self.overlay = Some(Overlay::AbTrace {
            text,
            a,
            b: bt,
            scroll: 0,
        });
    }

    /// Where saving B proposes to write: B's own file once saved, else
    /// next to model A's file (or the catalogue), named after B's id.
    pub fn default_save_path(&self) -> Option<PathBuf> {
        let b = self.b.as_ref()?;
        if let Some(p) = &b.path {
            return Some(p.clone());
        }
        let id = &b.model.meta.model_id;
        Some(match &self.model_path {
            Some(a) => {
                let stem = a
                    .file_stem()
                    .map_or("model".into(), |s| s.to_string_lossy().into_owned());
                a.with_file_name(format!("{stem}-{id}.psm"))
            }
            None => self
                .catalog
                .path()
                .with_file_name(format!("model-{id}.psm")),
        })
    }

    pub(super) fn open_save_prompt(&mut self) {
        let Some(path) = self.default_save_path() else {
            self.status = "no model B to save: retrain from the options panel (o) first".into();
            return;
        };
        self.overlay = Some(Overlay::SavePrompt {
            input: super::LineInput::with(&path.display().to_string()),
            error: None,
        });
    }

    pub(super) fn save_prompt_command(&mut self, cmd: crate::tui::action::Command) {
        use crate::tui::action::Command as C;
        let Some(Overlay::SavePrompt { input, error }) = &mut self.overlay else {
            return;
        };
        match cmd {
            C::Back => {
                self.overlay = None;
                self.status = "model B not saved".into();
            }
            C::Confirm => {
                let text = input.text.trim().to_string();
                if text.is_empty() {
                    *error = Some("type a file name".into());
                    return;
                }
                let path = PathBuf::from(&text);
                if path.is_dir() {
                    *error = Some(format!(
                        "{text} is a directory: add a file name, e.g. {text}/model-b.psm"
                    ));
                    return;
                }
                if path.exists() {
                    self.ask(
                        format!("{text} exists. Replace it with model B?"),
                        super::Confirmable::Overwrite(path),
                    );
                    return;
                }
                self.start_save(path);
            }
            other => {
                if input.edit(other) {
                    *error = None;
                }
            }
        }
    }

    /// Writes model B to `path` on a worker (atomically).
    pub(super) fn start_save(&mut self, path: PathBuf) {
        let Some(b) = &self.b else { return };
        self.overlay = None;
        self.status = format!("saving model B to {}...", path.display());
        self.effects.push(Effect::SaveModel {
            side: Side::B,
            model_id: b.model.meta.model_id.clone(),
            path,
        });
    }

    pub(super) fn ab_overlap_ready(
        &mut self,
        generation: u64,
        result: Result<(Overlap, usize), String>,
    ) {
        if generation != self.ab.overlap_generation {
            self.dirty = false;
            return;
        }
        self.ab.set_overlap = match result {
            Ok(x) => Pending::Ready(x),
            Err(e) => Pending::Failed(e),
        };
    }

    pub(super) fn ab_evaluation_ready(
        &mut self,
        generation: u64,
        result: Result<Box<AbEvaluation>, String>,
        millis: f64,
    ) {
        if generation != self.ab.eval_generation {
            self.dirty = false;
            return;
        }
        self.ab.eval = match result {
            Ok(done) => {
                let AbEvaluation { a, b, unjudged } = *done;
                let metric = headline_metric();
                let (deltas, unmatched) = crate::ab::per_query(&a, &b, &metric);
                let outcomes = crate::ab::outcomes(&deltas);
                Pending::Ready(Box::new(AbEvalView {
                    a,
                    b,
                    metric,
                    deltas,
                    unmatched,
                    outcomes,
                    unjudged,
                    millis,
                }))
            }
            Err(e) => Pending::Failed(e),
        };
    }

    /// Exchanges A and B: B becomes the model queries run on.
    pub(super) fn swap_ab(&mut self) {
        let Some(b) = self.b.as_mut() else {
            self.status = "no model B to swap with: retrain from the options panel (o)".into();
            return;
        };
        std::mem::swap(&mut self.model, &mut b.model);
        std::mem::swap(&mut self.model_path, &mut b.path);
        std::mem::swap(&mut self.model_unsaved, &mut b.unsaved);
        std::mem::swap(&mut self.ranking, &mut b.ranking);
        std::mem::swap(&mut self.ranking_error, &mut b.ranking_error);
        b.changes.clear();
        self.draft = self.model.config.clone();
        self.status = format!(
            "swapped: A is now {}, B is {}",
            self.model.meta.model_id, b.model.meta.model_id
        );
        // Results in flight belong to the old sides.
        self.rerank();
        self.refresh_ab();
        // Overlap is symmetric; the metrics and B's unjudged items are not.
        self.start_ab_eval();
    }

    /// Drops model B (the caller has asked when it was unsaved).
    pub(super) fn discard_b(&mut self) {
        if let Some(b) = self.b.take() {
            self.status = format!("discarded model B {}", b.model.meta.model_id);
        }
        self.ab = AbState::default();
        self.ab_view = false;
        self.b_rank_generation += 1;
    }

    /// The row to grade in the A/B view: B's neighbours are graded with
    /// B's provenance, rows B dropped with A's.
    pub(super) fn ab_grade_target(&self) -> Option<(String, String, usize, f64)> {
        let row = self.ab.rows.get(self.ab.selected)?;
        let b = self.b.as_ref()?;
        let find = |r: Option<&Ranking>, id: &str| {
            r.and_then(|r| r.results.iter().find(|n| n.item_id == id))
                .map(|n| (n.rank, n.score))
        };
        match row.rank_b {
            Some(_) => {
                let (rank, score) = find(b.ranking.as_ref(), &row.item_id)?;
                Some((
                    row.item_id.clone(),
                    b.model.meta.model_id.clone(),
                    rank,
                    score,
                ))
            }
            None => {
                let (rank, score) = find(self.ranking.as_ref(), &row.item_id)?;
                Some((
                    row.item_id.clone(),
                    self.model.meta.model_id.clone(),
                    rank,
                    score,
                ))
            }
        }
    }

    /// Moves to the next of B's neighbours without a label (wrapping).
    pub(super) fn next_unjudged_b(&mut self, report: bool) {
        let n = self.ab.rows.len();
        if n == 0 {
            return;
        }
        let next = (1..=n).map(|d| (self.ab.selected + d) % n).find(|&i| {
            let r = &self.ab.rows[i];
            r.rank_b.is_some() && self.label_of(&r.item_id).is_none()
        });
        match next {
            Some(i) => self.select_ab(i),
            None if report => self.status = "every neighbour of B is judged".into(),
            None => {}
        }
    }

    /// Queues the judged queries where B shows unjudged neighbours.
    pub(super) fn queue_unjudged_b(&mut self) {
        let Pending::Ready(view) = &self.ab.eval else {
            self.status = match &self.ab.eval {
                Pending::Running => "A/B metrics are still being computed".into(),
                _ => "the label queue needs judgements: prodsim tui ... --judgements FILE".into(),
            };
            return;
        };
        let queries: Vec<Query> = view
            .unjudged
            .iter()
            .filter(|(q, items)| items.iter().any(|id| self.label_of_query(q, id).is_none()))
            .map(|(q, _)| q.clone())
            .collect();
        if queries.is_empty() {
            self.status = "B's neighbours of every judged query are judged".into();
            return;
        }
        let n = queries.len();
        self.queue = Some(Queue { queries, pos: 0 });
        self.go_to_queue(0);
        self.status = format!(
            "queue of {n} judged queries with unjudged B neighbours: Space finds them, ] next query"
        );
    }

    fn label_of_query(&self, q: &Query, item_id: &str) -> Option<i32> {
        self.store.as_ref()?.grade(q, item_id)
    }
}

// ---- the work behind the A/B view, run on workers (and by tests) ----------

/// B's top-`k` item ids for a query, or `None` when the model cannot
/// encode it (an item id it lacks).
fn top_ids(model: &Model, query: &Query, k: usize) -> Option<Vec<String>> {
    let (qv, exclude) = crate::rank::encode(model, query).ok()?;
    Some(
        crate::rank::ranked(model, &qv, k, exclude)
            .into_iter()
            .map(|(item, _)| model.item_id(item).to_string())
            .collect(),
    )
}

/// Mean Jaccard@k and RBO of A's and B's top k over a query set, and how
/// many queries both models could rank.
pub fn mean_overlap_over(
    a: &Model,
    b: &Model,
    queries: &[Query],
    k: usize,
) -> Result<(Overlap, usize), String> {
    use rayon::prelude::*;
    let all: Vec<Overlap> = queries
        .par_iter()
        .filter_map(|q| {
            Some(crate::ab::overlap(
                &top_ids(a, q, k)?,
                &top_ids(b, q, k)?,
                k,
                RBO_P,
            ))
        })
        .collect();
    crate::ab::mean_overlap(&all)
        .map(|m| (m, all.len()))
        .ok_or_else(|| "no query of the set could be ranked by both models".to_string())
}

/// Both models' evaluation at [`EVAL_K`] (`prodsim eval`'s numbers) and,
/// per judged query, B's top-k items nobody judged for it yet.
pub fn evaluate_ab(
    a: &Model,
    b: &Model,
    judgements: &crate::judgements::Judgements,
) -> Result<AbEvaluation, String> {
    let ra = crate::eval::evaluate(a, judgements, EVAL_K).map_err(|e| e.to_string())?;
    let rb = crate::eval::evaluate(b, judgements, EVAL_K).map_err(|e| e.to_string())?;
    let unjudged = judgements
        .by_query()
        .into_iter()
        .filter_map(|g| {
            let judged: std::collections::HashSet<String> = g
                .items
                .iter()
                .map(|(id, _)| id.trim().to_string())
                .collect();
            let ids = top_ids(b, &g.query, EVAL_K)?;
            let todo = crate::ab::unjudged(&ids, &judged);
            (!todo.is_empty()).then_some((g.query, todo))
        })
        .collect();
    Ok(AbEvaluation {
        a: ra,
        b: rb,
        unjudged,
    })
}

/// Trains on the loaded catalogue, as loaded. With `reread`, for options
/// that change the text fields or their weights, the catalogue file is
/// read again with the new fields first: which rows have text depends on
/// the fields, exactly as in `prodsim train --fields`.
pub fn train_on(
    catalog: &crate::catalog::Catalog,
    config: &crate::model::ModelConfig,
    reread: bool,
    progress: &dyn crate::jobs::Progress,
) -> crate::error::Result<Model> {
    let (model, _) = if reread {
        let fresh = crate::catalog::Catalog::load(&catalog.path, &config.catalog_options()?)?;
        crate::model::train(&fresh, config, progress)?
    } else {
        crate::model::train(catalog, config, progress)?
    };
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc(token: &str, kind: TokenKind, contribution: f64) -> TokenContribution {
        TokenContribution {
            token: token.into(),
            kind,
            fields: Vec::new(),
            query_weight: contribution,
            item_weight: 1.0,
            contribution,
        }
    }

    #[test]
    fn token_deltas_join_by_token_and_kind_biggest_change_first() {
        let a = [
            tc("phones", TokenKind::Word, 0.2),
            tc("sony", TokenKind::Word, 0.1),
            tc("son", TokenKind::Char, 0.05),
        ];
        let b = [
            tc("phone", TokenKind::Word, 0.3),
            tc("sony", TokenKind::Word, 0.12),
            tc("son", TokenKind::Char, 0.05),
        ];
        let d = token_deltas(&a, &b);
        let got: Vec<(&str, f64)> = d.iter().map(|t| (t.token.as_str(), t.delta())).collect();
        assert_eq!(got[0].0, "phone", "{got:?}");
        assert!((got[0].1 - 0.3).abs() < 1e-12);
        assert_eq!(got[1].0, "phones");
        assert!((got[1].1 + 0.2).abs() < 1e-12);
        assert_eq!(got[2].0, "sony");
        assert_eq!(got[3].0, "son");
        assert!(d[0].a.is_none() && d[0].b.is_some(), "appeared in B");
        assert!(d[1].a.is_some() && d[1].b.is_none(), "gone in B");
        // Same text, different kinds stay apart.
        let d = token_deltas(
            &[tc("kx", TokenKind::Word, 0.1)],
            &[tc("kx", TokenKind::Char, 0.1)],
        );
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn progress_fraction_and_estimate() {
        let mut job = TrainJob {
            generation: 1,
            target: Side::B,
            stage: "analyse".into(),
            done: 0,
            total: 100,
            elapsed_ms: 100,
            changes: Vec::new(),
        };
        assert_eq!(job.fraction(), 0.0);
        assert_eq!(job.remaining_ms(), None, "nothing to extrapolate from");
        job.stage = "vocabulary".into();
        job.done = 0;
        assert!((job.fraction() - 0.62).abs() < 1e-9);
        job.elapsed_ms = 620;
        assert_eq!(job.remaining_ms(), Some(380));
        job.stage = "index".into();
        job.done = 50;
        assert!((job.fraction() - (0.91 + 0.045)).abs() < 1e-9);
        job.stage = "done".into();
        assert_eq!(job.fraction(), 1.0);
        assert_eq!(job.remaining_ms(), Some(0));
    }
}
