//! The A/B view: model A's and model B's neighbours of the current query
//! (side by side on wide screens, stacked on narrow ones), each B row with
//! its rank movement, the overlap and metric figures, and the selected
//! row's token breakdown under A and under B. Also the A/B trace and the
//! A/B metrics overlays.

use super::{SIDE_BY_SIDE, centered, pane};
use crate::ab::Movement;
use crate::text::TraceStage;
use crate::tui::app::{AbEvalView, App, Focus, Pending, TokenDelta};
use crate::tui::theme::{Theme, sanitize};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the A/B view in the main area.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    if area.width >= SIDE_BY_SIDE {
        let [lists, summary, detail] = Layout::vertical([
            Constraint::Percentage(50),
            Constraint::Length(2),
            Constraint::Min(4),
        ])
        .areas(area);
        let [a, b] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(lists);
        list_a(frame, app, a);
        list_b(frame, app, b);
        figures(frame, app, summary, true);
        breakdown(frame, app, detail, true);
    } else {
        // B's list, with the movements, gets the most room.
        let [a, b, summary, detail] = Layout::vertical([
            Constraint::Percentage(26),
            Constraint::Percentage(37),
            Constraint::Length(1),
            Constraint::Min(5),
        ])
        .areas(area);
        list_a(frame, app, a);
        list_b(frame, app, b);
        figures(frame, app, summary, false);
        breakdown(frame, app, detail, false);
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn model_a_title(app: &App) -> String {
    let mut s = format!(" A {}", short(&app.model.meta.model_id));
    if let Some(p) = app.model_path.as_ref().and_then(|p| p.file_name()) {
        s.push_str(&format!(" {}", p.to_string_lossy()));
    }
    if app.model_unsaved {
        s.push_str(" (unsaved)");
    }
    s
}

fn model_b_title(app: &App) -> String {
    let Some(b) = &app.b else {
        return " B ".into();
    };
    let mut s = format!(" B {}", short(&b.model.meta.model_id));
    if !b.changes.is_empty() {
        s.push_str(&format!(" {}", b.changes.join(" ")));
    }
    match (&b.path, b.unsaved) {
        (_, true) => s.push_str(" (unsaved)"),
        (Some(p), false) => {
            if let Some(f) = p.file_name() {
                s.push_str(&format!(" {}", f.to_string_lossy()));
            }
        }
        (None, false) => {}
    }
    s
}

/// Visible window of `len` rows keeping `selected` in view.
fn window(selected: usize, height: usize) -> usize {
    (selected + 1).saturating_sub(height)
}

fn list_a(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let count = app.ranking.as_ref().map_or(0, |r| r.results.len());
    let title = format!("{} ({count}) ", model_a_title(app));
    let block = pane(t, Span::styled(sanitize(&title), t.accent()), false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(ranking) = &app.ranking else {
        let msg = match &app.ranking_error {
            Some(e) => Span::styled(sanitize(e), t.warn()),
            None => Span::styled("no query yet", t.dim()),
        };
        frame.render_widget(Paragraph::new(msg), inner);
        return;
    };
    let selected_id = app.ab.selected_id.as_deref();
    // Keep the selected item's row in view when A has it.
    let sel = ranking
        .results
        .iter()
        .position(|n| Some(n.item_id.as_str()) == selected_id)
        .unwrap_or(0);
    let height = inner.height as usize;
    let dropped = |id: &str| {
        app.ab
            .rows
            .iter()
            .any(|r| r.item_id == id && r.movement == Movement::Dropped)
    };
    let lines: Vec<Line> = ranking
        .results
        .iter()
        .skip(window(sel, height))
        .take(height)
        .map(|n| {
            let is_sel = Some(n.item_id.as_str()) == selected_id;
            let mut spans = vec![
                Span::raw(if is_sel { t.pointer() } else { " " }),
                Span::raw(format!("{:>3} ", n.rank)),
            ];
            if !app.blind {
                spans.push(Span::raw(format!("{:.3} ", n.score)));
            }
            if dropped(&n.item_id) {
                spans.push(Span::styled("out ", t.dim()));
            }
            spans.push(Span::raw(sanitize(&n.title)));
            let line = Line::from(spans);
            if is_sel {
                line.style(t.selected())
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn list_b(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let focused = app.focus == Focus::Neighbours && app.overlay.is_none() && app.finder.is_none();
    let Some(b) = &app.b else { return };
    let shown = b.ranking.as_ref().map_or(0, |r| r.results.len());
    let moved = app
        .ab
        .rows
        .iter()
        .filter(|r| !matches!(r.movement, Movement::Same | Movement::Dropped))
        .count();
    let out = app
        .ab
        .rows
        .iter()
        .filter(|r| r.movement == Movement::Dropped)
        .count();
    let mut title = format!("{}: {moved} moved, {out} out", model_b_title(app));
    if app.store.is_some() {
        let judged = app
            .ab
            .rows
            .iter()
            .filter(|r| r.rank_b.is_some() && app.label_of(&r.item_id).is_some())
            .count();
        title.push_str(&format!(", judged {judged}/{shown}"));
    }
    title.push(' ');
    let block = pane(t, Span::styled(sanitize(&title), t.accent()), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.ab.rows.is_empty() {
        let msg = match (&b.ranking_error, &app.query) {
            (Some(e), _) => Span::styled(sanitize(e), t.warn()),
            (None, None) => Span::styled("no query yet", t.dim()),
            (None, Some(_)) if b.ranking.as_ref().is_some_and(|r| r.results.is_empty()) => {
                Span::styled("no neighbours under B", t.dim())
            }
            (None, Some(_)) => Span::styled("ranking with A and B...", t.dim()),
        };
        frame.render_widget(Paragraph::new(msg), inner);
        return;
    }
    let score_b = |id: &str| {
        b.ranking
            .as_ref()
            .and_then(|r| r.results.iter().find(|n| n.item_id == id))
            .map(|n| n.score)
    };
    let height = inner.height as usize;
    let lines: Vec<Line> = app
        .ab
        .rows
        .iter()
        .enumerate()
        .skip(window(app.ab.selected, height))
        .take(height)
        .map(|(i, r)| {
            let is_sel = i == app.ab.selected;
            let dropped = r.movement == Movement::Dropped;
            let rank = match (r.rank_b, r.rank_a) {
                (Some(rb), _) => format!("{rb:>3} "),
                (None, _) => "  - ".to_string(),
            };
            let mut spans = vec![
                Span::raw(if is_sel { t.pointer() } else { " " }),
                Span::raw(rank),
                Span::styled(
                    format!("{:<4} ", r.movement.label(t.ascii)),
                    t.movement(r.movement),
                ),
            ];
            if !app.blind {
                match score_b(&r.item_id) {
                    Some(s) => spans.push(Span::raw(format!("{s:.3} "))),
                    None => spans.push(Span::raw("      ")),
                }
            }
            match app.label_of(&r.item_id) {
                Some(g) if g > 0 => spans.push(Span::styled(format!("+{g} "), t.good())),
                Some(g) => spans.push(Span::styled(format!("-{} ", g.abs()), t.bad())),
                None => {}
            }
            let title = sanitize(&app.title_of(&r.item_id));
            if dropped {
                let was = r.rank_a.map_or(String::new(), |a| format!(" (A #{a})"));
                spans.push(Span::styled(format!("{title}{was}"), t.dim()));
            } else {
                spans.push(Span::raw(title));
            }
            let line = Line::from(spans);
            if is_sel {
                line.style(t.selected())
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Overlap of this query and of the query set, and the metrics.
fn overlap_spans(app: &App, wide: bool) -> Vec<Span<'static>> {
    let t = &app.theme;
    let k = app.k;
    let mut spans = Vec::new();
    match &app.ab.overlap {
        Some(o) => spans.push(Span::raw(format!(
            "{}J@{k} {:.2} RBO {:.2}",
            if wide { "overlap of this query: " } else { "" },
            o.jaccard,
            o.rbo
        ))),
        None => spans.push(Span::styled(format!("J@{k} -"), t.dim())),
    }
    spans.push(Span::styled(t.sep(), t.dim()));
    match &app.ab.set_overlap {
        Pending::Ready((o, n)) => spans.push(Span::raw(if wide {
            format!(
                "mean over {n} {}: J@{k} {:.2} RBO {:.2}",
                app.ab.set_name, o.jaccard, o.rbo
            )
        } else {
            format!("{n}q J {:.2} RBO {:.2}", o.jaccard, o.rbo)
        })),
        Pending::Running => spans.push(Span::styled("averaging over the query set...", t.dim())),
        Pending::Failed(e) => spans.push(Span::styled(sanitize(e), t.warn())),
        Pending::Idle => {}
    }
    spans
}

fn metric_spans(app: &App, wide: bool) -> Vec<Span<'static>> {
    let t = &app.theme;
    match &app.ab.eval {
        Pending::Ready(v) => {
            let (a, b) = (
                v.a.metrics.get(&v.metric).unwrap_or(0.0),
                v.b.metrics.get(&v.metric).unwrap_or(0.0),
            );
            let d = b - a;
            let o = v.outcomes;
            let mut spans = if wide {
                vec![
                    Span::raw(format!("{} A {a:.3} B {b:.3} ", v.metric)),
                    Span::styled(format!("{}{d:+.3}", t.delta()), delta_style(t, d)),
                    Span::styled(t.sep(), t.dim()),
                    Span::raw(format!(
                        "per query B wins {} loses {} ties {}",
                        o.wins, o.losses, o.ties
                    )),
                ]
            } else {
                vec![
                    Span::raw(format!("{} {a:.3}{}{b:.3} ", v.metric, t.arrow())),
                    Span::styled(format!("{d:+.3}"), delta_style(t, d)),
                    Span::raw(format!(" W{} L{} T{}", o.wins, o.losses, o.ties)),
                ]
            };
            let todo: usize = v.unjudged.iter().map(|(_, items)| items.len()).sum();
            if wide {
                spans.push(Span::styled(t.sep(), t.dim()));
                spans.push(Span::raw(format!(
                    "B unjudged: {todo} in {} queries (L)",
                    v.unjudged.len()
                )));
            }
            if app.ab.eval_stale {
                spans.push(Span::styled(" (labels changed: m)", t.warn()));
            }
            spans
        }
        Pending::Running => vec![Span::styled("evaluating A and B...", t.dim())],
        Pending::Failed(e) => vec![Span::styled(sanitize(e), t.warn())],
        Pending::Idle => Vec::new(),
    }
}

fn delta_style(t: &Theme, d: f64) -> Style {
    if d > 1e-9 {
        t.good()
    } else if d < -1e-9 {
        t.bad()
    } else {
        Style::default()
    }
}

fn figures(frame: &mut Frame, app: &App, area: Rect, wide: bool) {
    let t = &app.theme;
    let mut first = overlap_spans(app, wide);
    let metrics = metric_spans(app, wide);
    let lines = if area.height >= 2 {
        vec![Line::from(first), Line::from(metrics)]
    } else {
        if !metrics.is_empty() {
            first.push(Span::styled(t.sep(), t.dim()));
            first.extend(metrics);
        }
        vec![Line::from(first)]
    };
    frame.render_widget(Paragraph::new(lines), area);
}

fn breakdown(frame: &mut Frame, app: &App, area: Rect, wide: bool) {
    let t = &app.theme;
    let focused = app.focus == Focus::Breakdown && app.overlay.is_none() && app.finder.is_none();
    let Some(d) = &app.ab.detail else {
        let block = pane(t, Span::styled(" Why it moved ", t.accent()), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(
            Paragraph::new(Span::styled(
                "select a row to compare its token breakdown under A and B",
                t.dim(),
            )),
            inner,
        );
        return;
    };
    let k = app.k;
    let side = |rank: Option<usize>, score: Option<f64>| match (rank, score) {
        (_, None) => "not in the model".to_string(),
        (Some(r), Some(s)) => format!("{s:.4} (#{r})"),
        (None, Some(s)) => format!("{s:.4} (not in top {k})"),
    };
    let title = if app.blind {
        " Why it moved ".to_string()
    } else {
        format!(
            " Why: A {} {} B {} ",
            side(d.rank_a, d.score_a),
            t.arrow(),
            side(d.rank_b, d.score_b)
        )
    };
    let block = pane(t, Span::styled(title, t.accent()), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Narrow screens: the selected row above names the item already.
    let mut lines = Vec::new();
    if wide || app.blind {
        lines.push(Line::from(vec![
            Span::styled("item ", t.dim()),
            Span::raw(sanitize(&d.title)),
        ]));
    }
    if app.blind {
        lines.push(Line::from(Span::styled(
            "blind mode: scores and token weights are hidden (b shows them)",
            t.dim(),
        )));
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let tok_w = if wide { 20 } else { 16 };
    let dl = t.delta();
    lines.push(Line::from(Span::styled(
        if wide {
            format!(
                "{:<tok_w$} {:<5} {:>6} {:>6} {:>8} {:>6} {:>6} {:>8} {:>9}",
                "token", "kind", "A q.w", "A i.w", "A contr", "B q.w", "B i.w", "B contr", dl
            )
        } else {
            format!(
                "{:<tok_w$} {:<5} {:>8} {:>8} {:>9}",
                "token", "kind", "A contr", "B contr", dl
            )
        },
        t.dim(),
    )));
    let rows = (inner.height as usize).saturating_sub(lines.len() + 1);
    for r in d.tokens.iter().skip(app.ab.scroll).take(rows) {
        lines.push(token_line(t, r, tok_w, wide));
    }
    let only_b = d.tokens.iter().filter(|x| x.a.is_none()).count();
    let only_a = d.tokens.iter().filter(|x| x.b.is_none()).count();
    let sum_a: f64 = d.tokens.iter().map(TokenDelta::contribution_a).sum();
    let sum_b: f64 = d.tokens.iter().map(TokenDelta::contribution_b).sum();
    lines.push(Line::from(Span::styled(
        format!(
            "{} tokens; sum A {sum_a:.4} B {sum_b:.4}; {only_b} only in B (new), {only_a} only in A (gone)",
            d.tokens.len()
        ),
        t.dim(),
    )));
    frame.render_widget(Paragraph::new(lines), inner);
}

fn token_line(t: &Theme, r: &TokenDelta, tok_w: usize, wide: bool) -> Line<'static> {
    let shown: String = sanitize(&r.token)
        .replace(' ', if t.ascii { "_" } else { "·" })
        .chars()
        .take(tok_w)
        .collect();
    let num = |x: Option<f64>, w: usize, p: usize| match x {
        Some(v) => format!("{v:>w$.p$}"),
        None => format!("{:>w$}", "-"),
    };
    let mut spans = vec![
        Span::raw(format!("{shown:<tok_w$} ")),
        Span::styled(format!("{:<5} ", r.kind.name()), t.dim()),
    ];
    let a = r.a.as_ref();
    let b = r.b.as_ref();
    if wide {
        spans.push(Span::raw(format!(
            "{} {} {} {} {} {} ",
            num(a.map(|c| c.query_weight), 6, 3),
            num(a.map(|c| c.item_weight), 6, 3),
            num(a.map(|c| c.contribution), 8, 5),
            num(b.map(|c| c.query_weight), 6, 3),
            num(b.map(|c| c.item_weight), 6, 3),
            num(b.map(|c| c.contribution), 8, 5),
        )));
    } else {
        spans.push(Span::raw(format!(
            "{} {} ",
            num(a.map(|c| c.contribution), 8, 5),
            num(b.map(|c| c.contribution), 8, 5),
        )));
    }
    let d = r.delta();
    spans.push(Span::styled(format!("{d:>+9.5}"), delta_style(t, d)));
    match (a, b) {
        (None, Some(_)) => spans.push(Span::styled(" new", t.accent())),
        (Some(_), None) => spans.push(Span::styled(" gone", t.dim())),
        _ => {}
    }
    Line::from(spans)
}

/// Stage names of both traces in pipeline order: a stage only one model
/// runs (stemming switched on, say) sits after the stage before it.
fn stage_order(a: &[TraceStage], b: &[TraceStage]) -> Vec<String> {
    let mut order: Vec<String> = a.iter().map(|s| s.stage.clone()).collect();
    let mut after: Option<usize> = None;
    for s in b {
        match order.iter().position(|x| *x == s.stage) {
            Some(i) => after = Some(i),
            None => {
                let at = after.map_or(0, |i| i + 1);
                order.insert(at, s.stage.clone());
                after = Some(at);
            }
        }
    }
    order
}

fn trace_text(t: &Theme, stage: Option<&TraceStage>) -> Span<'static> {
    match stage {
        Some(s) => Span::raw(
            s.output
                .iter()
                .map(|o| format!("\"{}\"", sanitize(o)))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        None => Span::styled("(stage off)", t.dim()),
    }
}

pub fn trace(
    frame: &mut Frame,
    app: &App,
    text: &str,
    a: &[TraceStage],
    b: &[TraceStage],
    scroll: usize,
    area: Rect,
) {
    let t = &app.theme;
    let mut lines = vec![
        Line::from(vec![
            Span::styled("query ", t.dim()),
            Span::raw(sanitize(text)),
        ]),
        Line::from(""),
    ];
    for name in stage_order(a, b) {
        let sa = a.iter().find(|s| s.stage == name);
        let sb = b.iter().find(|s| s.stage == name);
        if sa.is_some() && sa.map(|s| &s.output) == sb.map(|s| &s.output) {
            lines.push(Line::from(vec![
                Span::styled(format!("{name:<13}"), t.accent()),
                Span::styled("A=B ", t.dim()),
                trace_text(t, sa),
            ]));
        } else {
            lines.push(Line::from(vec![
                Span::styled(format!("{name:<13}"), t.warn()),
                Span::styled("A   ", t.dim()),
                trace_text(t, sa),
            ]));
            lines.push(Line::from(vec![
                Span::raw(format!("{:<13}", "")),
                Span::styled("B   ", t.accent()),
                trace_text(t, sb),
            ]));
        }
    }
    let rect = centered(area, 90, 85, (40, 10));
    super::overlays::popup_in(
        frame,
        app,
        " Preprocessing trace, A and B (Esc closes) ",
        rect,
        lines,
        scroll,
    );
}

fn metrics_lines(app: &App, v: &AbEvalView) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<12} {:>8} {:>8} {:>8}   ({} queries, k = {}, computed in {:.0} ms)",
            "metric",
            "A",
            "B",
            t.delta(),
            v.a.queries,
            v.a.k,
            v.millis
        ),
        t.dim(),
    ))];
    for (name, a) in &v.a.metrics.0 {
        let b = v.b.metrics.get(name).unwrap_or(0.0);
        let d = b - a;
        let style = if *name == v.metric {
            t.matched()
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{name:<12} "), style),
            Span::raw(format!("{a:>8.4} {b:>8.4} ")),
            Span::styled(format!("{d:>+8.4}"), delta_style(t, d)),
        ]));
    }
    lines.push(Line::from(""));
    let o = v.outcomes;
    let mut per = format!(
        "per query on {}: B wins {}, loses {}, ties {}",
        v.metric, o.wins, o.losses, o.ties
    );
    if v.unmatched > 0 {
        per.push_str(&format!(" ({} scored by one model only)", v.unmatched));
    }
    lines.push(Line::from(per));
    let mut changed: Vec<&crate::ab::QueryDelta> =
        v.deltas.iter().filter(|d| d.delta().abs() > 1e-9).collect();
    changed.sort_by(|x, y| {
        y.delta()
            .abs()
            .total_cmp(&x.delta().abs())
            .then_with(|| x.query.cmp(&y.query))
    });
    if !changed.is_empty() {
        lines.push(Line::from(Span::styled(
            "biggest changes (B - A):",
            t.dim(),
        )));
    }
    for d in changed.iter().take(15) {
        let q: String = sanitize(&d.query).chars().take(50).collect();
        lines.push(Line::from(vec![
            Span::styled(format!("  {:>+7.3} ", d.delta()), delta_style(t, d.delta())),
            Span::raw(format!(
                "{:.3} {} {:.3}  {} {q}",
                d.a,
                t.arrow(),
                d.b,
                d.query_kind
            )),
        ]));
    }
    lines.push(Line::from(""));
    let todo: usize = v.unjudged.iter().map(|(_, items)| items.len()).sum();
    lines.push(Line::from(format!(
        "B's top {} holds {todo} unjudged items in {} judged queries: L queues them for labelling",
        v.a.k,
        v.unjudged.len()
    )));
    lines
}

pub fn metrics(frame: &mut Frame, app: &App, scroll: usize, area: Rect) {
    let t = &app.theme;
    let mut lines = vec![
        Line::from(Span::styled(sanitize(&model_a_title(app)), t.accent())),
        Line::from(Span::styled(sanitize(&model_b_title(app)), t.accent())),
        Line::from(overlap_spans(app, true)),
        Line::from(""),
    ];
    match &app.ab.eval {
        Pending::Ready(v) => {
            if app.ab.eval_stale {
                lines.push(Line::from(Span::styled(
                    "labels changed since: recomputing...",
                    t.warn(),
                )));
            }
            lines.extend(metrics_lines(app, v));
        }
        Pending::Running => lines.push(Line::from(Span::styled(
            "evaluating A and B on the judgements...",
            t.dim(),
        ))),
        Pending::Failed(e) => lines.push(Line::from(Span::styled(
            format!("evaluation failed: {}", sanitize(e)),
            t.warn(),
        ))),
        Pending::Idle => lines.push(Line::from(Span::styled(
            "no judgements loaded: prodsim tui ... --judgements FILE",
            t.dim(),
        ))),
    }
    let rect = centered(area, 90, 85, (40, 10));
    super::overlays::popup_in(
        frame,
        app,
        " A/B metrics (Esc closes) ",
        rect,
        lines,
        scroll,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(name: &str) -> TraceStage {
        TraceStage {
            stage: name.into(),
            output: vec![],
        }
    }

    #[test]
    fn stages_only_one_model_runs_keep_pipeline_order() {
        let a = [st("input"), st("clean"), st("tokenize"), st("tokens")];
        let b = [
            st("input"),
            st("clean"),
            st("tokenize"),
            st("stopwords"),
            st("stem"),
            st("tokens"),
        ];
        assert_eq!(
            stage_order(&a, &b),
            ["input", "clean", "tokenize", "stopwords", "stem", "tokens"]
        );
        assert_eq!(
            stage_order(&b, &a),
            ["input", "clean", "tokenize", "stopwords", "stem", "tokens"]
        );
    }
}
