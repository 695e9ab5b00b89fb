//! The options panel (every option with its value, model A's value where
//! it differs, and an in-place editor), the retraining gauge, and the
//! save prompt and confirmation boxes.

use super::{centered, pane};
use crate::tui::action::Side;
use crate::tui::app::{App, LineInput, OptionsPanel, Question, TrainJob, ValueKind};
use crate::tui::theme::sanitize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, LineGauge, Paragraph, Wrap};

/// Width of the key column: the longest key, `preprocess.min_token_len`.
const KEY_W: usize = 25;
/// Width of the value column.
const VALUE_W: usize = 16;

pub fn panel(frame: &mut Frame, app: &App, p: &OptionsPanel, area: Rect) {
    let t = &app.theme;
    frame.render_widget(Clear, area);
    let changed = p.rows.iter().filter(|r| r.changed).count();
    let title = format!(
        " Options of model A {} ({changed} changed; r retrains as B, Esc closes) ",
        app.model.meta.model_id.get(..8).unwrap_or("")
    );
    let block = pane(t, Span::styled(title, t.accent()), true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [list, footer] = Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(inner);
    let wide = list.width as usize >= KEY_W + VALUE_W + 60;
    let height = list.height as usize;
    let offset = (p.selected + 1).saturating_sub(height);
    let mut cursor = None;
    let lines: Vec<Line> = p
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, r)| {
            let sel = i == p.selected;
            let mark = if r.changed { "*" } else { " " };
            let key_style = if r.changed { t.matched() } else { t.accent() };
            let mut spans = vec![
                Span::raw(if sel { t.pointer() } else { " " }),
                Span::styled(mark, t.warn()),
                Span::styled(format!("{:<KEY_W$} ", r.key), key_style),
            ];
            match (&p.editing, sel) {
                (Some(input), true) => {
                    spans.push(Span::styled("[", t.dim()));
                    spans.push(Span::raw(sanitize(&input.text)));
                    spans.push(Span::styled("]", t.dim()));
                    let x = list.x as usize + 1 + 1 + KEY_W + 1 + 1 + input.cursor;
                    cursor = Some((
                        x.min(u16::MAX as usize) as u16,
                        list.y + (i - offset) as u16,
                    ));
                }
                _ => {
                    let value = sanitize(&r.value);
                    let shown = match r.kind {
                        ValueKind::Choice(_) if sel => format!("< {value} >"),
                        _ => value,
                    };
                    spans.push(Span::raw(format!("{shown:<VALUE_W$} ")));
                    if r.changed {
                        spans.push(Span::styled(
                            format!("(A: {}) ", sanitize(&r.a_value)),
                            t.dim(),
                        ));
                    }
                }
            }
            if wide && p.editing.is_none() {
                let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
                let pad = (2 + KEY_W + 1 + VALUE_W + 1 + 16).saturating_sub(used);
                spans.push(Span::raw(" ".repeat(pad)));
                spans.push(Span::styled(r.help, t.dim()));
            }
            let line = Line::from(spans);
            if sel { line.style(t.selected()) } else { line }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    if let Some(c) = cursor {
        frame.set_cursor_position(c);
    }
    let selected = p.rows.get(p.selected);
    let first = match (&p.message, selected) {
        (Some(m), _) if p.error => Line::from(Span::styled(sanitize(m), t.warn())),
        (Some(m), _) => Line::from(Span::raw(sanitize(m))),
        (None, Some(r)) => Line::from(vec![
            Span::styled(format!("{}: ", r.key), t.accent()),
            Span::raw(r.help),
        ]),
        (None, None) => Line::from(""),
    };
    let how = match selected.map(|r| &r.kind) {
        _ if p.editing.is_some() => "type the value; Enter applies, Esc cancels",
        Some(ValueKind::Bool) => "Space or arrows toggle; d: A's value, R: all A's; r retrains",
        Some(ValueKind::Choice(_)) => {
            "arrows choose, Enter types; d: A's value, R: all A's; r retrains"
        }
        _ => "Enter edits; d: A's value, R: all A's; r retrains as B",
    };
    frame.render_widget(
        Paragraph::new(vec![first, Line::from(Span::styled(how, t.dim()))])
            .wrap(Wrap { trim: true }),
        footer,
    );
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1e3)
}

