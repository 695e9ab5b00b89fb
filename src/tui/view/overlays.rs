//! Overlays: help (generated from the key map), item details (every
//! catalogue column), the preprocessing trace, the mismatch notice.

use super::{centered, pane};
use crate::catalog::Catalog;
use crate::text::TraceStage;
use crate::tui::app::{App, CatalogState};
use crate::tui::keymap::{self, Mode};
use crate::tui::theme::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

fn popup<'a>(
    frame: &mut Frame,
    app: &App,
    title: &'a str,
    area: Rect,
    lines: Vec<Line<'a>>,
    scroll: usize,
) {
    let rect = centered(area, 85, 85, (40, 10));
    popup_in(frame, app, title, rect, lines, scroll);
}

/// A bordered, scrollable, wrapping popup of `lines` drawn over `rect`.
pub(super) fn popup_in<'a>(
    frame: &mut Frame,
    app: &App,
    title: &'a str,
    rect: Rect,
    lines: Vec<Line<'a>>,
    scroll: usize,
) {
    let t = &app.theme;
    frame.render_widget(Clear, rect);
    let block = pane(t, Span::styled(title, t.accent()), true);
    let scroll = scroll.min(u16::MAX as usize) as u16;
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        rect,
    );
}

pub fn help(frame: &mut Frame, app: &App, scroll: usize, area: Rect) {
    let t = &app.theme;
    let mut lines = Vec::new();
    for mode in [
        Mode::Normal,
        Mode::Query,
        Mode::Finder,
        Mode::Overlay,
        Mode::Notice,
        Mode::Options,
        Mode::Edit,
        Mode::Confirm,
        Mode::Compare,
    ] {
        lines.push(Line::from(Span::styled(mode.title(), t.accent())));
        for (keys, help) in keymap::help_lines(mode, t.ascii) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<22}"), t.matched()),
                Span::raw(help),
            ]));
        }
        lines.push(Line::from(""));
    }
    lines.push(Line::from(Span::styled(
        "Ctrl-c quits from anywhere.",
        t.dim(),
    )));
    popup(frame, app, " Keys (Esc closes) ", area, lines, scroll);
}

pub fn details(frame: &mut Frame, app: &App, item: u32, scroll: usize, area: Rect) {
    let t = &app.theme;
    let id = app.model.item_id(item);
    let mut lines = Vec::new();
    if let Some(catalog) = app.catalog.ready() {
        details_from_catalog(&mut lines, app, catalog, id);
    } else {
        // What the model knows, and why the other columns are not here.
        for (name, value) in [("id", id), ("title", app.model.title(item))] {
            lines.push(Line::from(vec![
                Span::styled(format!("{name:<6}  "), t.accent()),
                Span::raw(sanitize(value)),
            ]));
        }
        let why = match &app.catalog {
            CatalogState::Loading { .. } => {
                "catalogue loading... the other columns show when it is in".to_string()
            }
            other => sanitize(&other.unavailable().unwrap_or_default()),
        };
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(why, t.warn())));
    }
    popup(
        frame,
        app,
        " Item details (Esc closes) ",
        area,
        lines,
        scroll,
    );
}

/// Every column of the item's catalogue row.
fn details_from_catalog(lines: &mut Vec<Line<'static>>, app: &App, catalog: &Catalog, id: &str) {
    let t = &app.theme;
    match catalog.find(id) {
        Some(row) => {
            let width = catalog
                .columns
                .iter()
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(4)
                .min(24);
            for (c, name) in catalog.columns.iter().enumerate() {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<width$}  ", sanitize(name)), t.accent()),
                    Span::raw(sanitize(catalog.cell(row, c))),
                ]));
            }
        }
        None => lines.push(Line::from(Span::styled(
            format!("{} is not in the loaded catalogue", sanitize(id)),
            t.warn(),
        ))),
    }
}

pub fn trace(frame: &mut Frame, app: &App, stages: &[TraceStage], scroll: usize, area: Rect) {
    let t = &app.theme;
    let mut lines = Vec::new();
    for s in stages {
        let shown: Vec<String> = s
            .output
            .iter()
            .map(|o| format!("\"{}\"", sanitize(o)))
            .collect();
        lines.push(Line::from(vec![
            Span::styled(format!("{:<13}", s.stage), t.accent()),
            Span::raw(shown.join(" ")),
        ]));
    }
    popup(
        frame,
        app,
        " Preprocessing trace (Esc closes) ",
        area,
        lines,
        scroll,
    );
}

pub fn mismatch(frame: &mut Frame, app: &App, message: &str, area: Rect) {
    let t = &app.theme;
    let lines = vec![
        Line::from(Span::styled("Model and catalogue do not match", t.warn())),
        Line::from(""),
        Line::from(sanitize(message)),
        Line::from(""),
        Line::from(vec![
            Span::styled("r", t.accent()),
            Span::raw(" retrain on this catalogue with the model's config   "),
            Span::styled("Esc", t.accent()),
            Span::raw(" continue   "),
            Span::styled("q", t.accent()),
            Span::raw(" quit"),
        ]),
    ];
    popup_in(
        frame,
        app,
        " Notice ",
        centered(area, 70, 40, (60, 12)),
        lines,
        0,
    );
}

pub fn pair(
    frame: &mut Frame,
    app: &App,
    pair: &crate::eval::PairScore,
    rows: &[crate::rank::TokenContribution],
    scroll: usize,
    area: Rect,
) {
    let t = &app.theme;
    let title = app
        .model
        .find_item(&pair.item_id)
        .map(|i| app.model.title(i).to_string())
        .unwrap_or_else(|| pair.item_id.clone());
    let rank = pair
        .rank
        .map_or("not in the top 1000".to_string(), |r| format!("rank {r}"));
    let mut lines = vec![
        Line::from(vec![
            Span::styled("query ", t.dim()),
            Span::raw(sanitize(pair.query.value())),
        ]),
        Line::from(vec![
            Span::styled("item  ", t.dim()),
            Span::raw(sanitize(&title)),
        ]),
        Line::from(Span::styled(
            format!(
                "judged {} ({}), score {:.4}, {rank}, best score of the query {:.4}",
                pair.grade,
                app.scale.name(pair.grade),
                pair.score,
                pair.top_score
            ),
            if pair.grade > 0 { t.good() } else { t.bad() },
        )),
        Line::from(""),
        Line::from(Span::styled(
            format!(
                "{:<24} {:<6} {:>8} {:>8} {:>9}",
                "token", "kind", "q.w", "i.w", "contrib"
            ),
            t.dim(),
        )),
    ];
    if rows.is_empty() {
        lines.push(Line::from(Span::styled(
            "no shared token: score 0",
            t.dim(),
        )));
    }
    for r in rows {
        lines.push(Line::from(format!(
            "{:<24} {:<6} {:>8.4} {:>8.4} {:>9.5}",
            sanitize(&r.token).replace(' ', if t.ascii { "_" } else { "·" }),
            r.kind.name(),
            r.query_weight,
            r.item_weight,
            r.contribution
        )));
    }
    popup(
        frame,
        app,
        " Judged pair (Esc: back to the evaluation) ",
        area,
        lines,
        scroll,
    );
}
