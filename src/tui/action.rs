//! Everything the explorer can be asked to do: key presses become
//! `Action`s through the key map, worker results arrive as `Action`s too,
//! and `App::update` is the only place state changes.

use crate::ab::Overlap;
use crate::catalog::Catalog;
use crate::eval::EvalReport;
use crate::model::Model;
use crate::rank::{Query, Ranking};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// A user intent, named so the key map (data) can refer to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Quit,
    Help,
    /// Start typing a free-text query.
    EditQuery,
    /// Open the fuzzy item picker.
    PickItem,
    /// Open the keyword search over catalogue columns.
    KeywordSearch,
    /// Leave the current mode or overlay.
    Back,
    /// Confirm: pick the highlighted entry, or use the selected neighbour as the query.
    Confirm,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextPane,
    PrevPane,
    /// Show every catalogue column of the selected item.
    Details,
    /// Show the preprocessing trace of the current query.
    Trace,
    MoreNeighbours,
    FewerNeighbours,
    /// Retrain: on the mismatch notice, model A with its own config on the
    /// loaded catalogue; in the options panel, model B with the edited options.
    Retrain,
    /// Stop a running retraining.
    CancelRetrain,
    /// The options panel: the current model's preprocessing and weighting.
    Options,
    /// Options panel: edit the selected value in place.
    EditValue,
    /// Options panel: toggle a yes/no value.
    ToggleValue,
    /// Options panel: next / previous choice of an enumeration (or toggle).
    NextValue,
    PrevValue,
    /// Options panel: the selected option back to model A's value.
    ResetValue,
    /// Options panel: every option back to model A's values.
    ResetAll,
    /// Show or hide the A/B view (when a model B exists).
    ToggleAb,
    /// A/B metrics on the judgements: both models, difference, wins/losses.
    AbMetrics,
    /// Queue the judged queries whose B neighbours are not judged yet.
    LabelUnjudgedB,
    /// Save model B to a file.
    SaveB,
    /// Swap models A and B.
    SwapAb,
    /// Discard model B.
    DiscardB,
    /// Answers to a confirmation question.
    Yes,
    No,
    /// Grade the selected neighbour (0 = irrelevant, higher = more relevant).
    Grade(u8),
    /// Binary scale: relevant / not relevant.
    GradeYes,
    GradeNo,
    Undo,
    Redo,
    /// Move to the next neighbour without a label.
    NextUnjudged,
    /// Hide scores while judging.
    ToggleBlind,
    /// Next / previous query of the labelling queue.
    NextQuery,
    PrevQuery,
    /// The evaluation screen.
    Evaluate,
    /// Write qrels, topics and JSON Lines next to the judgements file.
    Export,
    /// Evaluation screen: next tab, sort order, threshold.
    NextTab,
    SortNext,
    ThresholdUp,
    ThresholdDown,
    /// Text editing in an input line.
    DeleteBack,
    DeleteWord,
    ClearInput,
    CursorLeft,
    CursorRight,
    CursorHome,
    CursorEnd,
}

/// Which of the two loaded models: A (the one opened) or B (retrained).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    A,
    B,
}

/// A model trained by a worker. The model is shared, not copied.
#[derive(Clone)]
pub struct Trained {
    pub model: Arc<Model>,
    pub seconds: f64,
}

impl std::fmt::Debug for Trained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trained")
            .field("model", &self.model.meta.model_id)
            .field("seconds", &self.seconds)
            .finish()
    }
}

/// A catalogue read by the worker, shared. Its `Debug` names the file and
/// the row count instead of printing every row.
#[derive(Clone)]
pub struct LoadedCatalog {
    pub catalog: Arc<Catalog>,
}

impl std::fmt::Debug for LoadedCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedCatalog")
            .field("path", &self.catalog.path)
            .field("rows", &self.catalog.len())
            .finish()
    }
}

/// Both models' evaluation on one snapshot of the judgements, and for each
/// judged query the neighbours of B (top k) nobody has judged yet.
#[derive(Debug, Clone)]
pub struct AbEvaluation {
    pub a: EvalReport,
    pub b: EvalReport,
    pub unjudged: Vec<(Query, Vec<String>)>,
}

/// What `update` consumes.
#[derive(Debug, Clone)]
pub enum Action {
    Command(Command),
    /// A typed character for the active input line.
    Input(char),
    /// The terminal was resized.
    Resize(u16, u16),
    /// The catalogue was read (or could not be: the message says why).
    CatalogLoaded(Result<LoadedCatalog, String>),
    /// A ranking finished on the worker (by model A or B).
    RankingReady {
        side: Side,
        generation: u64,
        result: Result<Ranking, String>,
        millis: f64,
    },
    /// Fuzzy picker results (partial while `done` is false).
    PickerReady {
        generation: u64,
        items: Vec<(u32, i64)>,
        total: usize,
        done: bool,
        millis: f64,
    },
    /// Keyword search results or an error message.
    KeywordReady {
        generation: u64,
        result: Result<Vec<(u32, f32)>, String>,
        millis: f64,
    },
    /// Progress of a background job (keyword index build, retraining).
    JobProgress {
        job: &'static str,
        stage: String,
        done: u64,
        total: u64,
    },
    /// The keyword index is ready (or failed to build).
    KeywordIndexReady(Result<(), String>),
    /// The evaluation screen's numbers are ready.
    EvaluationReady {
        generation: u64,
        result: Result<Box<(crate::eval::EvalReport, Vec<crate::eval::PairScore>)>, String>,
        millis: f64,
    },
    /// Progress of a retraining: stage, done/total, time since it started.
    TrainProgress {
        generation: u64,
        stage: String,
        done: u64,
        total: u64,
        elapsed_ms: u64,
    },
    /// A retraining finished (or failed; a cancelled one reports nothing
    /// the app still waits for).
    TrainDone {
        generation: u64,
        result: Result<Trained, String>,
    },
    /// Mean overlap of A's and B's neighbours over a query set, and its size.
    AbOverlapReady {
        generation: u64,
        result: Result<(Overlap, usize), String>,
    },
    /// Both models evaluated on the judgements.
    AbEvaluationReady {
        generation: u64,
        result: Result<Box<AbEvaluation>, String>,
        millis: f64,
    },
    /// A model was written to a file (path, bytes) or not.
    Saved {
        side: Side,
        model_id: String,
        result: Result<(PathBuf, u64), String>,
    },
}