/// The one-line retraining gauge: stage, done/total, elapsed, estimate.
pub fn gauge(frame: &mut Frame, app: &App, job: &TrainJob, area: Rect) {
    let t = &app.theme;
    let what = match job.target {
        Side::A => "retraining A".to_string(),
        Side::B if job.changes.is_empty() => "retraining B".to_string(),
        Side::B => format!("retraining B ({})", job.changes.join(" ")),
    };
    let progress = if job.total > 0 {
        format!("{} {}/{}", job.stage, job.done, job.total)
    } else {
        job.stage.clone()
    };
    let left = match job.remaining_ms() {
        Some(ms) => format!("~{} left", seconds(ms)),
        None => "estimating".into(),
    };
    let sep = t.sep();
    let elapsed = seconds(job.elapsed_ms);
    // The longest label that leaves room for the bar.
    let target = match job.target {
        Side::A => "A",
        Side::B => "B",
    };
    let label = [
        format!("{what}{sep}{progress}{sep}{elapsed} elapsed{sep}{left}{sep}c cancels "),
        format!("{what}{sep}{progress}{sep}{elapsed}{sep}{left} "),
        format!("retraining {target}{sep}{progress}{sep}{elapsed}{sep}{left} "),
    ]
    .into_iter()
    .find(|l| l.chars().count() + 12 <= area.width as usize)
    .unwrap_or_else(|| format!("{target} {progress} {left} "));
    let (filled, unfilled) = t.gauge_symbols();
    frame.render_widget(
        LineGauge::default()
            .ratio(job.fraction().clamp(0.0, 1.0))
            .label(Span::styled(sanitize(&label), t.warn()))
            .filled_symbol(filled)
            .unfilled_symbol(unfilled)
            .filled_style(t.bar())
            .unfilled_style(t.dim()),
        area,
    );
}

fn input_line<'a>(app: &App, input: &LineInput) -> Line<'a> {
    let t = &app.theme;
    Line::from(vec![
        Span::styled("> ", t.accent()),
        Span::raw(sanitize(&input.text)),
    ])
}

pub fn save_prompt(
    frame: &mut Frame,
    app: &App,
    input: &LineInput,
    error: Option<&str>,
    area: Rect,
) {
    let t = &app.theme;
    let rect = centered(area, 80, 30, (50, 8));
    frame.render_widget(Clear, rect);
    let block = pane(t, Span::styled(" Save model B ", t.accent()), true);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [label, field, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(Span::styled(
            "File (written atomically: a temporary file, fsync, rename):",
            t.dim(),
        )),
        label,
    );
    // A long path scrolls so the cursor stays in view.
    let col = 2 + input.cursor as u16;
    let scroll = col.saturating_sub(field.width.saturating_sub(1));
    frame.render_widget(
        Paragraph::new(input_line(app, input)).scroll((0, scroll)),
        field,
    );
    frame.set_cursor_position((field.x + col - scroll, field.y));
    let mut lines = Vec::new();
    match error {
        Some(e) => lines.push(Line::from(Span::styled(sanitize(e), t.warn()))),
        None => lines.push(Line::from("")),
    }
    lines.push(Line::from(Span::styled(
        "Enter saves, Esc cancels",
        t.dim(),
    )));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), rest);
}

pub fn confirm(frame: &mut Frame, app: &App, q: &Question, area: Rect) {
    let t = &app.theme;
    let rect = centered(area, 60, 30, (44, 7));
    frame.render_widget(Clear, rect);
    let block = pane(t, Span::styled(" Confirm ", t.warn()), true);
    let lines = vec![
        Line::from(sanitize(&q.text)),
        Line::from(""),
        Line::from(vec![
            Span::styled("y", t.accent()),
            Span::raw(" yes   "),
            Span::styled("n", t.accent()),
            Span::raw(" no"),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}
