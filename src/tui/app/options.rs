//! The options panel: every preprocessing and weighting option of the
//! model config as an editable row, marked where it differs from model A.
//! Every change goes through [`ModelConfig::set`], the code path of
//! `prodsim train --set`, so the panel accepts and rejects exactly what the
//! command line does, with the same messages.

use super::{App, Confirmable, Effect, LineInput, Overlay, TrainJob};
use crate::model::ModelConfig;
use crate::text::STEMMER_LANGUAGES;
use crate::tui::action::{Command, Side};

/// Keys the panel leaves out: the id column names the items (A and B are
/// compared item by item, so it must not change), and the stopword list is
/// filled in from a stopwords file at training time.
const NOT_EDITABLE: &[&str] = &["id_column", "preprocess.stopword_list"];

/// How a value is changed besides typing it.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// true/false: Space or the arrows toggle.
    Bool,
    /// One of a few words: the arrows cycle.
    Choice(Vec<String>),
    /// Anything else: typed (Enter).
    Text,
}

/// One option as the panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionRow {
    /// Dotted key, as `--set` takes it.
    pub key: String,
    /// The edited value.
    pub value: String,
    /// Model A's value.
    pub a_value: String,
    pub changed: bool,
    pub kind: ValueKind,
    pub help: &'static str,
}

/// The panel's cursor, the value being edited and the last message.
#[derive(Debug, Clone)]
pub struct OptionsPanel {
    pub rows: Vec<OptionRow>,
    pub selected: usize,
    /// The value being typed, when editing in place.
    pub editing: Option<LineInput>,
    /// The last change, or why a value was refused (`error`).
    pub message: Option<String>,
    pub error: bool,
}

/// The keys the panel lists, in `ModelConfig::keys` order.
pub fn editable_keys() -> Vec<String> {
    ModelConfig::keys()
        .into_iter()
        .filter(|k| !NOT_EDITABLE.contains(&k.as_str()))
        .collect()
}

/// A config value by dotted key.
pub fn value_of(config: &ModelConfig, key: &str) -> Option<toml::Value> {
    let mut v = toml::Value::try_from(config).ok()?;
    for part in key.split('.') {
        v = v.as_table_mut()?.remove(part)?;
    }
    Some(v)
}

