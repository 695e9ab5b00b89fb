//! Drawing: one pure function per pane, `draw(frame, &App)` composes them.
//! Nothing here changes state or does I/O.

mod ab;
mod breakdown;
mod evaluation;
mod finder;
mod neighbours;
mod options;
mod overlays;

use super::app::{App, CatalogState, Focus, Overlay};
use super::keymap;
use super::theme::{Theme, sanitize};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// Width from which the neighbours and the breakdown sit side by side.
pub const SIDE_BY_SIDE: u16 = 110;

/// Draws the whole explorer.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let gauge_rows = u16::from(app.training.is_some());
    let [query, main, gauge, status, hints] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(6),
        Constraint::Length(gauge_rows),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_query(frame, app, query);
    if let Some(job) = &app.training {
        options::gauge(frame, app, job, gauge);
    }
    draw_status(frame, app, status);
    draw_hints(frame, app, hints);
    if app.ab_view && app.b.is_some() {
        ab::draw(frame, app, main);
    } else {
        draw_panes(frame, app, main);
    }
    draw_overlays(frame, app, area, main);
}

fn draw_panes(frame: &mut Frame, app: &App, main: Rect) {
    let area = main;
    let direction = if area.width >= SIDE_BY_SIDE {
        Direction::Horizontal
    } else {
        Direction::Vertical
    };
    let constraints = if direction == Direction::Horizontal {
        [Constraint::Percentage(50), Constraint::Percentage(50)]
    } else {
        [Constraint::Percentage(45), Constraint::Percentage(55)]
    };
    let panes = Layout::default()
        .direction(direction)
        .constraints(constraints)
        .split(main);
    neighbours::draw(frame, app, panes[0]);
    breakdown::draw(frame, app, panes[1]);
}

fn draw_overlays(frame: &mut Frame, app: &App, area: Rect, main: Rect) {
    if let Some(f) = &app.finder {
        finder::draw(frame, app, f, area);
    }
    match &app.overlay {
        Some(Overlay::Help { scroll }) => overlays::help(frame, app, *scroll, area),
        Some(Overlay::Details { item, scroll }) => {
            overlays::details(frame, app, *item, *scroll, area)
        }
        Some(Overlay::Trace { stages, scroll }) => {
            overlays::trace(frame, app, stages, *scroll, area)
        }
        Some(Overlay::Mismatch { message }) => overlays::mismatch(frame, app, message, area),
        Some(Overlay::Evaluation(view)) => evaluation::draw(frame, app, view, area),
        Some(Overlay::Pair { pair, rows, scroll }) => {
            overlays::pair(frame, app, pair, rows, *scroll, area)
        }
        // Over the panes only: the gauge and the status stay in view.
        Some(Overlay::Options(p)) => options::panel(frame, app, p, main),
        Some(Overlay::AbTrace { text, a, b, scroll }) => {
            ab::trace(frame, app, text, a, b, *scroll, area)
        }
        Some(Overlay::AbMetrics { scroll }) => ab::metrics(frame, app, *scroll, area),
        Some(Overlay::SavePrompt { input, error }) => {
            options::save_prompt(frame, app, input, error.as_deref(), area)
        }
        Some(Overlay::Confirm(q)) => options::confirm(frame, app, q, area),
        None => {}
    }
}

/// A bordered block whose border shows focus.
pub fn pane<'a>(theme: &Theme, title: impl Into<Line<'a>>, focused: bool) -> Block<'a> {
    Block::bordered()
        .border_set(theme.border())
        .border_style(if focused { theme.accent() } else { theme.dim() })
        .title(title)
}

