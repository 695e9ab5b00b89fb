//! The neighbours pane: rank, score with a bar, label, title, key column.

use super::{SIDE_BY_SIDE, pane};
use crate::tui::app::{App, Focus};
use crate::tui::theme::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Catalogue columns worth showing next to a title, by name.
const KEY_COLUMNS: &[&str] = &["brand", "manufacturer", "maker", "category", "price"];

/// The catalogue column shown beside titles on wide screens (none until
/// the catalogue is loaded).
pub fn key_column(app: &App) -> Option<usize> {
    let c = app.catalog.ready()?;
    KEY_COLUMNS.iter().find_map(|want| {
        c.columns
            .iter()
            .position(|col| col.eq_ignore_ascii_case(want))
            .filter(|&i| i != c.id_column && i != c.title_column)
    })
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let focused = app.focus == Focus::Neighbours && app.finder.is_none() && app.overlay.is_none();
    let count = app.ranking.as_ref().map_or(0, |r| r.results.len());
    let mut title = format!(" Neighbours ({count}, k={}) ", app.k);
    if let Some(store) = &app.store {
        let (judged, shown) = app.judged_counts();
        title.push_str(&format!(
            "judged {judged}/{shown}, {} in file ",
            store.len()
        ));
    }
    if app.blind {
        title.push_str("[blind] ");
    }
    let block = pane(t, Span::styled(title, t.accent()), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let Some(ranking) = &app.ranking else {
        let msg = match &app.ranking_error {
            Some(e) => Line::from(Span::styled(sanitize(e), t.warn())),
            None => Line::from(Span::styled("no query yet", t.dim())),
        };
        frame.render_widget(Paragraph::new(msg), inner);
        return;
    };
    if ranking.results.is_empty() {
        let unknown: Vec<&str> = ranking
            .query
            .tokens
            .iter()
            .filter(|tok| !tok.matched && tok.kind != crate::text::TokenKind::Char)
            .map(|tok| tok.token.as_str())
            .collect();
        let msg = if unknown.is_empty() {
            "no neighbours".to_string()
        } else {
            format!("no neighbours: not in vocabulary: {}", unknown.join(", "))
        };
        frame.render_widget(Paragraph::new(Span::styled(sanitize(&msg), t.dim())), inner);
        return;
    }
    let height = inner.height as usize;
    let offset = (app.selected + 1).saturating_sub(height);
    let top_score = ranking.results.first().map_or(1.0, |n| n.score).max(1e-12);
    let key_col = if area.width >= SIDE_BY_SIDE / 2 + 10 {
        key_column(app)
    } else {
        None
    };
    let bar_width = 6;
    let lines: Vec<Line> = ranking
        .results
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, n)| {
            let selected = i == app.selected;
            let mut spans = vec![
                Span::raw(if selected { t.pointer() } else { " " }),
                Span::raw(format!("{:>3} ", n.rank)),
                Span::raw(format!("{:.3} ", n.score)),
                Span::styled(
                    format!(
                        "{:<bar_width$} ",
                        t.bar_text(n.score / top_score, bar_width)
                    ),
                    t.bar(),
                ),
            ];
            match app.label_of(&n.item_id) {
                Some(g) if g > 0 => spans.push(Span::styled(format!("+{g} "), t.good())),
                Some(g) => spans.push(Span::styled(format!("-{} ", g.abs()), t.bad())),
                None => {}
            }
            spans.push(Span::raw(sanitize(&n.title)));
            if let Some(col) = key_col
                && let Some(catalog) = app.catalog.ready()
                && let Some(row) = catalog.find(&n.item_id)
            {
                let v = sanitize(catalog.cell(row, col));
                if !v.trim().is_empty() {
                    spans.push(Span::styled(format!("  {}", v.trim()), t.dim()));
                }
            }
            let line = Line::from(spans);
            if selected {
                line.style(t.selected())
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
