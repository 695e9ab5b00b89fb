//! The key map as data: (mode, key) -> command, with the labels the help
//! overlay and the hint line are generated from.

use super::action::Command;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Which keys apply: the explorer's panes, a text input, or an overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Moving around the neighbours and breakdown panes.
    Normal,
    /// Typing the free-text query.
    Query,
    /// The fuzzy item picker or the keyword search (a list with an input).
    Finder,
    /// A read-only overlay: details, trace, help.
    Overlay,
    /// The evaluation screen.
    Evaluation,
    /// The catalogue/model mismatch notice.
    Notice,
    /// The options panel (retraining).
    Options,
    /// Editing one value: an option, a file name.
    Edit,
    /// A yes/no question before something is lost.
    Confirm,
    /// The A/B view of models A and B; keys not bound here work as in
    /// the panes ([`Mode::Normal`]).
    Compare,
}

impl Mode {
    /// Heading used in the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            Mode::Normal => "Panes",
            Mode::Query => "Typing a query",
            Mode::Finder => "Item picker / keyword search",
            Mode::Overlay => "Details, trace, help",
            Mode::Evaluation => "Evaluation screen",
            Mode::Notice => "Model/catalogue mismatch",
            Mode::Options => "Options panel (retrain as model B)",
            Mode::Edit => "Editing a value",
            Mode::Confirm => "Confirmation",
            Mode::Compare => "A/B view (the pane keys work here too)",
        }
    }

    /// The mode whose bindings apply when this one has none for a key.
    pub fn fallback(self) -> Option<Mode> {
        match self {
            Mode::Compare => Some(Mode::Normal),
            _ => None,
        }
    }
}

/// One binding.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub mode: Mode,
    pub code: KeyCode,
    pub mods: KeyModifiers,
    pub command: Command,
    /// What the help overlay says the command does.
    pub help: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

const fn b(
    mode: Mode,
    code: KeyCode,
    mods: KeyModifiers,
    command: Command,
    help: &'static str,
) -> Binding {
    Binding {
        mode,
        code,
        mods,
        command,
        help,
    }
}

use Command as C;
use KeyCode as K;
use Mode as M;

