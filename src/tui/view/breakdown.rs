//! The breakdown pane: why the selected neighbour scored what it did, one
//! row per shared token (largest contribution first), the query's and the
//! item's text with shared tokens highlighted, and the query's tokens that
//! matched nothing. The numbers are `prodsim query --explain`'s.

use super::pane;
use crate::rank::Neighbour;
use crate::text::TokenKind;
use crate::tui::app::{App, Focus};
use crate::tui::theme::{Theme, sanitize};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::collections::HashSet;

/// Splits text into words and styles each by how it matched: fully (one of
/// its word tokens is shared), partly (only character n-grams), or not.
fn marked_text(app: &App, text: &str, n: &Neighbour, t: &Theme) -> Vec<Span<'static>> {
    let rows = n.breakdown.as_deref().unwrap_or(&[]);
    let words: HashSet<&str> = rows
        .iter()
        .filter(|r| r.kind == TokenKind::Word)
        .map(|r| r.token.as_str())
        .collect();
    let chars: HashSet<&str> = rows
        .iter()
        .filter(|r| r.kind == TokenKind::Char)
        .map(|r| r.token.as_str())
        .collect();
    let analyzer = app.model.analyzer();
    let mut spans = Vec::new();
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            spans.push(Span::raw(" "));
        }
        let mut full = false;
        let mut partial = false;
        analyzer.analyze(word, &mut |key| {
            let tok = crate::text::key_text(key);
            match TokenKind::of_key(key) {
                TokenKind::Word => full |= words.contains(tok),
                TokenKind::Char => partial |= chars.contains(tok),
                TokenKind::Ngram => {}
            }
        });
        let style = if full {
            t.matched()
        } else if partial {
            t.partial()
        } else {
            Style::default()
        };
        spans.push(Span::styled(sanitize(word), style));
    }
    spans
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let focused = app.focus == Focus::Breakdown && app.finder.is_none() && app.overlay.is_none();
    let selected = app
        .ranking
        .as_ref()
        .and_then(|r| r.results.get(app.selected));
    let title = match selected {
        Some(n) if !app.blind => format!(" Why #{}: score {:.4} ", n.rank, n.score),
        Some(n) => format!(" #{} ", n.rank),
        None => " Why ".to_string(),
    };
    let block = pane(t, Span::styled(title, t.accent()), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(n) = selected else {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "select a neighbour to see its token breakdown",
                t.dim(),
            )),
            inner,
        );
        return;
    };
    if app.blind {
        let mut lines = vec![Line::from(vec![
            Span::styled("item  ", t.dim()),
            Span::raw(sanitize(&n.title)),
        ])];
        if let Some(g) = app.label_of(&n.item_id) {
            lines.push(Line::from(Span::styled(
                format!("judged {g}: {}", app.scale.name(g)),
                t.good(),
            )));
        }
        lines.push(Line::from(Span::styled(
            "blind mode: scores and token weights are hidden (b shows them)",
            t.dim(),
        )));
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut item_line = vec![Span::styled("item  ", t.dim())];
    item_line.extend(marked_text(app, &n.title, n, t));
    lines.push(Line::from(item_line));
    let query_text = app
        .ranking
        .as_ref()
        .map(|r| match r.query.kind {
            "item" => app
                .model
                .find_item(&r.query.query)
                .map(|i| app.model.title(i).to_string())
                .unwrap_or_default(),
            _ => r.query.query.clone(),
        })
        .unwrap_or_default();
    let mut query_line = vec![Span::styled("query ", t.dim())];
    query_line.extend(marked_text(app, &query_text, n, t));
    lines.push(Line::from(query_line));

    let rows = n.breakdown.as_deref().unwrap_or(&[]);
    let max = rows.first().map_or(1.0, |r| r.contribution).max(1e-12);
    let tok_w = 18usize;
    let bar_w = (inner.width as usize)
        .saturating_sub(tok_w + 6 + 7 + 7 + 9 + 4)
        .clamp(4, 24);
    lines.push(Line::from(Span::styled(
        format!(
            "{:<tok_w$} {:<5} {:>6} {:>6} {:>8}  share",
            "token", "kind", "q.w", "i.w", "contrib"
        ),
        t.dim(),
    )));
    let table_rows = (inner.height as usize).saturating_sub(lines.len() + 1);
    for r in rows.iter().skip(app.breakdown_scroll).take(table_rows) {
        let shown: String = sanitize(&r.token).replace(' ', if t.ascii { "_" } else { "·" });
        let shown: String = shown.chars().take(tok_w).collect();
        lines.push(Line::from(vec![
            Span::raw(format!("{shown:<tok_w$} ")),
            Span::styled(format!("{:<5} ", r.kind.name()), t.dim()),
            Span::raw(format!(
                "{:>6.3} {:>6.3} {:>8.5}  ",
                r.query_weight, r.item_weight, r.contribution
            )),
            Span::styled(t.bar_text(r.contribution / max, bar_w), t.bar()),
        ]));
    }
    let sum: f64 = rows.iter().map(|r| r.contribution).sum();
    let unmatched: Vec<&str> = app
        .ranking
        .as_ref()
        .map(|r| {
            r.query
                .tokens
                .iter()
                .filter(|q| {
                    q.kind == TokenKind::Word
                        && !rows
                            .iter()
                            .any(|x| x.kind == TokenKind::Word && x.token == q.token)
                })
                .map(|q| q.token.as_str())
                .collect()
        })
        .unwrap_or_default();
    let shown_to = (app.breakdown_scroll + table_rows).min(rows.len());
    let mut footer = format!(
        "{}-{} of {} tokens, sum {:.4}",
        (app.breakdown_scroll + 1).min(rows.len()),
        shown_to,
        rows.len(),
        sum
    );
    if !unmatched.is_empty() {
        footer.push_str(&format!(
            "; query words not in item: {}",
            unmatched.join(", ")
        ));
    }
    lines.push(Line::from(Span::styled(sanitize(&footer), t.dim())));
    frame.render_widget(Paragraph::new(lines), inner);
}
