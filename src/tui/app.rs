//! The explorer's state and its one mutator, `App::update`. No terminal, no
//! threads here: slow work is requested through `Effect`s that the runtime
//! runs on workers, and their results come back as `Action`s.

mod ab;
mod options;

pub use ab::{
    AbDetail, AbEvalView, AbState, Challenger, EVAL_K, Pending, RBO_P, TokenDelta, TrainJob,
    evaluate_ab, headline_metric, mean_overlap_over, token_deltas, train_on,
};
pub use options::{OptionRow, OptionsPanel, ValueKind};

use super::action::{Action, Command, Side};
use super::keymap::Mode;
use super::theme::Theme;
use crate::catalog::{Catalog, CatalogOptions};
use crate::eval::{EvalReport, PairScore};
use crate::labels::{LabelStore, Provenance};
use crate::model::{Model, ModelConfig};
use crate::rank::{Query, Ranking, TokenContribution};
use crate::text::TraceStage;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The grades analysts choose from: 0..names.len(), or yes/no.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeScale {
    pub names: Vec<String>,
    pub binary: bool,
}

impl Default for GradeScale {
    fn default() -> Self {
        GradeScale {
            names: ["irrelevant", "related", "substitute", "same product"]
                .map(String::from)
                .to_vec(),
            binary: false,
        }
    }
}

impl GradeScale {
    /// The yes/no scale: 0 = no, 1 = yes.
    pub fn binary() -> GradeScale {
        GradeScale {
            names: vec!["no".into(), "yes".into()],
            binary: true,
        }
    }
    /// Highest grade.
    pub fn max(&self) -> i32 {
        self.names.len() as i32 - 1
    }
    /// Name of a grade.
    pub fn name(&self, grade: i32) -> &str {
        usize::try_from(grade)
            .ok()
            .and_then(|g| self.names.get(g))
            .map_or("?", String::as_str)
    }
}

/// A list of queries to judge in turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub queries: Vec<Query>,
    pub pos: usize,
}

/// Tabs of the evaluation screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalTab {
    Queries,
    Disagreements,
    Scores,
}

/// The evaluation screen's data and cursor.
#[derive(Debug, Clone)]
pub struct EvalView {
    pub report: EvalReport,
    pub pairs: Vec<PairScore>,
    /// Indices into `pairs`, strongest disagreement first.
    pub disagreements: Vec<usize>,
    pub tab: EvalTab,
    /// Metric (index into `report.metrics`) the query table is sorted by.
    pub sort: usize,
    /// Indices into `report.per_query` in display order (worst first).
    pub order: Vec<usize>,
    pub selected: usize,
    pub threshold: f64,
}

impl EvalView {
    fn sort_queries(&mut self) {
        let name = self
            .report
            .metrics
            .0
            .get(self.sort)
            .map(|m| m.0.clone())
            .unwrap_or_default();
        let per = &self.report.per_query;
        let mut order: Vec<usize> = (0..per.len()).collect();
        order.sort_by(|&a, &b| {
            let va = per[a].metrics.get(&name).unwrap_or(0.0);
            let vb = per[b].metrics.get(&name).unwrap_or(0.0);
            va.total_cmp(&vb).then(a.cmp(&b))
        });
        self.order = order;
    }

    /// Rows in the current tab.
    pub fn rows(&self) -> usize {
        match self.tab {
            EvalTab::Queries => self.order.len(),
            EvalTab::Disagreements => self.disagreements.len(),
            EvalTab::Scores => 0,
        }
    }
}

/// The catalogue as far as the explorer has it. The first frame needs only
/// the model (it holds every item's id and title), so the CSV is read on a
/// worker after it; until then details, keyword search, the key column and
/// retraining wait, and the model/catalogue fingerprint check waits too.
#[derive(Debug, Clone)]
pub enum CatalogState {
    /// Being read on a worker.
    Loading {
        path: PathBuf,
    },
    Ready(Arc<Catalog>),
    /// Reading it failed; the message says why (file, line, what to fix).
    Failed {
        path: PathBuf,
        error: String,
    },
}

impl CatalogState {
    /// The catalogue, once loaded.
    pub fn ready(&self) -> Option<&Arc<Catalog>> {
        match self {
            CatalogState::Ready(c) => Some(c),
            _ => None,
        }
    }

    /// The catalogue file, in every state.
    pub fn path(&self) -> &Path {
        match self {
            CatalogState::Loading { path } | CatalogState::Failed { path, .. } => path,
            CatalogState::Ready(c) => &c.path,
        }
    }

    /// Why the catalogue cannot be used yet, for messages: `None` once it
    /// is loaded.
    pub fn unavailable(&self) -> Option<String> {
        match self {
            CatalogState::Ready(_) => None,
            CatalogState::Loading { .. } => Some("the catalogue is still loading".into()),
            CatalogState::Failed { error, .. } => {
                Some(format!("the catalogue did not load: {error}"))
            }
        }
    }
}

/// Work the runtime must start for the app.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Read the catalogue file (once, after the first frame).
    LoadCatalog {
        path: PathBuf,
        options: CatalogOptions,
    },
    /// Rank the query with model A or B.
    Rank {
        side: Side,
        generation: u64,
        query: Query,
        k: usize,
    },
    Fuzzy {
        generation: u64,
        pattern: String,
    },
    Keyword {
        generation: u64,
        query: String,
    },
    BuildKeywordIndex,
    /// Train a model on the loaded catalogue: a new A (mismatch notice) or B.
    Train {
        generation: u64,
        config: Box<ModelConfig>,
        target: Side,
        /// Read the catalogue file again: the text fields changed.
        reread: bool,
    },
    /// Stop the training of this generation.
    CancelTrain {
        generation: u64,
    },
    /// Mean overlap of A's and B's top k over a query set.
    AbOverlap {
        generation: u64,
        queries: Vec<Query>,
        k: usize,
    },
    /// Evaluate A and B on a snapshot of the judgements.
    AbEvaluate {
        generation: u64,
        judgements: crate::judgements::Judgements,
    },
    /// Write model A or B (expected to have this id) to a file, atomically.
    SaveModel {
        side: Side,
        model_id: String,
        path: PathBuf,
    },
    /// Evaluate the model on a snapshot of the judgements.
    Evaluate {
        generation: u64,
        judgements: crate::judgements::Judgements,
    },
}

/// The panes that take focus in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Query,
    Neighbours,
    Breakdown,
}