/// The default bindings. Order matters only for the help overlay.
pub const BINDINGS: &[Binding] = &[
    b(M::Normal, K::Char('/'), NONE, C::EditQuery, "type a query"),
    b(M::Normal, K::Char('i'), NONE, C::EditQuery, "type a query"),
    b(
        M::Normal,
        K::Char('f'),
        NONE,
        C::PickItem,
        "find an item (fuzzy)",
    ),
    b(
        M::Normal,
        K::Char('s'),
        NONE,
        C::KeywordSearch,
        "keyword search (brand:sony tv)",
    ),
    b(M::Normal, K::Char('j'), NONE, C::Down, "next row"),
    b(M::Normal, K::Down, NONE, C::Down, "next row"),
    b(M::Normal, K::Char('k'), NONE, C::Up, "previous row"),
    b(M::Normal, K::Up, NONE, C::Up, "previous row"),
    b(M::Normal, K::Char('d'), CTRL, C::PageDown, "page down"),
    b(M::Normal, K::PageDown, NONE, C::PageDown, "page down"),
    b(M::Normal, K::Char('u'), CTRL, C::PageUp, "page up"),
    b(M::Normal, K::PageUp, NONE, C::PageUp, "page up"),
    b(M::Normal, K::Char('g'), NONE, C::Top, "first row"),
    b(M::Normal, K::Home, NONE, C::Top, "first row"),
    b(M::Normal, K::Char('G'), NONE, C::Bottom, "last row"),
    b(M::Normal, K::End, NONE, C::Bottom, "last row"),
    b(M::Normal, K::Tab, NONE, C::NextPane, "next pane"),
    b(M::Normal, K::BackTab, NONE, C::PrevPane, "previous pane"),
    b(
        M::Normal,
        K::Enter,
        NONE,
        C::Confirm,
        "use the selected neighbour as the query",
    ),
    b(
        M::Normal,
        K::Char('d'),
        NONE,
        C::Details,
        "all columns of the selected item",
    ),
    b(
        M::Normal,
        K::Char('t'),
        NONE,
        C::Trace,
        "preprocessing trace of the query",
    ),
    b(
        M::Normal,
        K::Char('+'),
        NONE,
        C::MoreNeighbours,
        "more neighbours (k)",
    ),
    b(
        M::Normal,
        K::Char('-'),
        NONE,
        C::FewerNeighbours,
        "fewer neighbours (k)",
    ),
    b(
        M::Normal,
        K::Char('0'),
        NONE,
        C::Grade(0),
        "grade 0 (irrelevant)",
    ),
    b(M::Normal, K::Char('1'), NONE, C::Grade(1), "grade 1"),
    b(M::Normal, K::Char('2'), NONE, C::Grade(2), "grade 2"),
    b(M::Normal, K::Char('3'), NONE, C::Grade(3), "grade 3"),
    b(
        M::Normal,
        K::Char('4'),
        NONE,
        C::Grade(4),
        "grade 4 (scales up to 9)",
    ),
    b(M::Normal, K::Char('5'), NONE, C::Grade(5), "grade 5"),
    b(M::Normal, K::Char('6'), NONE, C::Grade(6), "grade 6"),
    b(M::Normal, K::Char('7'), NONE, C::Grade(7), "grade 7"),
    b(M::Normal, K::Char('8'), NONE, C::Grade(8), "grade 8"),
    b(M::Normal, K::Char('9'), NONE, C::Grade(9), "grade 9"),
    b(
        M::Normal,
        K::Char('y'),
        NONE,
        C::GradeYes,
        "relevant (binary scale)",
    ),
    b(
        M::Normal,
        K::Char('n'),
        NONE,
        C::GradeNo,
        "not relevant (binary scale)",
    ),
    b(
        M::Normal,
        K::Char(' '),
        NONE,
        C::NextUnjudged,
        "next unjudged neighbour",
    ),
    b(
        M::Normal,
        K::Char('u'),
        NONE,
        C::Undo,
        "undo the last label",
    ),
    b(M::Normal, K::Char('r'), CTRL, C::Redo, "redo"),
    b(
        M::Normal,
        K::Char('b'),
        NONE,
        C::ToggleBlind,
        "blind mode: hide scores",
    ),
    b(
        M::Normal,
        K::Char(']'),
        NONE,
        C::NextQuery,
        "next query of the queue",
    ),
    b(
        M::Normal,
        K::Char('['),
        NONE,
        C::PrevQuery,
        "previous query of the queue",
    ),
    b(
        M::Normal,
        K::Char('e'),
        NONE,
        C::Evaluate,
        "evaluation screen",
    ),
    b(
        M::Normal,
        K::Char('x'),
        NONE,
        C::Export,
        "export qrels, topics, JSON Lines",
    ),
    b(
        M::Normal,
        K::Char('o'),
        NONE,
        C::Options,
        "options: edit preprocessing, retrain as model B",
    ),
    b(
        M::Normal,
        K::Char('a'),
        NONE,
        C::ToggleAb,
        "A/B view of models A and B (after retraining)",
    ),
    b(
        M::Normal,
        K::Char('c'),
        NONE,
        C::CancelRetrain,
        "cancel retraining",
    ),
    b(
        M::Normal,
        K::Char('S'),
        NONE,
        C::SaveB,
        "save model B to a file",
    ),
    b(
        M::Normal,
        K::Char('W'),
        NONE,
        C::SwapAb,
        "swap models A and B",
    ),
    b(
        M::Normal,
        K::Char('X'),
        NONE,
        C::DiscardB,
        "discard model B",
    ),
    b(M::Normal, K::Char('?'), NONE, C::Help, "this help"),
    b(M::Normal, K::Char('q'), NONE, C::Quit, "quit"),
    b(M::Normal, K::Esc, NONE, C::Back, "back to the query"),
    b(
        M::Query,
        K::Enter,
        NONE,
        C::Back,
        "done typing: go to the neighbours",
    ),
    b(
        M::Query,
        K::Esc,
        NONE,
        C::Back,
        "done typing: go to the neighbours",
    ),
    b(
        M::Query,
        K::Down,
        NONE,
        C::Back,
        "done typing: go to the neighbours",
    ),
    b(M::Query, K::Tab, NONE, C::NextPane, "next pane"),
    b(
        M::Query,
        K::Backspace,
        NONE,
        C::DeleteBack,
        "delete a character",
    ),
    b(M::Query, K::Char('w'), CTRL, C::DeleteWord, "delete a word"),
    b(
        M::Query,
        K::Char('u'),
        CTRL,
        C::ClearInput,
        "clear the query",
    ),
    b(M::Query, K::Left, NONE, C::CursorLeft, "cursor left"),
    b(M::Query, K::Right, NONE, C::CursorRight, "cursor right"),
    b(M::Query, K::Home, NONE, C::CursorHome, "start of line"),
    b(M::Query, K::End, NONE, C::CursorEnd, "end of line"),
    b(
        M::Finder,
        K::Enter,
        NONE,
        C::Confirm,
        "use the highlighted item as the query",
    ),
    b(M::Finder, K::Esc, NONE, C::Back, "close"),
    b(M::Finder, K::Down, NONE, C::Down, "next match"),
    b(M::Finder, K::Char('n'), CTRL, C::Down, "next match"),
    b(M::Finder, K::Char('j'), CTRL, C::Down, "next match"),
    b(M::Finder, K::Up, NONE, C::Up, "previous match"),
    b(M::Finder, K::Char('p'), CTRL, C::Up, "previous match"),
    b(M::Finder, K::Char('k'), CTRL, C::Up, "previous match"),
    b(M::Finder, K::PageDown, NONE, C::PageDown, "page down"),
    b(M::Finder, K::PageUp, NONE, C::PageUp, "page up"),
    b(
        M::Finder,
        K::Backspace,
        NONE,
        C::DeleteBack,
        "delete a character",
    ),
    b(
        M::Finder,
        K::Char('w'),
        CTRL,
        C::DeleteWord,
        "delete a word",
    ),
    b(M::Finder, K::Char('u'), CTRL, C::ClearInput, "clear"),
    b(M::Overlay, K::Esc, NONE, C::Back, "close"),
    b(M::Overlay, K::Char('q'), NONE, C::Back, "close"),
    b(M::Overlay, K::Char('?'), NONE, C::Back, "close"),
    b(M::Overlay, K::Char('j'), NONE, C::Down, "scroll down"),
    b(M::Overlay, K::Down, NONE, C::Down, "scroll down"),
    b(M::Overlay, K::Char('k'), NONE, C::Up, "scroll up"),
    b(M::Overlay, K::Up, NONE, C::Up, "scroll up"),
    b(
        M::Notice,
        K::Char('r'),
        NONE,
        C::Retrain,
        "retrain the model on this catalogue",
    ),
    b(
        M::Notice,
        K::Esc,
        NONE,
        C::Back,
        "continue with the model as it is",
    ),
    b(M::Notice, K::Char('q'), NONE, C::Quit, "quit"),
    b(M::Options, K::Char('j'), NONE, C::Down, "next option"),
    b(M::Options, K::Down, NONE, C::Down, "next option"),
    b(M::Options, K::Char('k'), NONE, C::Up, "previous option"),
    b(M::Options, K::Up, NONE, C::Up, "previous option"),
    b(M::Options, K::Char('g'), NONE, C::Top, "first option"),
    b(M::Options, K::Char('G'), NONE, C::Bottom, "last option"),
    b(
        M::Options,
        K::Enter,
        NONE,
        C::EditValue,
        "edit the value in place",
    ),
    b(
        M::Options,
        K::Char('e'),
        NONE,
        C::EditValue,
        "edit the value in place",
    ),
    b(
        M::Options,
        K::Char(' '),
        NONE,
        C::ToggleValue,
        "toggle a yes/no value",
    ),
    b(
        M::Options,
        K::Right,
        NONE,
        C::NextValue,
        "next choice (stemmer, stopwords, scheme, yes/no)",
    ),
    b(
        M::Options,
        K::Char('l'),
        NONE,
        C::NextValue,
        "next choice (stemmer, stopwords, scheme, yes/no)",
    ),
    b(M::Options, K::Left, NONE, C::PrevValue, "previous choice"),
    b(
        M::Options,
        K::Char('h'),
        NONE,
        C::PrevValue,
        "previous choice",
    ),
    b(
        M::Options,
        K::Char('d'),
        NONE,
        C::ResetValue,
        "this option back to model A's value",
    ),
    b(
        M::Options,
        K::Char('R'),
        NONE,
        C::ResetAll,
        "every option back to model A's values",
    ),
    b(
        M::Options,
        K::Char('r'),
        NONE,
        C::Retrain,
        "retrain with these options: the result is model B",
    ),
    b(
        M::Options,
        K::Char('c'),
        NONE,
        C::CancelRetrain,
        "cancel retraining",
    ),
    b(
        M::Options,
        K::Esc,
        NONE,
        C::Back,
        "close (the edited options are kept)",
    ),
    b(
        M::Options,
        K::Char('o'),
        NONE,
        C::Back,
        "close (the edited options are kept)",
    ),
    b(
        M::Options,
        K::Char('q'),
        NONE,
        C::Back,
        "close (the edited options are kept)",
    ),
    b(M::Edit, K::Enter, NONE, C::Confirm, "apply"),
    b(M::Edit, K::Esc, NONE, C::Back, "cancel the edit"),
    b(
        M::Edit,
        K::Backspace,
        NONE,
        C::DeleteBack,
        "delete a character",
    ),
    b(M::Edit, K::Char('w'), CTRL, C::DeleteWord, "delete a word"),
    b(M::Edit, K::Char('u'), CTRL, C::ClearInput, "clear"),
    b(M::Edit, K::Left, NONE, C::CursorLeft, "cursor left"),
    b(M::Edit, K::Right, NONE, C::CursorRight, "cursor right"),
    b(M::Edit, K::Home, NONE, C::CursorHome, "start of line"),
    b(M::Edit, K::End, NONE, C::CursorEnd, "end of line"),
    b(M::Confirm, K::Char('y'), NONE, C::Yes, "yes"),
    b(M::Confirm, K::Enter, NONE, C::Yes, "yes"),
    b(M::Confirm, K::Char('n'), NONE, C::No, "no"),
    b(M::Confirm, K::Esc, NONE, C::No, "no"),
    b(
        M::Compare,
        K::Char('t'),
        NONE,
        C::Trace,
        "preprocessing trace of the query under A and under B",
    ),
    b(
        M::Compare,
        K::Char('m'),
        NONE,
        C::AbMetrics,
        "metrics of A and B on the judgements, wins/losses per query",
    ),
    b(
        M::Compare,
        K::Char('L'),
        NONE,
        C::LabelUnjudgedB,
        "queue the judged queries with unjudged B neighbours",
    ),
    b(
        M::Compare,
        K::Char(' '),
        NONE,
        C::NextUnjudged,
        "next neighbour of B without a label",
    ),
    b(
        M::Compare,
        K::Char('a'),
        NONE,
        C::ToggleAb,
        "back to the single-model view",
    ),
    b(M::Compare, K::Esc, NONE, C::Back, "back to the query"),
];

