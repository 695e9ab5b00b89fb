//! The evaluation screen: the model's metrics over the loaded judgements,
//! a per-query table sortable by metric with a bar chart of the sorted
//! values, the pairs where score and label disagree most, and the score
//! distributions of relevant and irrelevant pairs with a movable threshold.

use super::{centered, pane};
use crate::eval::{histogram, threshold_stats};
use crate::tui::app::{App, EvalTab, EvalView};
use crate::tui::theme::sanitize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Chart, Clear, Dataset, GraphType, Paragraph,
};

pub fn draw(frame: &mut Frame, app: &App, view: &EvalView, area: Rect) {
    let t = &app.theme;
    let rect = centered(area, 96, 92, (60, 16));
    frame.render_widget(Clear, rect);
    let block = pane(
        t,
        Span::styled(" Evaluation (Esc closes) ", t.accent()),
        true,
    );
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [summary, tabs, body] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(3),
    ])
    .areas(inner);

    let r = &view.report;
    let mut spans = vec![Span::styled(
        format!(
            "model {} · {} queries · ",
            app.model.meta.model_id, r.queries
        ),
        t.dim(),
    )];
    for (i, (name, v)) in r.metrics.0.iter().enumerate() {
        let style = if i == view.sort {
            t.matched()
        } else {
            Style::default()
        };
        spans.push(Span::styled(format!("{name} {v:.3}"), style));
        spans.push(Span::raw("  "));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).wrap(ratatui::widgets::Wrap { trim: true }),
        summary,
    );
    let tab = |name: &'static str, on: bool| {
        if on {
            Span::styled(format!("[{name}]"), t.accent())
        } else {
            Span::styled(format!(" {name} "), t.dim())
        }
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            tab("Queries", view.tab == EvalTab::Queries),
            Span::raw(" "),
            tab("Disagreements", view.tab == EvalTab::Disagreements),
            Span::raw(" "),
            tab("Scores", view.tab == EvalTab::Scores),
        ])),
        tabs,
    );
    match view.tab {
        EvalTab::Queries => queries(frame, app, view, body),
        EvalTab::Disagreements => disagreements(frame, app, view, body),
        EvalTab::Scores => scores(frame, app, view, body),
    }
}

fn metric_name(view: &EvalView) -> String {
    view.report
        .metrics
        .0
        .get(view.sort)
        .map(|m| m.0.clone())
        .unwrap_or_default()
}

fn queries(frame: &mut Frame, app: &App, view: &EvalView, area: Rect) {
    let t = &app.theme;
    let [table, chart] = Layout::vertical([Constraint::Min(3), Constraint::Length(7)]).areas(area);
    let name = metric_name(view);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:>8}  {:>4}  {:>5}  query (sorted by {name}, worst first; o: next metric, Enter: open)",
            name, "rel", "first"
        ),
        t.dim(),
    ))];
    let height = (table.height as usize).saturating_sub(1);
    let offset = (view.selected + 1).saturating_sub(height);
    for (pos, &i) in view.order.iter().enumerate().skip(offset).take(height) {
        let q = &view.report.per_query[i];
        let v = q.metrics.get(&name).unwrap_or(0.0);
        let first = q
            .first_relevant_rank
            .map_or("-".to_string(), |r| r.to_string());
        let line = Line::from(vec![
            Span::raw(if pos == view.selected {
                t.pointer()
            } else {
                " "
            }),
            Span::styled(
                format!("{v:>7.3}  "),
                if v <= 0.0 { t.bad() } else { Style::default() },
            ),
            Span::raw(format!("{:>4}  {:>5}  ", q.relevant, first)),
            Span::styled(format!("{} ", q.query_kind), t.dim()),
            Span::raw(sanitize(&q.query)),
        ]);
        lines.push(if pos == view.selected {
            line.style(t.selected())
        } else {
            line
        });
    }
    frame.render_widget(Paragraph::new(lines), table);

    // The sorted per-query values as bars: the shape of the distribution.
    let width = chart.width.saturating_sub(2) as usize;
    let n = view.order.len();
    let step = n.div_ceil(width.max(1)).max(1);
    let bars: Vec<Bar> = view
        .order
        .chunks(step)
        .map(|c| {
            let mean = c
                .iter()
                .map(|&i| view.report.per_query[i].metrics.get(&name).unwrap_or(0.0))
                .sum::<f64>()
                / c.len() as f64;
            Bar::default()
                .value((mean * 100.0).round() as u64)
                .text_value(String::new())
        })
        .collect();
    let mut bc = BarChart::default()
        .block(pane(
            t,
            Span::styled(format!(" {name} per query (x100), sorted "), t.dim()),
            false,
        ))
        .data(BarGroup::default().bars(&bars))
        .bar_width(1)
        .bar_gap(0)
        .max(100)
        .bar_style(t.bar());
    if t.ascii {
        bc = bc.bar_set(ratatui::symbols::bar::Set {
            full: "#",
            seven_eighths: "#",
            three_quarters: "#",
            five_eighths: "#",
            half: "#",
            three_eighths: ".",
            one_quarter: ".",
            one_eighth: ".",
            empty: " ",
        });
    }
    frame.render_widget(bc, chart);
}