fn draw_query(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let focused = app.focus == Focus::Query && app.finder.is_none() && app.overlay.is_none();
    let kind = match &app.query {
        Some(crate::rank::Query::Item(id)) => format!(" item {} ", sanitize(id)),
        Some(crate::rank::Query::Text(_)) => " text query ".to_string(),
        None => " query ".to_string(),
    };
    let block = pane(t, Span::styled(kind, t.accent()), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text = sanitize(&app.input.text);
    let line = if text.is_empty() && !focused {
        Line::from(Span::styled(
            "press / to type a query, f to find an item",
            t.dim(),
        ))
    } else {
        Line::from(vec![
            Span::styled("> ", t.accent()),
            Span::raw(text.clone()),
        ])
    };
    // Keep the cursor visible on long input: scroll horizontally.
    let cursor_col = 2 + app.input.cursor as u16;
    let scroll = cursor_col.saturating_sub(inner.width.saturating_sub(1));
    frame.render_widget(Paragraph::new(line).scroll((0, scroll)), inner);
    if focused {
        frame.set_cursor_position((inner.x + cursor_col - scroll, inner.y));
    }
}

fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let sep = if t.ascii { " | " } else { " · " };
    let mut spans = vec![Span::styled(
        sanitize(
            &app.catalog
                .path()
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
        t.accent(),
    )];
    // Until the catalogue is in (or if it never is) the line says so.
    match &app.catalog {
        CatalogState::Ready(_) => {}
        CatalogState::Loading { .. } => {
            spans.push(Span::styled(" (catalogue loading...)", t.warn()))
        }
        CatalogState::Failed { .. } => spans.push(Span::styled(" NOT loaded", t.warn())),
    }
    spans.extend([
        Span::raw(sep),
        Span::raw(format!("model {}", app.model.meta.model_id)),
    ]);
    if let Some(b) = &app.b {
        spans.push(Span::raw(sep));
        let mark = if b.unsaved { " (unsaved)" } else { "" };
        spans.push(Span::styled(
            format!("B {}{mark}", b.model.meta.model_id.get(..8).unwrap_or("")),
            t.accent(),
        ));
    }
    spans.extend([
        Span::raw(sep),
        Span::raw(format!("{} items", app.model.len())),
    ]);
    if let Some(ms) = app.last_millis {
        spans.push(Span::raw(sep));
        spans.push(Span::raw(format!("{ms:.1} ms")));
    }
    if let Some(job) = &app.job {
        spans.push(Span::raw(sep));
        let pct = if job.total > 0 {
            job.done as f64 / job.total as f64
        } else {
            0.0
        };
        spans.push(Span::styled(
            format!("{} {} {:>3.0}% ", job.job, job.stage, pct * 100.0),
            t.warn(),
        ));
        spans.push(Span::styled(t.bar_text(pct, 10), t.bar()));
    }
    spans.push(Span::raw(sep));
    spans.push(Span::styled(sanitize(&app.status), t.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_hints(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let mut spans = Vec::new();
    for (key, what) in keymap::hints(app.mode(), t.ascii) {
        spans.push(Span::styled(key, t.accent()));
        spans.push(Span::styled(format!(" {what}  "), t.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A centred rectangle of the given share of `area`, at least `min` cells.
pub fn centered(area: Rect, width_pct: u16, height_pct: u16, min: (u16, u16)) -> Rect {
    let w = (area.width * width_pct / 100).max(min.0).min(area.width);
    let h = (area.height * height_pct / 100).max(min.1).min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Splits `text` into spans, styling the chars whose indices are in `marks`.
pub fn highlight_chars(
    text: &str,
    marks: &[usize],
    base: Style,
    mark: Style,
) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut current = String::new();
    let mut current_marked = false;
    for (i, c) in text.chars().enumerate() {
        let m = marks.contains(&i);
        if m != current_marked && !current.is_empty() {
            spans.push(Span::styled(
                std::mem::take(&mut current),
                if current_marked { mark } else { base },
            ));
        }
        current_marked = m;
        current.push(c);
    }
    if !current.is_empty() {
        spans.push(Span::styled(
            current,
            if current_marked { mark } else { base },
        ));
    }
    spans
}
