//! Everything the explorer can be asked to do: key presses become
//! `Action`s through the key map, worker results arrive as `Action`s too,
//! and `App::update` is the only place state changes.

use crate::rank::Ranking;
use serde::{Deserialize, Serialize};

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
    /// Retrain the model on the loaded catalogue (after a fingerprint mismatch).
    Retrain,
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

/// What `update` consumes.
#[derive(Debug, Clone)]
pub enum Action {
    Command(Command),
    /// A typed character for the active input line.
    Input(char),
    /// The terminal was resized.
    Resize(u16, u16),
    /// A ranking finished on the worker.
    RankingReady {
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
    /// Retraining finished: the new model is installed by the runtime.
    RetrainDone(Result<String, String>),
}