/// A value as the analyst types it: strings bare, `f32` values without
/// the noise of their `f64` widening (0.7, not 0.699999988079071).
pub fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => {
            let narrow = *f as f32;
            let s = if f64::from(narrow) == *f {
                narrow.to_string()
            } else {
                f.to_string()
            };
            if s.contains(['.', 'e', 'i', 'N']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        toml::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(show).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

fn kind_of(key: &str, value: &toml::Value, a_value: Option<&toml::Value>) -> ValueKind {
    let mut choices: Vec<String> = match key {
        "preprocess.stemmer" => std::iter::once("none")
            .chain(STEMMER_LANGUAGES.iter().copied())
            .map(String::from)
            .collect(),
        "preprocess.stopwords" => vec!["none".into(), "english".into()],
        "weighting.scheme" => vec!["tfidf".into(), "bm25".into()],
        _ if value.is_bool() => return ValueKind::Bool,
        _ => return ValueKind::Text,
    };
    // A stopword file read into model A ("custom") stays reachable.
    for v in [Some(value), a_value].into_iter().flatten() {
        let s = show(v);
        if !choices.contains(&s) {
            choices.push(s);
        }
    }
    ValueKind::Choice(choices)
}

fn help(key: &str) -> &'static str {
    match key {
        "fields" => "text fields and weights, e.g. name:3,brand",
        "preprocess.nfkc" => "Unicode compatibility normalisation (NFKC)",
        "preprocess.fold_accents" => "remove diacritics so accented spellings meet",
        "preprocess.lowercase" => "lower-case everything",
        "preprocess.stopwords" => "none, english or file:PATH",
        "preprocess.stemmer" => "none or a Snowball language (english, french...)",
        "preprocess.word_ngrams" => "word n-gram range [min, max]",
        "preprocess.char_ngrams" => "character n-gram range; [0, 0] is off",
        "preprocess.char_weight" => "weight of character n-grams against words",
        "preprocess.codes" => "join product codes: KX-TS3282B = kxts3282b",
        "preprocess.min_token_len" => "drop tokens shorter than this",
        "vocabulary.min_df" => "drop tokens found in fewer items than this",
        "vocabulary.max_df" => "drop tokens found in more than this share of items",
        "vocabulary.max_features" => "keep the most frequent tokens only; 0 = all",
        "weighting.scheme" => "tfidf (cosine) or bm25",
        "weighting.sublinear_tf" => "tfidf: 1 + ln(tf) instead of tf",
        "weighting.k1" => "bm25: term-frequency saturation",
        "weighting.b" => "bm25: length normalisation",
        _ => "",
    }
}

/// The panel's rows for an edited config against model A's.
pub fn rows(draft: &ModelConfig, a: &ModelConfig) -> Vec<OptionRow> {
    editable_keys()
        .into_iter()
        .filter_map(|key| {
            let v = value_of(draft, &key)?;
            let av = value_of(a, &key);
            Some(OptionRow {
                value: show(&v),
                a_value: av.as_ref().map(show).unwrap_or_default(),
                changed: av.as_ref() != Some(&v),
                kind: kind_of(&key, &v, av.as_ref()),
                help: help(&key),
                key,
            })
        })
        .collect()
}

/// `key=value` with `value` as a TOML literal, for `ModelConfig::set`.
pub fn assignment(key: &str, value: &toml::Value) -> String {
    format!("{key}={value}")
}

/// The options changed from A's, as `key=value` (for messages and B's title).
pub fn changes(draft: &ModelConfig, a: &ModelConfig) -> Vec<String> {
    rows(draft, a)
        .into_iter()
        .filter(|r| r.changed)
        .map(|r| {
            let key = r.key.rsplit('.').next().unwrap_or(&r.key).to_string();
            format!("{key}={}", r.value)
        })
        .collect()
}

/// The next (or previous) value of a toggle or a choice; `None` for a
/// value that is typed.
pub fn step(row: &OptionRow, forward: bool) -> Option<String> {
    match &row.kind {
        ValueKind::Bool => Some(if row.value == "true" { "false" } else { "true" }.into()),
        ValueKind::Choice(choices) => {
            let n = choices.len();
            let i = choices.iter().position(|c| *c == row.value).unwrap_or(0);
            let j = if forward {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            Some(choices[j].clone())
        }
        ValueKind::Text => None,
    }
}

/// What an options-panel key asks for, decided before the panel's borrow ends.
enum Change {
    /// `key=value` for `ModelConfig::set`.
    Set(String),
    Message(&'static str),
    ResetAll,
}

impl App {
    pub(super) fn open_options(&mut self) {
        let message = self.training.as_ref().map(|_| {
            "retraining... (c cancels); changes now apply to the next retraining".to_string()
        });
        self.overlay = Some(Overlay::Options(Box::new(OptionsPanel {
            rows: rows(&self.draft, &self.model.config),
            selected: 0,
            editing: None,
            message,
            error: false,
        })));
    }

    fn panel_message(&mut self, text: String, error: bool) {
        if let Some(Overlay::Options(p)) = &mut self.overlay {
            p.message = Some(text);
            p.error = error;
        }
    }

    /// Applies `key=value` to the edited options through
    /// `ModelConfig::set`; false (and its message shown) when refused.
    fn apply_option(&mut self, assignment: &str) -> bool {
        let result = self.draft.set(assignment);
        let rows = rows(&self.draft, &self.model.config);
        let Some(Overlay::Options(p)) = &mut self.overlay else {
            return result.is_ok();
        };
        p.rows = rows;
        match result {
            Ok(()) => {
                let key = assignment.split('=').next().unwrap_or("");
                let row = p.rows.iter().find(|r| r.key == key);
                p.message = row.map(|r| {
                    if r.changed {
                        format!("{} = {} (A: {})", r.key, r.value, r.a_value)
                    } else {
                        format!("{} = {} (as in A)", r.key, r.value)
                    }
                });
                p.error = false;
                true
            }
            Err(e) => {
                p.message = Some(e.to_string());
                p.error = true;
                false
            }
        }
    }

    /// Keys of the options panel; false for the ones handled as anywhere
    /// else (moving, closing, cancelling, quitting).
    pub(super) fn options_command(&mut self, cmd: Command) -> bool {
        let Some(Overlay::Options(panel)) = &mut self.overlay else {
            return false;
        };
        let Some(row) = panel.rows.get(panel.selected).cloned() else {
            return false;
        };
        let change = match cmd {
            Command::EditValue => {
                panel.editing = Some(LineInput::with(&row.value));
                panel.message = Some(format!("{}: {}", row.key, row.help));
                panel.error = false;
                return true;
            }
            Command::ToggleValue if row.kind == ValueKind::Bool => match step(&row, true) {
                Some(v) => Change::Set(format!("{}={v}", row.key)),
                None => Change::Message(""),
            },
            Command::ToggleValue => {
                Change::Message("Space toggles yes/no values; Enter edits this one")
            }
            Command::NextValue | Command::PrevValue => {
                match step(&row, cmd == Command::NextValue) {
                    Some(v) => Change::Set(format!("{}={v}", row.key)),
                    None => Change::Message("this value is typed: Enter edits it"),
                }
            }
            Command::ResetValue => match value_of(&self.model.config, &row.key) {
                Some(v) => Change::Set(assignment(&row.key, &v)),
                None => Change::Message("model A has no value for this option"),
            },
            Command::ResetAll => Change::ResetAll,
            Command::Retrain => {
                self.start_retrain_b(false);
                return true;
            }
            _ => return false,
        };
        match change {
            Change::Set(assignment) => {
                self.apply_option(&assignment);
            }
            Change::Message(m) => self.panel_message(m.to_string(), false),
            Change::ResetAll => {
                self.draft = self.model.config.clone();
                let rows = rows(&self.draft, &self.model.config);
                if let Some(Overlay::Options(p)) = &mut self.overlay {
                    p.rows = rows;
                }
                self.panel_message("every option is back to model A's value".into(), false);
            }
        }
        true
    }

    /// Keys while a value is typed: Enter applies (or shows why not),
    /// Esc leaves the value as it was.
    pub(super) fn option_edit_command(&mut self, cmd: Command) {
        let Some(Overlay::Options(panel)) = &mut self.overlay else {
            return;
        };
        let Some(input) = &mut panel.editing else {
            return;
        };
        match cmd {
            Command::Back => {
                panel.editing = None;
                panel.message = None;
            }
            Command::Confirm => {
                let Some(key) = panel.rows.get(panel.selected).map(|r| r.key.clone()) else {
                    return;
                };
                let assignment = format!("{key}={}", input.text.trim());
                if self.apply_option(&assignment)
                    && let Some(Overlay::Options(p)) = &mut self.overlay
                {
                    p.editing = None;
                }
            }
            other => {
                input.edit(other);
            }
        }
    }

    /// Trains model B with the edited options. Asks first when an unsaved
    /// B would be replaced.
    pub(super) fn start_retrain_b(&mut self, confirmed: bool) {
        if self.training.is_some() {
            self.panel_message("already retraining: c cancels".into(), true);
            return;
        }
        if let Some(why) = self.catalog.unavailable() {
            self.panel_message(format!("cannot retrain yet: {why}"), true);
            return;
        }
        if !confirmed && let Some(b) = self.b.as_ref().filter(|b| b.unsaved) {
            let text = format!(
                "Model B ({}) is not saved and retraining replaces it. Retrain anyway?",
                b.model.meta.model_id
            );
            self.ask(text, Confirmable::RetrainOverB);
            return;
        }
        let changes = changes(&self.draft, &self.model.config);
        let what = if changes.is_empty() {
            "the same options as A".to_string()
        } else {
            changes.join(", ")
        };
        self.start_training(self.draft.clone(), Side::B, changes);
        self.status =
            format!("retraining as model B with {what}; c cancels, queries keep using model A");
        self.panel_message(format!("retraining with {what}..."), false);
    }

    /// Starts a training job on a worker, replacing any running one.
    pub(super) fn start_training(
        &mut self,
        config: ModelConfig,
        target: Side,
        changes: Vec<String>,
    ) {
        if let Some(old) = self.training.take() {
            self.effects.push(Effect::CancelTrain {
                generation: old.generation,
            });
        }
        // The loaded catalogue holds A's text fields; other fields mean
        // other rows and texts, so the file is read again for them.
        let reread = target == Side::B
            && (config.field_specs().ok().flatten()
                != self.model.config.field_specs().ok().flatten()
                || config.id_column != self.model.config.id_column);
        self.train_generation += 1;
        self.training = Some(TrainJob {
            generation: self.train_generation,
            target,
            stage: "starting".into(),
            done: 0,
            total: 0,
            elapsed_ms: 0,
            changes,
        });
        self.effects.push(Effect::Train {
            generation: self.train_generation,
            config: Box::new(config),
            target,
            reread,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_option_but_the_id_column() {
        let keys = editable_keys();
        for k in [
            "fields",
            "preprocess.stemmer",
            "preprocess.stopwords",
            "preprocess.word_ngrams",
            "preprocess.char_ngrams",
            "preprocess.char_weight",
            "preprocess.codes",
            "preprocess.fold_accents",
            "vocabulary.min_df",
            "vocabulary.max_df",
            "vocabulary.max_features",
            "weighting.scheme",
            "weighting.sublinear_tf",
            "weighting.k1",
            "weighting.b",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} missing from {keys:?}");
        }
        assert!(!keys.iter().any(|k| k == "id_column"));
        // Every listed key has a value, a help text, and goes through set().
        let config = ModelConfig::default();
        for r in rows(&config, &config) {
            assert!(!r.help.is_empty(), "{} has no help", r.key);
            assert!(!r.changed);
            let mut c = config.clone();
            let v = value_of(&config, &r.key).unwrap();
            c.set(&assignment(&r.key, &v)).unwrap();
            assert_eq!(c, config, "{} does not round-trip", r.key);
        }
    }

    #[test]
    fn values_read_as_typed_and_changes_are_marked() {
        let a = ModelConfig::default();
        let mut b = a.clone();
        b.set("preprocess.stemmer=english").unwrap();
        b.set("weighting.k1=1.5").unwrap();
        let rows = rows(&b, &a);
        let row = |k: &str| rows.iter().find(|r| r.key == k).unwrap();
        assert_eq!(row("preprocess.char_weight").value, "0.7");
        assert_eq!(row("vocabulary.max_df").value, "1.0");
        assert_eq!(row("preprocess.word_ngrams").value, "[1, 2]");
        assert!(row("preprocess.stemmer").changed);
        assert_eq!(row("preprocess.stemmer").a_value, "none");
        assert!(row("weighting.k1").changed);
        assert!(!row("weighting.b").changed);
        assert_eq!(row("preprocess.codes").kind, ValueKind::Bool);
        assert_eq!(changes(&b, &a), vec!["stemmer=english", "k1=1.5"]);
    }

    #[test]
    fn stepping_cycles_choices_and_toggles() {
        let a = ModelConfig::default();
        let rows = rows(&a, &a);
        let row = |k: &str| rows.iter().find(|r| r.key == k).unwrap().clone();
        assert_eq!(
            step(&row("preprocess.stemmer"), true).as_deref(),
            Some("arabic")
        );
        assert_eq!(
            step(&row("preprocess.stemmer"), false).as_deref(),
            Some("turkish")
        );
        assert_eq!(
            step(&row("weighting.scheme"), true).as_deref(),
            Some("bm25")
        );
        assert_eq!(
            step(&row("preprocess.codes"), true).as_deref(),
            Some("false")
        );
        assert_eq!(step(&row("weighting.k1"), true), None);
    }
}