/// Which finder is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinderKind {
    Fuzzy,
    Keyword,
}

/// The item picker or keyword search: an input and its matches.
#[derive(Debug, Clone)]
pub struct Finder {
    pub kind: FinderKind,
    pub input: LineInput,
    /// Model items, best first, with the engine's score.
    pub items: Vec<(u32, f64)>,
    pub total: usize,
    pub selected: usize,
    pub generation: u64,
    pub done: bool,
    pub error: Option<String>,
    pub millis: f64,
}

/// An overlay above the panes.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    Details {
        item: u32,
        scroll: usize,
    },
    Trace {
        stages: Vec<TraceStage>,
        scroll: usize,
    },
    Mismatch {
        message: String,
    },
    Evaluation(Box<EvalView>),
    /// The breakdown of one judged pair (from the disagreements list).
    Pair {
        pair: Box<PairScore>,
        rows: Vec<TokenContribution>,
        scroll: usize,
    },
    /// The options panel.
    Options(Box<OptionsPanel>),
    /// The preprocessing trace of the query under A and under B.
    AbTrace {
        text: String,
        a: Vec<TraceStage>,
        b: Vec<TraceStage>,
        scroll: usize,
    },
    /// A's and B's metrics, wins/losses per query, B's unjudged neighbours.
    AbMetrics {
        scroll: usize,
    },
    /// Where to save model B.
    SavePrompt {
        input: LineInput,
        error: Option<String>,
    },
    /// A yes/no question before something is lost.
    Confirm(Box<Question>),
}

/// What a confirmation leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirmable {
    DiscardB,
    Quit,
    /// Save model B over an existing file.
    Overwrite(PathBuf),
    /// Retrain although the unsaved model B would be replaced.
    RetrainOverB,
}

/// A confirmation question and the overlay to return to.
#[derive(Debug, Clone)]
pub struct Question {
    pub text: String,
    pub on_yes: Confirmable,
    pub back: Option<Overlay>,
}

/// A one-line text input with a cursor (in chars).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineInput {
    pub text: String,
    pub cursor: usize,
}

