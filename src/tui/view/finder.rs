//! The item picker (fuzzy over titles) and the keyword search (tantivy over
//! every column), drawn as one popup: an input, a count, the matches.

use super::{centered, highlight_chars, pane};
use crate::tui::app::{App, CatalogState, Finder, FinderKind};
use crate::tui::theme::sanitize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

/// Char indices of `text` to highlight for `pattern`: the fuzzy engine's
/// own match positions for the picker, whole query words for keywords.
pub fn marks(kind: FinderKind, pattern: &str, text: &str) -> Vec<usize> {
    match kind {
        FinderKind::Fuzzy => crate::fuzzy::match_indices(pattern, text),
        FinderKind::Keyword => {
            let lower: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
            let mut out = Vec::new();
            for word in pattern
                .split_whitespace()
                .map(|w| {
                    w.rsplit(':')
                        .next()
                        .unwrap_or(w)
                        .trim_matches('"')
                        .to_lowercase()
                })
                .filter(|w| w.chars().count() >= 2)
            {
                let w: Vec<char> = word.chars().collect();
                if w.len() > lower.len() {
                    continue;
                }
                for start in 0..=lower.len() - w.len() {
                    if lower[start..start + w.len()] == w[..] {
                        out.extend(start..start + w.len());
                    }
                }
            }
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

pub fn draw(frame: &mut Frame, app: &App, f: &Finder, area: Rect) {
    let t = &app.theme;
    let popup = centered(area, 90, 80, (40, 10));
    frame.render_widget(Clear, popup);
    let title = match f.kind {
        FinderKind::Fuzzy => " Find an item (fuzzy on titles) ",
        FinderKind::Keyword => " Keyword search (e.g. brand:sony tv) ",
    };
    let block = pane(t, Span::styled(title, t.accent()), true);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [input, count, list] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    let text = sanitize(&f.input.text);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("> ", t.accent()),
            Span::raw(text),
        ])),
        input,
    );
    frame.set_cursor_position((input.x + 2 + f.input.cursor as u16, input.y));
    let keyword = f.kind == FinderKind::Keyword;
    let status = if let Some(e) = &f.error {
        Span::styled(sanitize(e), t.warn())
    } else if keyword && let CatalogState::Loading { .. } = app.catalog {
        Span::styled(
            "catalogue loading... the keyword index is built when it is in",
            t.warn(),
        )
    } else if keyword && let Some(why) = app.catalog.unavailable() {
        Span::styled(sanitize(&why), t.warn())
    } else if keyword && !app.keyword_index_ready {
        Span::styled("building the keyword index...", t.warn())
    } else {
        let state = if f.done { "" } else { " (searching...)" };
        Span::styled(
            format!(
                "{} of {} matches, {:.1} ms{state}",
                f.items.len().min(f.total),
                f.total,
                f.millis
            ),
            t.dim(),
        )
    };
    frame.render_widget(Paragraph::new(Line::from(status)), count);
    let height = list.height as usize;
    let offset = (f.selected + 1).saturating_sub(height);
    let lines: Vec<Line> = f
        .items
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, &(item, _))| {
            let title = sanitize(app.model.title(item));
            let m = marks(f.kind, &f.input.text, &title);
            let mut spans = vec![
                Span::raw(if i == f.selected { t.pointer() } else { " " }),
                Span::raw(" "),
            ];
            spans.extend(highlight_chars(&title, &m, Style::default(), t.matched()));
            let line = Line::from(spans);
            if i == f.selected {
                line.style(t.selected())
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
}