/// The command a key means in a mode; `None` for an unbound key (which in
/// an input mode is a typed character, see [`typed_char`]).
pub fn lookup(mode: Mode, key: &KeyEvent) -> Option<Command> {
    if key.code == KeyCode::Char('c') && key.modifiers.contains(CTRL) {
        return Some(Command::Quit);
    }
    // Shift is part of the character itself ('G', '?', '+').
    let mods = key.modifiers - KeyModifiers::SHIFT;
    let find = |mode: Mode| {
        BINDINGS
            .iter()
            .find(|b| b.mode == mode && b.code == key.code && b.mods == mods)
            .map(|b| b.command)
    };
    find(mode).or_else(|| mode.fallback().and_then(find))
}

/// A printable character typed without Ctrl/Alt.
pub fn typed_char(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c) if !key.modifiers.intersects(CTRL | KeyModifiers::ALT) => Some(c),
        _ => None,
    }
}

/// Human label of a key, e.g. `Ctrl-d`, `Enter`, `j`.
pub fn key_label(code: KeyCode, mods: KeyModifiers, ascii: bool) -> String {
    let base = match code {
        KeyCode::Char(' ') => "Space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "Shift-Tab".into(),
        KeyCode::Backspace => "Backspace".into(),
        KeyCode::Up => if ascii { "Up" } else { "↑" }.into(),
        KeyCode::Down => if ascii { "Down" } else { "↓" }.into(),
        KeyCode::Left => if ascii { "Left" } else { "←" }.into(),
        KeyCode::Right => if ascii { "Right" } else { "→" }.into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        other => format!("{other:?}"),
    };
    if mods.contains(CTRL) {
        format!("Ctrl-{base}")
    } else {
        base
    }
}