impl LineInput {
    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }
    pub fn set(&mut self, s: &str) {
        self.text = s.to_string();
        self.cursor = s.chars().count();
    }
    /// An input holding `s`, cursor at the end.
    pub fn with(s: &str) -> LineInput {
        let mut input = LineInput::default();
        input.set(s);
        input
    }
    fn insert(&mut self, c: char) {
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }
    /// Applies an editing command; true if the text changed.
    fn edit(&mut self, cmd: Command) -> bool {
        let len = self.text.chars().count();
        match cmd {
            Command::DeleteBack if self.cursor > 0 => {
                let at = self.byte_at(self.cursor - 1);
                self.text.remove(at);
                self.cursor -= 1;
                true
            }
            Command::DeleteWord if self.cursor > 0 => {
                let chars: Vec<char> = self.text.chars().collect();
                let mut start = self.cursor;
                while start > 0 && chars[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && chars[start - 1] != ' ' {
                    start -= 1;
                }
                let (a, b) = (self.byte_at(start), self.byte_at(self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor = start;
                true
            }
            Command::ClearInput if !self.text.is_empty() => {
                self.text.clear();
                self.cursor = 0;
                true
            }
            Command::CursorLeft => {
                self.cursor = self.cursor.saturating_sub(1);
                false
            }
            Command::CursorRight => {
                self.cursor = (self.cursor + 1).min(len);
                false
            }
            Command::CursorHome => {
                self.cursor = 0;
                false
            }
            Command::CursorEnd => {
                self.cursor = len;
                false
            }
            _ => false,
        }
    }
}

/// Background job shown in the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub job: &'static str,
    pub stage: String,
    pub done: u64,
    pub total: u64,
}

/// The whole explorer state.
pub struct App {
    /// Loading, loaded or failed: see [`CatalogState`].
    pub catalog: CatalogState,
    /// Model A: the one opened (or swapped in).
    pub model: Arc<Model>,
    /// The file model A came from; saving B defaults to its directory.
    pub model_path: Option<PathBuf>,
    /// True when model A was trained in this session and not saved.
    pub model_unsaved: bool,
    /// Model B, retrained in the explorer with edited options.
    pub b: Option<Challenger>,
    /// Show A and B side by side (only while B exists).
    pub ab_view: bool,
    pub ab: AbState,
    /// The options being edited in the panel; they train B.
    pub draft: ModelConfig,
    /// The retraining in progress, if any.
    pub training: Option<TrainJob>,
    /// The model whose item numbers the fuzzy picker reports (its titles
    /// were indexed at start); picks are mapped to model A by item id.
    pub picker_model: Arc<Model>,
    pub theme: Theme,
    pub focus: Focus,
    pub input: LineInput,
    pub query: Option<Query>,
    pub k: usize,
    pub ranking: Option<Ranking>,
    pub ranking_error: Option<String>,
    pub selected: usize,
    pub breakdown_scroll: usize,
    pub finder: Option<Finder>,
    pub overlay: Option<Overlay>,
    /// The judgements file being labelled, if any.
    pub store: Option<LabelStore>,
    pub scale: GradeScale,
    pub analyst: String,
    /// Hide scores while judging.
    pub blind: bool,
    pub queue: Option<Queue>,
    pub status: String,
    pub last_millis: Option<f64>,
    pub job: Option<JobStatus>,
    pub keyword_index_ready: bool,
    pub size: (u16, u16),
    pub should_quit: bool,
    /// Set by `update` when the screen must be redrawn.
    pub dirty: bool,
    rank_generation: u64,
    finder_generation: u64,
    effects: Vec<Effect>,
    /// The evaluation screen to go back to from a pair's breakdown.
    eval_return: Option<Overlay>,
    eval_generation: u64,
    b_rank_generation: u64,
    train_generation: u64,
    /// The mismatch notice, held back while the user is typing: a notice
    /// that pops up under the fingers would take the next keys (`q`
    /// quits, `r` retrains).
    pending_notice: Option<Overlay>,
    /// True once any key reached `update`.
    keys_seen: bool,
}

/// Largest `k` the explorer asks for.
pub const MAX_K: usize = 200;

impl App {
    /// A new explorer on a loaded catalogue and a model. If the model was
    /// trained on another catalogue the mismatch notice opens first.
    pub fn new(catalog: Arc<Catalog>, model: Arc<Model>, theme: Theme) -> App {
        let mut app = App::with_catalog(CatalogState::Ready(catalog), model, theme);
        app.check_fingerprint();
        app
    }

    /// A new explorer that draws from the model at once and asks for the
    /// catalogue to be read on a worker ([`Effect::LoadCatalog`]); it
    /// arrives as [`Action::CatalogLoaded`].
    pub fn loading(
        catalog_path: PathBuf,
        options: CatalogOptions,
        model: Arc<Model>,
        theme: Theme,
    ) -> App {
        let mut app = App::with_catalog(
            CatalogState::Loading {
                path: catalog_path.clone(),
            },
            model,
            theme,
        );
        app.effects.push(Effect::LoadCatalog {
            path: catalog_path,
            options,
        });
        app
    }

    fn with_catalog(catalog: CatalogState, model: Arc<Model>, theme: Theme) -> App {
        App {
            catalog,
            draft: model.config.clone(),
            picker_model: model.clone(),
            model,
            model_path: None,
            model_unsaved: false,
            b: None,
            ab_view: false,
            ab: AbState::default(),
            training: None,
            theme,
            focus: Focus::Query,
            input: LineInput::default(),
            query: None,
            k: 20,
            ranking: None,
            ranking_error: None,
            selected: 0,
            breakdown_scroll: 0,
            finder: None,
            overlay: None,
            store: None,
            scale: GradeScale::default(),
            analyst: crate::labels::default_analyst(),
            blind: false,
            queue: None,
            status: "type a query, or press Esc then f to find an item".into(),
            last_millis: None,
            job: None,
            keyword_index_ready: false,
            size: (80, 24),
            should_quit: false,
            dirty: true,
            rank_generation: 0,
            finder_generation: 0,
            effects: Vec::new(),
            eval_return: None,
            eval_generation: 0,
            b_rank_generation: 0,
            train_generation: 0,
            pending_notice: None,
            keys_seen: false,
        }
    }

    /// Opens the mismatch notice when the loaded catalogue is not the one
    /// the model was trained on (held back while the user types).
    fn check_fingerprint(&mut self) {
        let Some(catalog) = self.catalog.ready() else {
            return;
        };
        let m = &self.model.meta;
        if m.catalog_fingerprint != catalog.fingerprint {
            let notice = Overlay::Mismatch {
                message: format!(
                    "The model {} was trained on a different catalogue ({}, sha256 {}...) than the one loaded ({}, sha256 {}...). \
                     Neighbours and scores may refer to items that changed or no longer exist.",
                    m.model_id,
                    m.catalog_file,
                    m.catalog_fingerprint.get(..12).unwrap_or(""),
                    catalog.path.display(),
                    catalog.fingerprint.get(..12).unwrap_or(""),
                ),
            };
            if self.can_interrupt() {
                self.overlay = Some(notice);
            } else {
                self.pending_notice = Some(notice);
                self.status = "model and catalogue do not match: the notice opens when you leave the input (Esc)".into();
            }
        }
    }

    /// True when a notice may open without taking keys meant for
    /// something else: before the first key, or in the panes with nothing
    /// open.
    fn can_interrupt(&self) -> bool {
        !self.keys_seen || matches!(self.mode(), Mode::Normal | Mode::Compare)
    }

    /// The catalogue worker finished.
    fn catalog_loaded(&mut self, result: Result<Arc<Catalog>, String>) {
        let path = self.catalog.path().to_path_buf();
        match result {
            Ok(catalog) => {
                self.catalog = CatalogState::Ready(catalog);
                self.check_fingerprint();
                // A keyword search opened while loading can start now.
                if self
                    .finder
                    .as_ref()
                    .is_some_and(|f| f.kind == FinderKind::Keyword)
                    && !self.keyword_index_ready
                {
                    self.effects.push(Effect::BuildKeywordIndex);
                }
            }
            Err(error) => {
                self.status = format!(
                    "catalogue NOT loaded: {error} (neighbours still work from the model; details, keyword search and retraining need the catalogue)"
                );
                self.catalog = CatalogState::Failed { path, error };
            }
        }
    }

    /// Installs a retrained model A (it exists only in memory until
    /// saved) and re-runs the current query.
    pub fn install_model(&mut self, model: Arc<Model>) {
        self.model = model;
        self.model_unsaved = true;
        self.draft = self.model.config.clone();
        if let Some(Overlay::Mismatch { .. }) = self.overlay {
            self.overlay = None;
        }
        // Trained on the loaded catalogue: a held-back notice is moot.
        self.pending_notice = None;
        self.rerank();
        self.dirty = true;
    }

    /// Takes the effects requested since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// The key-map mode the app is in.
    pub fn mode(&self) -> Mode {
        match (&self.overlay, &self.finder) {
            (Some(Overlay::Mismatch { .. }), _) => Mode::Notice,
            (Some(Overlay::Evaluation(_)), _) => Mode::Evaluation,
            (Some(Overlay::Options(p)), _) if p.editing.is_some() => Mode::Edit,
            (Some(Overlay::Options(_)), _) => Mode::Options,
            (Some(Overlay::SavePrompt { .. }), _) => Mode::Edit,
            (Some(Overlay::Confirm(_)), _) => Mode::Confirm,
            (Some(_), _) => Mode::Overlay,
            (None, Some(_)) => Mode::Finder,
            (None, None) if self.focus == Focus::Query => Mode::Query,
            _ if self.ab_view && self.b.is_some() => Mode::Compare,
            _ => Mode::Normal,
        }
    }

    /// The selected neighbour's item, if any.
    pub fn selected_item(&self) -> Option<u32> {
        self.ranking
            .as_ref()
            .and_then(|r| r.results.get(self.selected))
            .map(|n| n.item)
    }

    /// The judged grade of an item for the current query.
    pub fn label_of(&self, item_id: &str) -> Option<i32> {
        let q = self.query.as_ref()?;
        self.store.as_ref()?.grade(q, item_id)
    }

    /// (judged, shown) neighbours of the current query.
    pub fn judged_counts(&self) -> (usize, usize) {
        let Some(r) = &self.ranking else {
            return (0, 0);
        };
        let judged = r
            .results
            .iter()
            .filter(|n| self.label_of(&n.item_id).is_some())
            .count();
        (judged, r.results.len())
    }

    /// Starts a labelling queue at its first query.
    pub fn set_queue(&mut self, queries: Vec<Query>) {
        if queries.is_empty() {
            return;
        }
        self.queue = Some(Queue { queries, pos: 0 });
        self.go_to_queue(0);
    }

    fn go_to_queue(&mut self, pos: usize) {
        let Some(queue) = &mut self.queue else {
            self.status = "no queue: start with --queue FILE or --sample N".into();
            return;
        };
        queue.pos = pos.min(queue.queries.len().saturating_sub(1));
        let (query, at, len) = (
            queue.queries[queue.pos].clone(),
            queue.pos + 1,
            queue.queries.len(),
        );
        match &query {
            Query::Item(id) => match self.model.find_item(id) {
                Some(item) => self.set_item_query(item),
                None => {
                    self.status = format!("queue {at}/{len}: item {id} is not in the model");
                    return;
                }
            },
            Query::Text(t) => {
                self.input.set(t);
                self.set_text_query();
                self.focus = Focus::Neighbours;
            }
        }
        self.selected = 0;
        self.status = format!("queue {at}/{len}");
    }

    fn grade(&mut self, grade: i32) {
        if grade > self.scale.max() {
            self.status = format!(
                "grade {grade} is outside the scale 0-{} ({})",
                self.scale.max(),
                self.scale.names.join(", ")
            );
            return;
        }
        // In the A/B view the row's own model is the provenance: B for
        // B's neighbours, A for the rows B dropped.
        let ab = self.ab_view && self.b.is_some();
        let target = if ab {
            self.ab_grade_target()
        } else {
            self.ranking
                .as_ref()
                .and_then(|r| r.results.get(self.selected))
                .map(|n| {
                    (
                        n.item_id.clone(),
                        self.model.meta.model_id.clone(),
                        n.rank,
                        n.score,
                    )
                })
        };
        let title = target
            .as_ref()
            .map(|t| self.title_of(&t.0))
            .unwrap_or_default();
        let Some(store) = &mut self.store else {
            self.status =
                "labelling needs a judgements file: prodsim tui ... --judgements FILE".into();
            return;
        };
        let (Some(query), Some((item_id, model, rank, score))) = (self.query.clone(), target)
        else {
            self.status = "select a neighbour to grade".into();
            return;
        };
        let prov = Provenance {
            analyst: self.analyst.clone(),
            model,
            rank: Some(rank),
            score: Some(score),
        };
        match store.set(&query, &item_id, grade, prov) {
            Ok(()) => {
                self.status = format!(
                    "#{rank} {} = {} ({grade})",
                    title.chars().take(40).collect::<String>(),
                    self.scale.name(grade)
                );
                self.labels_changed();
                if ab {
                    self.next_unjudged_b(false);
                } else {
                    self.next_unjudged(false);
                }
            }
            Err(e) => self.status = format!("label NOT saved: {e}"),
        }
    }

    /// The title of an item id under A, else B, else the id.
    pub fn title_of(&self, item_id: &str) -> String {
        let from = |m: &Model| m.find_item(item_id).map(|i| m.title(i).to_string());
        from(&self.model)
            .or_else(|| self.b.as_ref().and_then(|b| from(&b.model)))
            .unwrap_or_else(|| item_id.to_string())
    }

    /// Labels changed: A/B metrics computed before are out of date.
    fn labels_changed(&mut self) {
        if let Pending::Ready(_) = self.ab.eval {
            self.ab.eval_stale = true;
        }
    }

    /// Moves to the next neighbour without a label (wrapping); with
    /// `report`, says so when every neighbour is judged.
    fn next_unjudged(&mut self, report: bool) {
        let Some(r) = &self.ranking else { return };
        let n = r.results.len();
        if n == 0 {
            return;
        }
        let next = (1..=n)
            .map(|d| (self.selected + d) % n)
            .find(|&i| self.label_of(&r.results[i].item_id).is_none());
        match next {
            Some(i) => {
                self.selected = i;
                self.breakdown_scroll = 0;
            }
            None if report => self.status = format!("all {n} neighbours are judged"),
            None => {}
        }
    }

    fn open_evaluation(&mut self) {
        let Some(store) = &self.store else {
            self.status = "evaluation needs judgements: prodsim tui ... --judgements FILE".into();
            return;
        };
        let judgements = store.to_judgements();
        if judgements.rows.is_empty() {
            self.status = "no judgements yet: grade some neighbours first (0-9, y/n)".into();
            return;
        }
        // Ranking every judged query takes a moment on big sets: a worker
        // does it and the screen opens when the numbers are in.
        self.eval_generation += 1;
        self.status = format!("evaluating {} judgements...", judgements.rows.len());
        self.effects.push(Effect::Evaluate {
            generation: self.eval_generation,
            judgements,
        });
    }

    /// Opens the evaluation screen on finished numbers.
    fn show_evaluation(&mut self, report: EvalReport, pairs: Vec<PairScore>) {
        let disagreements = crate::eval::disagreements(&pairs);
        let threshold = pairs.iter().map(|p| p.score).fold(0.0, f64::max) / 2.0;
        let mut view = EvalView {
            report,
            pairs,
            disagreements,
            tab: EvalTab::Queries,
            sort: 0,
            order: Vec::new(),
            selected: 0,
            threshold,
        };
        view.sort = view
            .report
            .metrics
            .0
            .iter()
            .position(|m| m.0 == "mrr")
            .unwrap_or(0);
        view.sort_queries();
        self.overlay = Some(Overlay::Evaluation(Box::new(view)));
    }

    fn evaluation_command(&mut self, cmd: Command) {
        let page = self.page();
        let Some(Overlay::Evaluation(view)) = &mut self.overlay else {
            return;
        };
        let max_score = view
            .pairs
            .iter()
            .map(|p| p.score)
            .fold(0.0, f64::max)
            .max(1e-9);
        let last = view.rows().saturating_sub(1);
        match cmd {
            Command::NextTab => {
                view.tab = match view.tab {
                    EvalTab::Queries => EvalTab::Disagreements,
                    EvalTab::Disagreements => EvalTab::Scores,
                    EvalTab::Scores => EvalTab::Queries,
                };
                view.selected = 0;
            }
            Command::SortNext => {
                view.sort = (view.sort + 1) % view.report.metrics.0.len().max(1);
                view.sort_queries();
                view.selected = 0;
            }
            Command::ThresholdUp => {
                view.threshold = (view.threshold + max_score / 50.0).min(max_score)
            }
            Command::ThresholdDown => view.threshold = (view.threshold - max_score / 50.0).max(0.0),
            Command::Down => view.selected = (view.selected + 1).min(last),
            Command::Up => view.selected = view.selected.saturating_sub(1),
            Command::PageDown => view.selected = (view.selected + page).min(last),
            Command::PageUp => view.selected = view.selected.saturating_sub(page),
            Command::Confirm => match view.tab {
                EvalTab::Queries => {
                    let Some(q) = view
                        .order
                        .get(view.selected)
                        .map(|&i| &view.report.per_query[i])
                    else {
                        return;
                    };
                    let query = match q.query_kind {
                        "item" => Query::Item(q.query.clone()),
                        _ => Query::Text(q.query.clone()),
                    };
                    self.overlay = None;
                    self.open_query(query);
                }
                EvalTab::Disagreements => {
                    let Some(pair) = view
                        .disagreements
                        .get(view.selected)
                        .map(|&i| view.pairs[i].clone())
                    else {
                        return;
                    };
                    let rows = match (
                        crate::rank::encode(&self.model, &pair.query),
                        self.model.find_item(&pair.item_id),
                    ) {
                        (Ok((qv, _)), Some(item)) => crate::rank::breakdown(&self.model, &qv, item),
                        _ => Vec::new(),
                    };
                    // Keep the evaluation screen to return to after the pair.
                    self.eval_return = self.overlay.take();
                    self.overlay = Some(Overlay::Pair {
                        pair: Box::new(pair),
                        rows,
                        scroll: 0,
                    });
                }
                EvalTab::Scores => {}
            },
            _ => {}
        }
    }

    /// The text the trace shows: the typed query, or the item's title.
    fn query_text(&self) -> String {
        match &self.query {
            Some(Query::Text(t)) => t.clone(),
            Some(Query::Item(id)) => self
                .model
                .find_item(id)
                .map(|i| self.model.title(i).to_string())
                .unwrap_or_default(),
            None => self.input.text.clone(),
        }
    }

    /// Asks a yes/no question over whatever is open; "no" returns to it.
    fn ask(&mut self, text: String, on_yes: Confirmable) {
        let back = self.overlay.take();
        self.overlay = Some(Overlay::Confirm(Box::new(Question { text, on_yes, back })));
    }

    fn confirm_command(&mut self, cmd: Command) {
        let Some(Overlay::Confirm(q)) = self.overlay.take() else {
            return;
        };
        match cmd {
            Command::Yes => match q.on_yes {
                Confirmable::Quit => self.should_quit = true,
                Confirmable::DiscardB => self.discard_b(),
                Confirmable::Overwrite(path) => self.start_save(path),
                Confirmable::RetrainOverB => {
                    self.overlay = q.back;
                    self.start_retrain_b(true);
                }
            },
            // Ctrl-c twice quits, whatever is unsaved.
            Command::Quit => self.should_quit = true,
            Command::No | Command::Back => {
                self.overlay = q.back;
                self.status = "cancelled".into();
            }
            _ => self.overlay = Some(Overlay::Confirm(q)),
        }
    }

    fn edit_command(&mut self, cmd: Command) {
        match self.overlay {
            Some(Overlay::Options(_)) => self.option_edit_command(cmd),
            Some(Overlay::SavePrompt { .. }) => self.save_prompt_command(cmd),
            _ => {}
        }
    }

    fn open_query(&mut self, query: Query) {
        match &query {
            Query::Item(id) => {
                if let Some(item) = self.model.find_item(id) {
                    self.set_item_query(item);
                }
            }
            Query::Text(t) => {
                self.input.set(t);
                self.set_text_query();
                self.focus = Focus::Neighbours;
                self.selected = 0;
            }
        }
    }

    fn export(&mut self) {
        let Some(store) = &self.store else {
            self.status = "nothing to export: no judgements file".into();
            return;
        };
        self.status = match crate::labels::export_beside(store) {
            Ok(msg) => msg,
            Err(e) => format!("export failed: {e}"),
        };
    }

    fn rerank(&mut self) {
        match &self.query {
            Some(q) => {
                self.rank_generation += 1;
                self.effects.push(Effect::Rank {
                    side: Side::A,
                    generation: self.rank_generation,
                    query: q.clone(),
                    k: self.k,
                });
            }
            None => {
                self.rank_generation += 1;
                self.ranking = None;
                self.ranking_error = None;
            }
        }
        self.rerank_b();
    }

    /// A new query: the A/B view starts at its first row.
    fn query_changed(&mut self) {
        self.ab.selected = 0;
        self.ab.selected_id = None;
        self.ab.scroll = 0;
    }

    fn set_text_query(&mut self) {
        self.query_changed();
        let text = self.input.text.trim();
        self.query = if text.is_empty() {
            None
        } else {
            Some(Query::Text(self.input.text.clone()))
        };
        self.rerank();
    }

    fn set_item_query(&mut self, item: u32) {
        self.query_changed();
        let id = self.model.item_id(item).to_string();
        self.input.set(self.model.title(item));
        self.query = Some(Query::Item(id));
        self.selected = 0;
        self.breakdown_scroll = 0;
        self.focus = Focus::Neighbours;
        self.status = format!("item query: {}", self.model.title(item));
        self.rerank();
    }

    fn open_finder(&mut self, kind: FinderKind) {
        self.finder_generation += 1;
        self.finder = Some(Finder {
            kind,
            input: LineInput::default(),
            items: Vec::new(),
            total: 0,
            selected: 0,
            generation: self.finder_generation,
            done: false,
            error: None,
            millis: 0.0,
        });
        match kind {
            FinderKind::Fuzzy => self.effects.push(Effect::Fuzzy {
                generation: self.finder_generation,
                pattern: String::new(),
            }),
            // The index is built from the catalogue: while it loads the
            // finder says so and the build starts when it arrives.
            FinderKind::Keyword => {
                if self.catalog.ready().is_some() && !self.keyword_index_ready {
                    self.effects.push(Effect::BuildKeywordIndex);
                }
            }
        }
    }

    fn refresh_finder(&mut self) {
        self.finder_generation += 1;
        let generation = self.finder_generation;
        if let Some(f) = &mut self.finder {
            f.generation = generation;
            f.selected = 0;
            f.done = false;
            f.error = None;
            let pattern = f.input.text.clone();
            match f.kind {
                FinderKind::Fuzzy => self.effects.push(Effect::Fuzzy {
                    generation,
                    pattern,
                }),
                FinderKind::Keyword if pattern.trim().is_empty() => {
                    f.items.clear();
                    f.total = 0;
                    f.done = true;
                }
                FinderKind::Keyword => {
                    if self.keyword_index_ready {
                        self.effects.push(Effect::Keyword {
                            generation,
                            query: pattern,
                        });
                    }
                }
            }
        }
    }

    fn page(&self) -> usize {
        (self.size.1 as usize / 2).max(3)
    }

    fn move_selection(&mut self, cmd: Command) {
        let page = self.page();
        let clamp = |pos: usize, len: usize| pos.min(len.saturating_sub(1));
        let step = |pos: usize, len: usize| -> usize {
            match cmd {
                Command::Down => clamp(pos + 1, len),
                Command::Up => pos.saturating_sub(1),
                Command::PageDown => clamp(pos + page, len),
                Command::PageUp => pos.saturating_sub(page),
                Command::Top => 0,
                Command::Bottom => len.saturating_sub(1),
                _ => pos,
            }
        };
        if let Some(overlay) = &mut self.overlay {
            let scroll = match overlay {
                Overlay::Help { scroll }
                | Overlay::Details { scroll, .. }
                | Overlay::Trace { scroll, .. }
                | Overlay::Pair { scroll, .. }
                | Overlay::AbTrace { scroll, .. }
                | Overlay::AbMetrics { scroll } => scroll,
                Overlay::Options(panel) => {
                    panel.selected = step(panel.selected, panel.rows.len());
                    return;
                }
                Overlay::Mismatch { .. }
                | Overlay::Evaluation(_)
                | Overlay::SavePrompt { .. }
                | Overlay::Confirm(_) => return,
            };
            *scroll = step(*scroll, 1000);
            return;
        }
        if let Some(f) = &mut self.finder {
            f.selected = step(f.selected, f.items.len());
            return;
        }
        if self.ab_view && self.b.is_some() {
            match self.focus {
                Focus::Breakdown => {
                    let len = self.ab.detail.as_ref().map_or(0, |d| d.tokens.len());
                    self.ab.scroll = step(self.ab.scroll, len);
                }
                _ => {
                    let row = step(self.ab.selected, self.ab.rows.len());
                    self.select_ab(row);
                }
            }
            return;
        }
        match self.focus {
            Focus::Breakdown => {
                let len = self
                    .ranking
                    .as_ref()
                    .and_then(|r| r.results.get(self.selected))
                    .and_then(|n| n.breakdown.as_ref())
                    .map_or(0, Vec::len);
                self.breakdown_scroll = step(self.breakdown_scroll, len);
            }
            _ => {
                let len = self.ranking.as_ref().map_or(0, |r| r.results.len());
                let before = self.selected;
                self.selected = step(self.selected, len);
                if self.selected != before {
                    self.breakdown_scroll = 0;
                }
            }
        }
    }

    /// The only state transition.
    pub fn update(&mut self, action: Action) {
        if matches!(action, Action::Command(_) | Action::Input(_)) {
            self.keys_seen = true;
        }
        self.apply(action);
        if self.pending_notice.is_some() && self.overlay.is_none() && self.can_interrupt() {
            self.overlay = self.pending_notice.take();
            self.dirty = true;
        }
    }

    fn apply(&mut self, action: Action) {
        self.dirty = true;
        match action {
            Action::Command(cmd) => self.command(cmd),
            Action::Input(c) => self.input_char(c),
            Action::CatalogLoaded(result) => self.catalog_loaded(result.map(|c| c.catalog)),
            Action::Resize(w, h) => self.size = (w, h),
            Action::RankingReady {
                side: Side::A,
                generation,
                result,
                millis,
            } => {
                if generation != self.rank_generation {
                    self.dirty = false; // stale: a newer query is on its way
                    return;
                }
                self.last_millis = Some(millis);
                match result {
                    Ok(r) => {
                        self.selected = self.selected.min(r.results.len().saturating_sub(1));
                        self.ranking = Some(r);
                        self.ranking_error = None;
                    }
                    Err(e) => {
                        self.ranking = None;
                        self.ranking_error = Some(e);
                    }
                }
                self.refresh_ab();
            }
            Action::RankingReady {
                side: Side::B,
                generation,
                result,
                ..
            } => {
                let Some(b) = self.b.as_mut() else {
                    self.dirty = false;
                    return;
                };
                if generation != self.b_rank_generation {
                    self.dirty = false;
                    return;
                }
                match result {
                    Ok(r) => {
                        b.ranking = Some(r);
                        b.ranking_error = None;
                    }
                    Err(e) => {
                        b.ranking = None;
                        b.ranking_error = Some(e);
                    }
                }
                self.refresh_ab();
            }
            Action::PickerReady {
                generation,
                items,
                total,
                done,
                millis,
            } => match &mut self.finder {
                Some(f) if f.generation == generation && f.kind == FinderKind::Fuzzy => {
                    // The picker indexed `picker_model`'s titles; the
                    // finder speaks model A's item numbers (same ids).
                    let (picked, model) = (&self.picker_model, &self.model);
                    let same = Arc::ptr_eq(picked, model);
                    f.items = items
                        .into_iter()
                        .filter_map(|(i, s)| {
                            let item = if same {
                                Some(i)
                            } else {
                                model.find_item(picked.item_id(i))
                            };
                            item.map(|item| (item, s as f64))
                        })
                        .collect();
                    f.total = total;
                    f.done = done;
                    f.millis = millis;
                    f.selected = f.selected.min(f.items.len().saturating_sub(1));
                }
                _ => self.dirty = false,
            },
            Action::KeywordReady {
                generation,
                result,
                millis,
            } => match &mut self.finder {
                Some(f) if f.generation == generation && f.kind == FinderKind::Keyword => {
                    f.done = true;
                    f.millis = millis;
                    match result {
                        Ok(hits) => {
                            let model = &self.model;
                            // Hits are catalogue rows: the index was built
                            // from the loaded catalogue.
                            let catalog = self.catalog.ready();
                            f.items = hits
                                .into_iter()
                                .filter_map(|(row, score)| {
                                    let id = catalog?.id(row as usize);
                                    model.find_item(id).map(|i| (i, score as f64))
                                })
                                .collect();
                            f.total = f.items.len();
                            f.error = None;
                        }
                        Err(e) => {
                            f.items.clear();
                            f.total = 0;
                            f.error = Some(e);
                        }
                    }
                    f.selected = f.selected.min(f.items.len().saturating_sub(1));
                }
                _ => self.dirty = false,
            },
            Action::JobProgress {
                job,
                stage,
                done,
                total,
            } => {
                self.job = Some(JobStatus {
                    job,
                    stage,
                    done,
                    total,
                })
            }
            Action::KeywordIndexReady(result) => {
                self.job = None;
                match result {
                    Ok(()) => {
                        self.keyword_index_ready = true;
                        self.status = "keyword index ready".into();
                        if self
                            .finder
                            .as_ref()
                            .is_some_and(|f| f.kind == FinderKind::Keyword)
                        {
                            self.refresh_finder();
                        }
                    }
                    Err(e) => self.status = format!("keyword index failed: {e}"),
                }
            }
            Action::EvaluationReady {
                generation,
                result,
                millis,
            } => {
                if generation != self.eval_generation {
                    self.dirty = false;
                    return;
                }
                match result {
                    Ok(done) => {
                        self.status = format!("evaluated in {:.0} ms", millis);
                        let (report, pairs) = *done;
                        self.show_evaluation(report, pairs);
                    }
                    Err(e) => self.status = format!("evaluation failed: {e}"),
                }
            }
            Action::TrainProgress {
                generation,
                stage,
                done,
                total,
                elapsed_ms,
            } => match &mut self.training {
                Some(job) if job.generation == generation => {
                    job.stage = stage;
                    job.done = done;
                    job.total = total;
                    job.elapsed_ms = elapsed_ms;
                }
                _ => self.dirty = false,
            },
            Action::TrainDone { generation, result } => {
                let Some(job) = self.training.take_if(|j| j.generation == generation) else {
                    self.dirty = false; // cancelled: nobody waits for it
                    return;
                };
                match (job.target, result) {
                    (Side::A, Ok(trained)) => {
                        let id = trained.model.meta.model_id.clone();
                        self.install_model(trained.model);
                        self.status = format!(
                            "retrained model {id} in {:.2} s (not saved; use prodsim train to keep it)",
                            trained.seconds
                        );
                    }
                    (Side::B, Ok(trained)) => self.install_b(trained, job.changes),
                    (_, Err(e)) => self.status = format!("retraining failed: {e}"),
                }
            }
            Action::AbOverlapReady { generation, result } => {
                self.ab_overlap_ready(generation, result)
            }
            Action::AbEvaluationReady {
                generation,
                result,
                millis,
            } => self.ab_evaluation_ready(generation, result, millis),
            Action::Saved {
                side,
                model_id,
                result,
            } => match result {
                Ok((path, bytes)) => {
                    // A swap may have happened meanwhile: the id decides.
                    let a_matches = self.model.meta.model_id == model_id;
                    let b_matches = self
                        .b
                        .as_ref()
                        .is_some_and(|b| b.model.meta.model_id == model_id);
                    let on_a = a_matches && (side == Side::A || !b_matches);
                    let name = if on_a {
                        self.model_path = Some(path.clone());
                        self.model_unsaved = false;
                        "A"
                    } else if let Some(b) = self.b.as_mut().filter(|_| b_matches) {
                        b.path = Some(path.clone());
                        b.unsaved = false;
                        "B"
                    } else {
                        "the model"
                    };
                    self.status = format!(
                        "saved model {name} ({model_id}) to {} ({:.1} MB)",
                        path.display(),
                        bytes as f64 / 1e6
                    );
                }
                Err(e) => self.status = format!("model {model_id} NOT saved: {e}"),
            },
        }
    }

    fn input_char(&mut self, c: char) {
        match &mut self.overlay {
            Some(Overlay::Options(panel)) => {
                if let Some(input) = &mut panel.editing {
                    input.insert(c);
                }
                return;
            }
            Some(Overlay::SavePrompt { input, error }) => {
                input.insert(c);
                *error = None;
                return;
            }
            _ => {}
        }
        if let Some(f) = &mut self.finder {
            f.input.insert(c);
            self.refresh_finder();
            return;
        }
        if self.overlay.is_none() && self.focus == Focus::Query {
            self.input.insert(c);
            self.selected = 0;
            self.breakdown_scroll = 0;
            self.set_text_query();
        }
    }

    fn command(&mut self, cmd: Command) {
        use Command as C;
        match self.mode() {
            Mode::Evaluation if cmd != C::Back && cmd != C::Quit => {
                self.evaluation_command(cmd);
                return;
            }
            Mode::Options if self.options_command(cmd) => return,
            Mode::Edit if cmd != C::Quit => {
                self.edit_command(cmd);
                return;
            }
            Mode::Confirm => {
                self.confirm_command(cmd);
                return;
            }
            _ => {}
        }
        let ab = self.ab_view && self.b.is_some();
        match cmd {
            C::Quit => {
                let unsaved = self.unsaved_models();
                if unsaved.is_empty() {
                    self.should_quit = true;
                } else {
                    let which = unsaved.join(" and ");
                    let how = if unsaved.contains(&"B") {
                        "S saves B"
                    } else {
                        "W swaps it into B, then S saves it"
                    };
                    self.ask(
                        format!(
                            "Model {which} was trained here and is not saved. Quit anyway and lose it? ({how})"
                        ),
                        Confirmable::Quit,
                    );
                }
            }
            C::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            C::Back => {
                // Close the innermost thing open: overlay, finder, then toggle
                // between the query line and the panes.
                if let Some(Overlay::Pair { .. }) = self.overlay
                    && let Some(back) = self.eval_return.take()
                {
                    self.overlay = Some(back);
                    return;
                }
                let closed = self.overlay.take().is_some() || self.finder.take().is_some();
                if !closed {
                    self.focus = if self.focus == Focus::Query {
                        Focus::Neighbours
                    } else {
                        Focus::Query
                    };
                }
            }
            C::EditQuery => {
                self.focus = Focus::Query;
                if let Some(Query::Item(_)) = self.query {
                    // Start from the item's title so it can be edited into a text query.
                    self.set_text_query();
                }
            }
            C::PickItem => self.open_finder(FinderKind::Fuzzy),
            C::KeywordSearch => self.open_finder(FinderKind::Keyword),
            C::Confirm if ab && self.finder.is_none() => {
                let Some(id) = self.ab.selected_id.clone() else {
                    return;
                };
                match self.model.find_item(&id) {
                    Some(item) => self.set_item_query(item),
                    None => self.status = format!("{id} is not in model A"),
                }
            }
            C::Confirm => {
                if let Some(f) = &self.finder {
                    if let Some(&(item, _)) = f.items.get(f.selected) {
                        self.finder = None;
                        self.set_item_query(item);
                    }
                } else if let Some(item) = self.selected_item() {
                    self.set_item_query(item);
                }
            }
            C::Up | C::Down | C::PageUp | C::PageDown | C::Top | C::Bottom => {
                self.move_selection(cmd)
            }
            C::NextPane | C::PrevPane => {
                let order = [Focus::Query, Focus::Neighbours, Focus::Breakdown];
                let i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
                let next = if cmd == C::NextPane {
                    (i + 1) % 3
                } else {
                    (i + 2) % 3
                };
                self.focus = order[next];
            }
            C::Details if ab => {
                let item = self
                    .ab
                    .selected_id
                    .as_deref()
                    .and_then(|id| self.model.find_item(id));
                if let Some(item) = item {
                    self.overlay = Some(Overlay::Details { item, scroll: 0 });
                }
            }
            C::Details => {
                if let Some(item) = self.selected_item() {
                    self.overlay = Some(Overlay::Details { item, scroll: 0 });
                }
            }
            C::Trace if ab => self.open_ab_trace(),
            C::Trace => {
                let text = self.query_text();
                let stages = self.model.analyzer().trace(&text);
                self.overlay = Some(Overlay::Trace { stages, scroll: 0 });
            }
            C::MoreNeighbours | C::FewerNeighbours => {
                self.k = if cmd == C::MoreNeighbours {
                    (self.k + 10).min(MAX_K)
                } else {
                    self.k.saturating_sub(10).max(5)
                };
                self.status = format!("k = {}", self.k);
                self.rerank();
                // The overlap figures are "at k".
                self.start_ab_overlap();
            }
            C::Grade(g) => {
                if self.scale.binary {
                    self.status = "binary scale: grade with y / n".into();
                } else {
                    self.grade(i32::from(g));
                }
            }
            C::GradeYes | C::GradeNo => {
                if self.scale.binary {
                    self.grade(i32::from(cmd == C::GradeYes));
                } else {
                    self.status = format!(
                        "grade with 0-{} ({})",
                        self.scale.max(),
                        self.scale.names.join(", ")
                    );
                }
            }
            C::Undo | C::Redo => {
                let Some(store) = &mut self.store else {
                    self.status = "nothing to undo: no judgements file".into();
                    return;
                };
                let result = if cmd == C::Undo {
                    store.undo()
                } else {
                    store.redo()
                };
                if let Ok(Some(_)) = result {
                    self.labels_changed();
                }
                self.status = match (cmd, result) {
                    (_, Ok(None)) => format!(
                        "nothing to {}",
                        if cmd == C::Undo { "undo" } else { "redo" }
                    ),
                    (C::Undo, Ok(Some((_, id)))) => format!("undid the label of {id}"),
                    (_, Ok(Some((_, id)))) => format!("redid the label of {id}"),
                    (_, Err(e)) => format!("undo/redo failed: {e}"),
                };
            }
            C::NextUnjudged if ab => self.next_unjudged_b(true),
            C::NextUnjudged => self.next_unjudged(true),
            C::ToggleBlind => {
                self.blind = !self.blind;
                self.status = if self.blind {
                    "blind mode: scores hidden"
                } else {
                    "scores shown"
                }
                .into();
            }
            C::NextQuery | C::PrevQuery => {
                let pos = self.queue.as_ref().map_or(0, |q| q.pos);
                let pos = if cmd == C::NextQuery {
                    pos + 1
                } else {
                    pos.saturating_sub(1)
                };
                self.go_to_queue(pos);
            }
            C::Evaluate => self.open_evaluation(),
            C::Export => self.export(),
            C::NextTab | C::SortNext | C::ThresholdUp | C::ThresholdDown => {}
            C::Retrain => {
                // From the mismatch notice: model A, its own config, this catalogue.
                if let Some(why) = self.catalog.unavailable() {
                    self.status = format!("cannot retrain: {why}");
                    return;
                }
                self.overlay = None;
                let config = self.model.config.clone();
                self.start_training(config, Side::A, Vec::new());
                self.status = "retraining on the loaded catalogue...".into();
            }
            C::CancelRetrain => match self.training.take() {
                Some(job) => {
                    self.effects.push(Effect::CancelTrain {
                        generation: job.generation,
                    });
                    self.status = format!(
                        "retraining cancelled after {:.1} s",
                        job.elapsed_ms as f64 / 1e3
                    );
                }
                None => self.status = "nothing is being retrained".into(),
            },
            C::Options => self.open_options(),
            C::ToggleAb => {
                if self.b.is_none() {
                    self.status =
                        "no model B yet: o opens the options, r there retrains with them".into();
                } else {
                    self.ab_view = !self.ab_view;
                    if self.ab_view {
                        self.refresh_ab();
                    }
                }
            }
            C::AbMetrics => self.open_ab_metrics(),
            C::LabelUnjudgedB => self.queue_unjudged_b(),
            C::SaveB => self.open_save_prompt(),
            C::SwapAb => self.swap_ab(),
            C::DiscardB => match &self.b {
                None => self.status = "no model B to discard".into(),
                Some(b) if b.unsaved => {
                    let text = format!(
                        "Discard model B ({})? It is not saved.",
                        b.model.meta.model_id
                    );
                    self.ask(text, Confirmable::DiscardB);
                }
                Some(_) => self.discard_b(),
            },
            C::EditValue
            | C::ToggleValue
            | C::NextValue
            | C::PrevValue
            | C::ResetValue
            | C::ResetAll
            | C::Yes
            | C::No => {}
            C::DeleteBack
            | C::DeleteWord
            | C::ClearInput
            | C::CursorLeft
            | C::CursorRight
            | C::CursorHome
            | C::CursorEnd => {
                if let Some(f) = &mut self.finder {
                    if f.input.edit(cmd) {
                        self.refresh_finder();
                    }
                } else if self.focus == Focus::Query && self.input.edit(cmd) {
                    self.selected = 0;
                    self.set_text_query();
                }
            }
        }
    }
}
