//! The explorer's state and its one mutator, `App::update`. No terminal, no
//! threads here: slow work is requested through `Effect`s that the runtime
//! runs on workers, and their results come back as `Action`s.

use super::action::{Action, Command};
use super::keymap::Mode;
use super::theme::Theme;
use crate::catalog::Catalog;
use crate::model::Model;
use crate::rank::{Query, Ranking};
use crate::text::TraceStage;
use std::collections::HashMap;
use std::sync::Arc;

/// Work the runtime must start for the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Rank {
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
    Retrain,
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
#[derive(Debug, Clone, PartialEq)]
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
    pub catalog: Arc<Catalog>,
    pub model: Arc<Model>,
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
    /// Judged grades by (query kind, query, item id).
    pub labels: HashMap<(String, String, String), i32>,
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
}

/// Largest `k` the explorer asks for.
pub const MAX_K: usize = 200;

impl App {
    /// A new explorer on a catalogue and a model. If the model was trained on
    /// another catalogue the mismatch notice opens first.
    pub fn new(catalog: Arc<Catalog>, model: Arc<Model>, theme: Theme) -> App {
        let mut app = App {
            catalog,
            model,
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
            labels: HashMap::new(),
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
        };
        app.check_fingerprint();
        app
    }

    fn check_fingerprint(&mut self) {
        let m = &self.model.meta;
        if m.catalog_fingerprint != self.catalog.fingerprint {
            self.overlay = Some(Overlay::Mismatch {
                message: format!(
                    "The model {} was trained on a different catalogue ({}, sha256 {}...) than the one loaded ({}, sha256 {}...). \
                     Neighbours and scores may refer to items that changed or no longer exist.",
                    m.model_id,
                    m.catalog_file,
                    m.catalog_fingerprint.get(..12).unwrap_or(""),
                    self.catalog.path.display(),
                    self.catalog.fingerprint.get(..12).unwrap_or(""),
                ),
            });
        }
    }

    /// Installs a (re)trained model and re-runs the current query.
    pub fn install_model(&mut self, model: Arc<Model>) {
        self.model = model;
        self.overlay = None;
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
            (Some(_), _) => Mode::Overlay,
            (None, Some(_)) => Mode::Finder,
            (None, None) if self.focus == Focus::Query => Mode::Query,
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
        self.labels
            .get(&(
                q.kind().to_string(),
                q.value().to_string(),
                item_id.to_string(),
            ))
            .copied()
    }

    fn rerank(&mut self) {
        match &self.query {
            Some(q) => {
                self.rank_generation += 1;
                self.effects.push(Effect::Rank {
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
    }

    fn set_text_query(&mut self) {
        let text = self.input.text.trim();
        self.query = if text.is_empty() {
            None
        } else {
            Some(Query::Text(self.input.text.clone()))
        };
        self.rerank();
    }

    fn set_item_query(&mut self, item: u32) {
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
            FinderKind::Keyword => {
                if !self.keyword_index_ready {
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
                | Overlay::Trace { scroll, .. } => scroll,
                Overlay::Mismatch { .. } => return,
            };
            *scroll = step(*scroll, 1000);
            return;
        }
        if let Some(f) = &mut self.finder {
            f.selected = step(f.selected, f.items.len());
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
        self.dirty = true;
        match action {
            Action::Command(cmd) => self.command(cmd),
            Action::Input(c) => self.input_char(c),
            Action::Resize(w, h) => self.size = (w, h),
            Action::RankingReady {
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
            }
            Action::PickerReady {
                generation,
                items,
                total,
                done,
                millis,
            } => match &mut self.finder {
                Some(f) if f.generation == generation && f.kind == FinderKind::Fuzzy => {
                    f.items = items.into_iter().map(|(i, s)| (i, s as f64)).collect();
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
                            let catalog = &self.catalog;
                            f.items = hits
                                .into_iter()
                                .filter_map(|(row, score)| {
                                    model
                                        .find_item(catalog.id(row as usize))
                                        .map(|i| (i, score as f64))
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
            Action::RetrainDone(result) => {
                self.job = None;
                self.status = match result {
                    Ok(msg) => msg,
                    Err(e) => format!("retraining failed: {e}"),
                };
            }
        }
    }

    fn input_char(&mut self, c: char) {
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
        match cmd {
            C::Quit => self.should_quit = true,
            C::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            C::Back => {
                // Close the innermost thing open: overlay, finder, then toggle
                // between the query line and the panes.
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
            C::Details => {
                if let Some(item) = self.selected_item() {
                    self.overlay = Some(Overlay::Details { item, scroll: 0 });
                }
            }
            C::Trace => {
                let text = match &self.query {
                    Some(Query::Text(t)) => t.clone(),
                    Some(Query::Item(id)) => self
                        .model
                        .find_item(id)
                        .map(|i| self.model.title(i).to_string())
                        .unwrap_or_default(),
                    None => self.input.text.clone(),
                };
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
            }
            C::Retrain => {
                self.overlay = None;
                self.status = "retraining on the loaded catalogue...".into();
                self.effects.push(Effect::Retrain);
            }
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