/// Help lines for a mode: keys joined per command, in binding order.
pub fn help_lines(mode: Mode, ascii: bool) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str, Command)> = Vec::new();
    for bnd in BINDINGS.iter().filter(|b| b.mode == mode) {
        let label = key_label(bnd.code, bnd.mods, ascii);
        match out
            .iter_mut()
            .find(|(_, h, c)| *c == bnd.command && *h == bnd.help)
        {
            Some(entry) => {
                entry.0.push_str(", ");
                entry.0.push_str(&label);
            }
            None => out.push((label, bnd.help, bnd.command)),
        }
    }
    out.into_iter().map(|(k, h, _)| (k, h)).collect()
}

/// The short hint line for a mode, from the same table.
pub fn hints(mode: Mode, ascii: bool) -> Vec<(String, &'static str)> {
    let wanted: &[Command] = match mode {
        Mode::Normal => &[
            C::EditQuery,
            C::PickItem,
            C::KeywordSearch,
            C::Grade(0),
            C::NextUnjudged,
            C::Undo,
            C::Evaluate,
            C::Options,
            C::Help,
            C::Quit,
        ],
        Mode::Query => &[C::Back, C::ClearInput],
        Mode::Finder => &[C::Confirm, C::Down, C::Back],
        Mode::Overlay => &[C::Back, C::Down],
        Mode::Evaluation => &[C::NextTab, C::SortNext, C::ThresholdUp, C::Confirm, C::Back],
        Mode::Notice => &[C::Retrain, C::Back, C::Quit],
        Mode::Options => &[
            C::EditValue,
            C::ToggleValue,
            C::NextValue,
            C::ResetValue,
            C::ResetAll,
            C::Retrain,
            C::CancelRetrain,
            C::Back,
        ],
        Mode::Edit => &[C::Confirm, C::Back, C::ClearInput],
        Mode::Confirm => &[C::Yes, C::No],
        Mode::Compare => &[
            C::ToggleAb,
            C::Trace,
            C::AbMetrics,
            C::Grade(0),
            C::NextUnjudged,
            C::LabelUnjudgedB,
            C::SaveB,
            C::SwapAb,
            C::DiscardB,
            C::Help,
        ],
    };
    let short = |c: Command| match (mode, c) {
        (Mode::Query, C::Back) => "to neighbours",
        (Mode::Notice, C::Back) => "continue",
        (Mode::Options, C::Retrain) => "retrain as B",
        (Mode::Options, C::Back) => "close",
        (Mode::Edit, C::Confirm) => "apply",
        (Mode::Edit, C::Back) => "cancel",
        (Mode::Compare, C::ToggleAb) => "single view",
        (Mode::Compare, C::Trace) => "trace A/B",
        (Mode::Compare, C::NextUnjudged) => "unjudged B",
        _ => short_name(c),
    };
    fn short_name(c: Command) -> &'static str {
        match c {
            C::EditQuery => "query",
            C::PickItem => "find item",
            C::KeywordSearch => "keyword",
            C::Details => "details",
            C::Trace => "trace",
            C::Help => "help",
            C::Quit => "quit",
            C::Back => "back",
            C::ClearInput => "clear",
            C::Confirm => "pick",
            C::Down => "move",
            C::Retrain => "retrain",
            C::NextTab => "tab",
            C::SortNext => "sort",
            C::ThresholdUp => "threshold",
            C::Grade(_) => "grade",
            C::NextUnjudged => "next unjudged",
            C::Undo => "undo",
            C::Evaluate => "evaluate",
            C::Options => "options",
            C::EditValue => "edit",
            C::ToggleValue => "toggle",
            C::NextValue => "choice",
            C::ResetValue => "reset",
            C::ResetAll => "reset all",
            C::CancelRetrain => "cancel retrain",
            C::Yes => "yes",
            C::No => "no",
            C::ToggleAb => "A/B view",
            C::AbMetrics => "metrics A/B",
            C::LabelUnjudgedB => "label queue",
            C::SaveB => "save B",
            C::SwapAb => "swap",
            C::DiscardB => "discard B",
            _ => "",
        }
    }
    wanted
        .iter()
        .filter_map(|&c| {
            let bound_in = |m: Mode| BINDINGS.iter().find(|b| b.mode == m && b.command == c);
            bound_in(mode)
                .or_else(|| mode.fallback().and_then(bound_in))
                .map(|b| {
                    let key = match c {
                        C::Grade(_) => "0-9".to_string(),
                        _ => key_label(b.code, b.mods, ascii),
                    };
                    (key, short(c))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn lookups() {
        assert_eq!(lookup(M::Normal, &key(K::Char('q'), NONE)), Some(C::Quit));
        assert_eq!(lookup(M::Query, &key(K::Char('q'), NONE)), None);
        assert_eq!(lookup(M::Query, &key(K::Char('c'), CTRL)), Some(C::Quit));
        assert_eq!(
            lookup(M::Normal, &key(K::Char('G'), KeyModifiers::SHIFT)),
            Some(C::Bottom)
        );
        assert_eq!(
            lookup(M::Normal, &key(K::Char('d'), CTRL)),
            Some(C::PageDown)
        );
        assert_eq!(
            lookup(M::Normal, &key(K::Char('d'), NONE)),
            Some(C::Details)
        );
        assert_eq!(typed_char(&key(K::Char('x'), NONE)), Some('x'));
        assert_eq!(typed_char(&key(K::Char('x'), CTRL)), None);
    }

    #[test]
    fn help_is_generated_from_the_bindings() {
        let lines = help_lines(M::Normal, true);
        assert!(
            lines
                .iter()
                .any(|(k, h)| k == "j, Down" && *h == "next row")
        );
        assert!(lines.iter().any(|(k, _)| k == "Ctrl-d, PgDn"));
        // Every binding appears in the help of its mode.
        for bnd in BINDINGS {
            let lines = help_lines(bnd.mode, true);
            let label = key_label(bnd.code, bnd.mods, true);
            assert!(
                lines
                    .iter()
                    .any(|(k, h)| *h == bnd.help && k.split(", ").any(|x| x == label)),
                "{label} missing"
            );
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_a_mode() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for bnd in &BINDINGS[i + 1..] {
                assert!(
                    !(a.mode == bnd.mode && a.code == bnd.code && a.mods == bnd.mods),
                    "{:?} {:?} bound twice",
                    a.mode,
                    a.code
                );
            }
        }
    }
}