fn disagreements(frame: &mut Frame, app: &App, view: &EvalView, area: Rect) {
    let t = &app.theme;
    let mut lines = vec![Line::from(Span::styled(
        "disagree grade  score  rank  query -> item (high score judged irrelevant, relevant ranked low; Enter: breakdown)",
        t.dim(),
    ))];
    let height = (area.height as usize).saturating_sub(1);
    let offset = (view.selected + 1).saturating_sub(height);
    for (pos, &i) in view
        .disagreements
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
    {
        let p = &view.pairs[i];
        let title = app
            .model
            .find_item(&p.item_id)
            .map(|it| app.model.title(it).to_string())
            .unwrap_or_else(|| p.item_id.clone());
        let rank = p.rank.map_or("-".to_string(), |r| r.to_string());
        let line = Line::from(vec![
            Span::raw(if pos == view.selected {
                t.pointer()
            } else {
                " "
            }),
            Span::raw(format!("{:>7.3} ", p.disagreement())),
            Span::styled(
                format!("{:>5} ", p.grade),
                if p.grade > 0 { t.good() } else { t.bad() },
            ),
            Span::raw(format!("{:>6.3} {:>5}  ", p.score, rank)),
            Span::raw(sanitize(p.query.value())),
            Span::styled(" -> ", t.dim()),
            Span::raw(sanitize(&title)),
        ]);
        lines.push(if pos == view.selected {
            line.style(t.selected())
        } else {
            line
        });
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn scores(frame: &mut Frame, app: &App, view: &EvalView, area: Rect) {
    let t = &app.theme;
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
    let s = threshold_stats(&view.pairs, view.threshold);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("threshold {:.3}", s.threshold), t.matched()),
            Span::raw(format!(
                "  precision {:.3}  recall {:.3}  (kept relevant {}, kept irrelevant {}, missed relevant {})  ",
                s.precision, s.recall, s.true_positives, s.false_positives, s.false_negatives
            )),
            Span::styled("h/l or arrows move it", t.dim()),
        ])),
        head,
    );
    let bins = 20usize;
    let h = histogram(&view.pairs, bins);
    let width = h.max / bins as f64;
    if t.ascii {
        // Plain rows: one bin per line, relevant and irrelevant side by side.
        let most = h
            .relevant
            .iter()
            .chain(&h.irrelevant)
            .copied()
            .max()
            .unwrap_or(1)
            .max(1);
        let bar_w = (body.width as usize).saturating_sub(20) / 2;
        let mut lines = vec![Line::from(Span::styled(
            format!(
                "{:<13}{:<w$} irrelevant",
                "score",
                "relevant",
                w = bar_w + 1
            ),
            t.dim(),
        ))];
        for b in (0..bins).rev().take(body.height.saturating_sub(1) as usize) {
            let lo = b as f64 * width;
            let mark = if view.threshold >= lo && view.threshold < lo + width {
                ">"
            } else {
                " "
            };
            let rel = "#".repeat(h.relevant[b] * bar_w / most);
            let irr = "#".repeat(h.irrelevant[b] * bar_w / most);
            lines.push(Line::from(vec![
                Span::raw(format!("{mark}{lo:>5.3}-{:<5.3} ", lo + width)),
                Span::styled(format!("{rel:<bar_w$} "), t.good()),
                Span::styled(irr, t.bad()),
            ]));
        }
        frame.render_widget(Paragraph::new(lines), body);
        return;
    }
    let points = |counts: &[usize]| -> Vec<(f64, f64)> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &c)| ((i as f64 + 0.5) * width, c as f64))
            .collect()
    };
    let rel = points(&h.relevant);
    let irr = points(&h.irrelevant);
    let top = h
        .relevant
        .iter()
        .chain(&h.irrelevant)
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let line = vec![(view.threshold, 0.0), (view.threshold, top)];
    let datasets = vec![
        Dataset::default()
            .name("relevant")
            .marker(Marker::Braille)
            .graph_type(GraphType::Bar)
            .style(t.good())
            .data(&rel),
        Dataset::default()
            .name("irrelevant")
            .marker(Marker::Braille)
            .graph_type(GraphType::Bar)
            .style(t.bad())
            .data(&irr),
        Dataset::default()
            .name("threshold")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.matched())
            .data(&line),
    ];
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .title("score")
                .bounds([0.0, h.max])
                .labels(vec![
                    Span::raw("0"),
                    Span::raw(format!("{:.2}", h.max / 2.0)),
                    Span::raw(format!("{:.2}", h.max)),
                ]),
        )
        .y_axis(
            Axis::default()
                .title("pairs")
                .bounds([0.0, top])
                .labels(vec![Span::raw("0"), Span::raw(format!("{top:.0}"))]),
        );
    frame.render_widget(chart, body);
}
