//! The explorer without a terminal: actions in, state out (update tests),
//! and every pane and overlay rendered on ratatui's TestBackend at 80x24 and
//! 120x40 (insta snapshots, plus buffer assertions for highlights).
//! Worker effects are run synchronously here with the same library calls
//! the explorer's workers make.

use prodsim::catalog::Catalog;
use prodsim::fuzzy::FuzzyIndex;
use prodsim::index::KeywordIndex;
use prodsim::jobs::NoProgress;
use prodsim::labels::LabelStore;
use prodsim::model::{ModelConfig, train};
use prodsim::rank::{Query, neighbours};
use prodsim::tui::action::{Action, Command};
use prodsim::tui::app::{App, Effect, FinderKind, Focus, Overlay};
use prodsim::tui::keymap::Mode;
use prodsim::tui::theme::{ColorMode, Theme};
use prodsim::tui::{key_to_action, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use std::path::Path;
use std::sync::Arc;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn app_with(csv: Option<&[u8]>, theme: Theme) -> App {
    let catalog = match csv {
        Some(bytes) => {
            Catalog::from_bytes(Path::new("shop.csv"), bytes, &Default::default()).unwrap()
        }
        None => {
            let config = ModelConfig {
                fields: "title,brand".into(),
                ..Default::default()
            };
            Catalog::load(&fixture("products.csv"), &config.catalog_options().unwrap()).unwrap()
        }
    };
    let config = ModelConfig {
        fields: catalog
            .field_specs()
            .iter()
            .map(|f| f.name.clone())
            .collect::<Vec<_>>()
            .join(","),
        ..Default::default()
    };
    let (model, _) = train(&catalog, &config, &NoProgress).unwrap();
    let mut app = App::new(Arc::new(catalog), Arc::new(model), theme);
    if csv.is_none() {
        // A private copy of the fixture judgements, labelled by "tester".
        let dir = tempfile::tempdir().unwrap().keep();
        let path = dir.join("judgements.csv");
        std::fs::copy(fixture("judgements.csv"), &path).unwrap();
        app.store = Some(LabelStore::open(&path, "tester").unwrap());
        app.analyst = "tester".into();
    }
    app.k = 10;
    app
}

fn app() -> App {
    app_with(None, Theme::new(ColorMode::None, false))
}

/// Runs the app's requested effects the way the workers would.
fn settle(app: &mut App) {
    loop {
        let effects = app.take_effects();
        if effects.is_empty() {
            return;
        }
        for e in effects {
            match e {
                Effect::Rank {
                    generation,
                    query,
                    k,
                } => {
                    let result = neighbours(&app.model, &query, k, true).map_err(|e| e.to_string());
                    app.update(Action::RankingReady {
                        generation,
                        result,
                        millis: 0.5,
                    });
                }
                Effect::Fuzzy {
                    generation,
                    pattern,
                } => {
                    let titles: Vec<String> = (0..app.model.len() as u32)
                        .map(|i| app.model.title(i).to_string())
                        .collect();
                    let index = FuzzyIndex::new(titles);
                    let found = index.search(&pattern, 200, None, &|| false, &mut |_| {});
                    let m = found.expect("not cancelled").matches;
                    let items = m.top.iter().map(|h| (h.item as u32, h.score)).collect();
                    app.update(Action::PickerReady {
                        generation,
                        items,
                        total: m.matched,
                        done: true,
                        millis: 0.2,
                    });
                }
                Effect::BuildKeywordIndex => app.update(Action::KeywordIndexReady(Ok(()))),
                Effect::Keyword { generation, query } => {
                    let index = KeywordIndex::build(&app.catalog, &NoProgress).unwrap();
                    let result = index
                        .search(&query, 200)
                        .map(|h| h.into_iter().map(|h| (h.row, h.score)).collect())
                        .map_err(|e| e.to_string());
                    app.update(Action::KeywordReady {
                        generation,
                        result,
                        millis: 0.3,
                    });
                }
                Effect::Evaluate {
                    generation,
                    judgements,
                } => {
                    let report = prodsim::eval::evaluate(&app.model, &judgements, 10).unwrap();
                    let pairs = prodsim::eval::pair_scores(&app.model, &judgements);
                    app.update(Action::EvaluationReady {
                        generation,
                        result: Ok(Box::new((report, pairs))),
                        millis: 1.0,
                    });
                }
                Effect::Retrain => {
                    let (m, _) = train(&app.catalog, &app.model.config, &NoProgress).unwrap();
                    app.install_model(Arc::new(m));
                    app.update(Action::RetrainDone(Ok("retrained".into())));
                }
            }
        }
    }
}

fn cmd(app: &mut App, c: Command) {
    app.update(Action::Command(c));
    settle(app);
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        app.update(Action::Input(c));
    }
    settle(app);
}

fn render(app: &mut App, w: u16, h: u16) -> Buffer {
    app.update(Action::Resize(w, h));
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| view::draw(f, app)).unwrap();
    terminal.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn ids(app: &App) -> Vec<String> {
    app.ranking
        .as_ref()
        .unwrap()
        .results
        .iter()
        .map(|n| n.item_id.clone())
        .collect()
}

// ---- state ---------------------------------------------------------------

#[test]
fn typing_ranks_as_you_type_and_drops_stale_results() {
    let mut app = app();
    assert_eq!(app.mode(), Mode::Query);
    app.update(Action::Input('s'));
    app.update(Action::Input('o'));
    let effects = app.take_effects();
    assert_eq!(effects.len(), 2, "one ranking request per keystroke");
    let (old, new) = match (&effects[0], &effects[1]) {
        (
            Effect::Rank { generation: a, .. },
            Effect::Rank {
                generation: b,
                query,
                ..
            },
        ) => {
            assert_eq!(*query, Query::Text("so".into()));
            (*a, *b)
        }
        other => panic!("{other:?}"),
    };
    let fresh = neighbours(&app.model, &Query::Text("so".into()), 10, true).unwrap();
    let stale = neighbours(&app.model, &Query::Text("s".into()), 10, true).unwrap();
    app.update(Action::RankingReady {
        generation: new,
        result: Ok(fresh.clone()),
        millis: 1.0,
    });
    app.update(Action::RankingReady {
        generation: old,
        result: Ok(stale),
        millis: 1.0,
    });
    assert_eq!(
        app.ranking.as_ref().unwrap(),
        &fresh,
        "the older result must not replace the newer"
    );
    typed(&mut app, "ny headphones");
    assert_eq!(app.input.text, "sony headphones");
    assert!(
        ids(&app)
            .iter()
            .take(2)
            .all(|id| id == "p003" || id == "p004"),
        "{:?}",
        ids(&app)
    );
}

#[test]
fn editing_keys() {
    let mut app = app();
    typed(&mut app, "sony wireless");
    cmd(&mut app, Command::DeleteWord);
    assert_eq!(app.input.text, "sony ");
    cmd(&mut app, Command::DeleteBack);
    cmd(&mut app, Command::CursorHome);
    typed(&mut app, "x");
    assert_eq!(app.input.text, "xsony");
    cmd(&mut app, Command::ClearInput);
    assert_eq!(app.input.text, "");
    assert!(
        app.ranking.is_none(),
        "an empty query clears the neighbours"
    );
}

#[test]
fn navigation_focus_and_item_queries() {
    let mut app = app();
    typed(&mut app, "kx ts3282b");
    cmd(&mut app, Command::Back);
    assert_eq!(app.focus, Focus::Neighbours);
    assert_eq!(app.mode(), Mode::Normal);
    assert_eq!(ids(&app)[0], "p001");
    cmd(&mut app, Command::Down);
    assert_eq!(app.selected, 1);
    cmd(&mut app, Command::Bottom);
    assert_eq!(app.selected, ids(&app).len() - 1);
    cmd(&mut app, Command::Top);
    cmd(&mut app, Command::NextPane);
    assert_eq!(app.focus, Focus::Breakdown);
    cmd(&mut app, Command::Down);
    assert_eq!(app.breakdown_scroll, 1);
    cmd(&mut app, Command::PrevPane);
    // Enter walks to the selected neighbour: it becomes the (item) query.
    cmd(&mut app, Command::Confirm);
    assert_eq!(app.query, Some(Query::Item("p001".into())));
    assert!(
        !ids(&app).contains(&"p001".to_string()),
        "an item is not its own neighbour"
    );
    assert!(
        ids(&app)[..3].contains(&"p015".to_string()),
        "{:?}",
        ids(&app)
    );
    // Editing an item query starts from its title as text.
    cmd(&mut app, Command::EditQuery);
    assert!(matches!(&app.query, Some(Query::Text(t)) if t.starts_with("Panasonic KX-TS3282B")));
}

#[test]
fn fuzzy_picker_picks_an_item() {
    let mut app = app();
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::PickItem);
    assert_eq!(app.mode(), Mode::Finder);
    assert_eq!(
        app.finder.as_ref().unwrap().items.len(),
        15,
        "empty pattern lists everything"
    );
    typed(&mut app, "mxmstr");
    let f = app.finder.as_ref().unwrap();
    assert_eq!(f.kind, FinderKind::Fuzzy);
    assert_eq!(app.model.item_id(f.items[0].0), "p009");
    cmd(&mut app, Command::Confirm);
    assert!(app.finder.is_none());
    assert_eq!(app.query, Some(Query::Item("p009".into())));
}

#[test]
fn keyword_search_by_column() {
    let mut app = app();
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::KeywordSearch);
    typed(&mut app, "brand:canon");
    let f = app.finder.as_ref().unwrap();
    let found: Vec<&str> = f.items.iter().map(|&(i, _)| app.model.item_id(i)).collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.contains(&"p006") && found.contains(&"p007"));
    cmd(&mut app, Command::ClearInput);
    typed(&mut app, "colour:red");
    let err = app
        .finder
        .as_ref()
        .unwrap()
        .error
        .clone()
        .expect("unknown field is an error");
    assert!(err.contains("colour") && err.contains("brand"), "{err}");
}

#[test]
fn overlays_open_and_close() {
    let mut app = app();
    typed(&mut app, "canon ink");
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::Details);
    assert!(matches!(app.overlay, Some(Overlay::Details { .. })));
    assert_eq!(app.mode(), Mode::Overlay);
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::Trace);
    match &app.overlay {
        Some(Overlay::Trace { stages, .. }) => assert_eq!(stages.last().unwrap().stage, "tokens"),
        other => panic!("{other:?}"),
    }
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::Help);
    assert!(matches!(app.overlay, Some(Overlay::Help { .. })));
    cmd(&mut app, Command::Back);
    assert!(app.overlay.is_none());
    cmd(&mut app, Command::MoreNeighbours);
    assert_eq!(app.k, 20);
    cmd(&mut app, Command::Quit);
    assert!(app.should_quit);
}

#[test]
fn keys_map_to_actions_by_mode() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = app();
    let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    assert!(
        matches!(key_to_action(&app, &q), Some(Action::Input('q'))),
        "q types in the query line"
    );
    cmd(&mut app, Command::Back);
    assert!(matches!(
        key_to_action(&app, &q),
        Some(Action::Command(Command::Quit))
    ));
    // Esc and f arriving together read as Alt-f: it means both.
    let mut app2 = self::app();
    prodsim::tui::handle_key(
        &mut app2,
        &KeyEvent::new(KeyCode::Char('f'), KeyModifiers::ALT),
    );
    assert_eq!(app2.mode(), Mode::Finder);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    cmd(&mut app, Command::PickItem);
    assert!(matches!(
        key_to_action(&app, &ctrl_c),
        Some(Action::Command(Command::Quit))
    ));
}

#[test]
fn fingerprint_mismatch_offers_retraining() {
    let mut app = app();
    let other = Catalog::from_bytes(
        Path::new("other.csv"),
        b"id,title\nx1,Sony TV\n",
        &Default::default(),
    )
    .unwrap();
    let model = app.model.clone();
    app = App::new(Arc::new(other), model, Theme::new(ColorMode::None, false));
    assert_eq!(app.mode(), Mode::Notice);
    cmd(&mut app, Command::Retrain);
    assert!(app.overlay.is_none());
    assert_eq!(app.model.len(), 1, "retrained on the loaded catalogue");
    assert_eq!(app.model.meta.catalog_fingerprint, app.catalog.fingerprint);
}

// ---- rendering -----------------------------------------------------------

fn scene(name: &str) -> App {
    let mut app = app();
    match name {
        "empty" => {}
        "text_query" => {
            typed(&mut app, "kx ts3282b phone");
            cmd(&mut app, Command::Back);
        }
        "breakdown_focus" => {
            typed(&mut app, "sony wireless headphones");
            cmd(&mut app, Command::Back);
            cmd(&mut app, Command::NextPane);
        }
        "item_query" => {
            cmd(&mut app, Command::Back);
            cmd(&mut app, Command::PickItem);
            typed(&mut app, "pixma");
            cmd(&mut app, Command::Confirm);
        }
        "picker" => {
            cmd(&mut app, Command::Back);
            cmd(&mut app, Command::PickItem);
            typed(&mut app, "hdphn");
        }
        "keyword" => {
            cmd(&mut app, Command::Back);
            cmd(&mut app, Command::KeywordSearch);
            typed(&mut app, "brand:logitech");
        }
        "details" => {
            typed(&mut app, "ssd");
            cmd(&mut app, Command::Back);
            cmd(&mut app, Command::Details);
        }
        "trace" => {
            typed(&mut app, "Crème KX-TS3282B");
            cmd(&mut app, Command::Back);
            cmd(&mut app, Command::Trace);
        }
        "help" => {
            cmd(&mut app, Command::Back);
            cmd(&mut app, Command::Help);
        }
        "no_match" => typed(&mut app, "qqqq"),
        other => panic!("unknown scene {other}"),
    }
    app
}

#[test]
fn snapshots_of_every_pane_and_overlay() {
    for name in [
        "empty",
        "text_query",
        "breakdown_focus",
        "item_query",
        "picker",
        "keyword",
        "details",
        "trace",
        "help",
        "no_match",
    ] {
        for (w, h) in [(80, 24), (120, 40)] {
            let mut app = scene(name);
            let buf = render(&mut app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), text(&buf));
        }
    }
}

#[test]
fn snapshot_ascii_and_mismatch() {
    let mut app = app_with(None, Theme::new(ColorMode::None, true));
    typed(&mut app, "sony headphones");
    cmd(&mut app, Command::Back);
    let buf = render(&mut app, 80, 24);
    let t = text(&buf);
    assert!(t.is_ascii(), "ASCII mode must draw only ASCII:\n{t}");
    insta::assert_snapshot!("ascii_80x24", t);

    let other = Catalog::from_bytes(
        Path::new("other.csv"),
        b"id,title\nx1,Sony TV\n",
        &Default::default(),
    )
    .unwrap();
    let mut app = App::new(
        Arc::new(other),
        app.model.clone(),
        Theme::new(ColorMode::None, false),
    );
    for (w, h) in [(80, 24), (120, 40)] {
        let buf = render(&mut app, w, h);
        insta::assert_snapshot!(format!("mismatch_{w}x{h}"), text(&buf));
    }
}

/// Cells of a row whose symbols spell `needle`, with their styles.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let w = buf.area.width;
    for y in 0..buf.area.height {
        let row: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        if let Some(pos) = row.find(needle) {
            let x = row[..pos].chars().count() as u16;
            return Some((x, y));
        }
    }
    None
}

#[test]
fn highlights_are_styled() {
    let theme = Theme::new(ColorMode::TrueColor, false);
    // Picker: the fuzzy-matched characters carry the match style, others not.
    let mut app = app_with(None, theme.clone());
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::PickItem);
    typed(&mut app, "pixma");
    let buf = render(&mut app, 120, 40);
    let (x, y) = find(&buf, "PIXMA").expect("title shown");
    for i in 0..5 {
        assert!(
            buf[(x + i, y)].modifier.contains(Modifier::UNDERLINED),
            "char {i} of PIXMA not highlighted"
        );
    }
    let (cx, cy) = find(&buf, "Canon PIXMA").unwrap();
    assert!(
        !buf[(cx, cy)].modifier.contains(Modifier::UNDERLINED),
        "'C' of Canon must not be highlighted"
    );

    // Breakdown: shared words of the item title are highlighted, others not.
    let mut app = app_with(None, theme);
    typed(&mut app, "canon ink cartridge");
    cmd(&mut app, Command::Back);
    let buf = render(&mut app, 120, 40);
    let (x, y) = find(&buf, "item  Canon PG-245 Black Ink Cartridge").expect("item line");
    let at = |s: &str| x + "item  Canon PG-245 Black Ink Cartridge".find(s).unwrap() as u16;
    assert!(
        buf[(at("Canon"), y)]
            .modifier
            .contains(Modifier::UNDERLINED)
    );
    assert!(
        buf[(at("Cartridge"), y)]
            .modifier
            .contains(Modifier::UNDERLINED)
    );
    assert!(
        !buf[(at("Black"), y)]
            .modifier
            .contains(Modifier::UNDERLINED)
    );
    // The selected neighbour row is styled as selected.
    let (_, row) = find(&buf, "  1 ").unwrap();
    assert!(buf[(3, row)].modifier.contains(Modifier::BOLD));
}

#[test]
fn untrusted_text_never_reaches_the_terminal_raw() {
    let csv = b"id,title\nx1,\"Evil \x1b[2J\x1b]0;pwned\x07 TV\"\nx2,Sony TV\n";
    let mut app = app_with(Some(csv), Theme::new(ColorMode::None, false));
    typed(&mut app, "tv");
    cmd(&mut app, Command::Back);
    let buf = render(&mut app, 80, 24);
    for cell in buf.content() {
        assert!(
            !cell.symbol().chars().any(|c| c.is_control()),
            "control char in a cell"
        );
    }
    assert!(text(&buf).contains("Evil  [2J ]0;pwned  TV"));
}

#[test]
fn breakdown_numbers_are_the_query_commands() {
    let mut app = app();
    typed(&mut app, "sony headphones");
    let shown = app.ranking.as_ref().unwrap().results[0].clone();
    let cli = neighbours(&app.model, &Query::Text("sony headphones".into()), 10, true).unwrap();
    assert_eq!(shown, cli.results[0]);
}

// ---- labelling -------------------------------------------------------------

fn label_file(app: &App) -> String {
    std::fs::read_to_string(app.store.as_ref().unwrap().path()).unwrap()
}

#[test]
fn grading_is_durable_advances_and_undoes() {
    let mut app = app();
    typed(&mut app, "kx ts3282b corded phone");
    cmd(&mut app, Command::Back);
    // The fixture judged p001 (2), p002 (1), p009 (0) for this text already.
    assert_eq!(app.label_of("p001"), Some(2));
    let before = app.store.as_ref().unwrap().len();
    // Select an unjudged neighbour and grade it 3.
    cmd(&mut app, Command::Top);
    cmd(&mut app, Command::NextUnjudged);
    let item = app.ranking.as_ref().unwrap().results[app.selected]
        .item_id
        .clone();
    assert!(app.label_of(&item).is_none());
    cmd(&mut app, Command::Grade(3));
    assert_eq!(app.label_of(&item), Some(3));
    assert_eq!(app.store.as_ref().unwrap().len(), before + 1);
    // On disk at once, with provenance.
    let text = label_file(&app);
    let line = text
        .lines()
        .find(|l| l.contains(&item) && l.contains("kx ts3282b corded phone"))
        .expect("row on disk");
    assert!(
        line.contains("tester") && line.contains(&app.model.meta.model_id),
        "{line}"
    );
    // Grading moved on to the next unjudged neighbour.
    let now = app.ranking.as_ref().unwrap().results[app.selected]
        .item_id
        .clone();
    assert!(
        app.label_of(&now).is_none(),
        "cursor should be on an unjudged row"
    );
    // Re-grading replaces; undo restores; redo re-applies.
    app.selected = app
        .ranking
        .as_ref()
        .unwrap()
        .results
        .iter()
        .position(|n| n.item_id == item)
        .unwrap();
    cmd(&mut app, Command::Grade(1));
    assert_eq!(app.label_of(&item), Some(1));
    cmd(&mut app, Command::Undo);
    assert_eq!(app.label_of(&item), Some(3));
    cmd(&mut app, Command::Undo);
    assert_eq!(app.label_of(&item), None);
    cmd(&mut app, Command::Redo);
    assert_eq!(app.label_of(&item), Some(3));
    // A grade beyond the scale is refused, nothing written.
    let len = app.store.as_ref().unwrap().len();
    cmd(&mut app, Command::Grade(7));
    assert_eq!(app.store.as_ref().unwrap().len(), len);
    assert!(app.status.contains("outside the scale"), "{}", app.status);
    // Reopening the file shows the labels.
    let path = app.store.as_ref().unwrap().path().to_path_buf();
    app.store = None; // releases the lock
    let store = LabelStore::open(&path, "other").unwrap();
    assert_eq!(
        store.grade(&Query::Text("kx ts3282b corded phone".into()), &item),
        Some(3)
    );
}

#[test]
fn binary_scale_blind_mode_and_queue() {
    let mut app = app();
    app.scale = prodsim::tui::app::GradeScale::binary();
    app.set_queue(vec![
        Query::Item("p003".into()),
        Query::Text("canon ink".into()),
    ]);
    settle(&mut app);
    assert_eq!(app.query, Some(Query::Item("p003".into())));
    assert!(app.status.contains("queue 1/2"), "{}", app.status);
    cmd(&mut app, Command::Grade(2));
    assert!(
        app.status.contains("y / n"),
        "digits are refused on the binary scale"
    );
    let first = app.ranking.as_ref().unwrap().results[app.selected]
        .item_id
        .clone();
    cmd(&mut app, Command::GradeYes);
    assert_eq!(app.label_of(&first), Some(1));
    cmd(&mut app, Command::GradeNo);
    cmd(&mut app, Command::ToggleBlind);
    let buf = render(&mut app, 80, 24);
    let t = text(&buf);
    assert!(
        t.contains("[blind]") && !t.contains("Why #"),
        "blind mode hides scores:\n{t}"
    );
    cmd(&mut app, Command::NextQuery);
    assert_eq!(app.query, Some(Query::Text("canon ink".into())));
    cmd(&mut app, Command::NextQuery);
    assert_eq!(
        app.queue.as_ref().unwrap().pos,
        1,
        "the queue stops at its end"
    );
    cmd(&mut app, Command::PrevQuery);
    assert_eq!(app.query, Some(Query::Item("p003".into())));
}

#[test]
fn evaluation_screen_tabs_sorting_threshold_and_pairs() {
    let mut app = app();
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::Evaluate);
    assert_eq!(app.mode(), Mode::Evaluation);
    let Some(Overlay::Evaluation(view)) = &app.overlay else {
        panic!("no evaluation")
    };
    let cli = prodsim::eval::evaluate(&app.model, &app.store.as_ref().unwrap().to_judgements(), 10)
        .unwrap();
    assert_eq!(
        view.report.metrics, cli.metrics,
        "same numbers as prodsim eval"
    );
    let sort_before = view.sort;
    let threshold = view.threshold;
    cmd(&mut app, Command::SortNext);
    cmd(&mut app, Command::NextTab);
    cmd(&mut app, Command::NextTab);
    cmd(&mut app, Command::ThresholdUp);
    let Some(Overlay::Evaluation(view)) = &app.overlay else {
        panic!()
    };
    assert_ne!(view.sort, sort_before);
    assert!(view.threshold > threshold);
    for (w, h) in [(80, 24), (120, 40)] {
        let buf = render(&mut app, w, h);
        insta::assert_snapshot!(format!("evaluation_scores_{w}x{h}"), text(&buf));
    }
    // Disagreements: Enter opens the pair's breakdown, Esc returns.
    cmd(&mut app, Command::NextTab);
    cmd(&mut app, Command::NextTab);
    let Some(Overlay::Evaluation(view)) = &app.overlay else {
        panic!()
    };
    assert_eq!(view.tab, prodsim::tui::app::EvalTab::Disagreements);
    let worst = view.pairs[view.disagreements[0]].clone();
    assert!(
        view.disagreements
            .windows(2)
            .all(|w| view.pairs[w[0]].disagreement() >= view.pairs[w[1]].disagreement())
    );
    for (w, h) in [(80, 24), (120, 40)] {
        let buf = render(&mut app, w, h);
        insta::assert_snapshot!(format!("evaluation_disagreements_{w}x{h}"), text(&buf));
    }
    cmd(&mut app, Command::Confirm);
    match &app.overlay {
        Some(Overlay::Pair { pair, .. }) => assert_eq!(pair.item_id, worst.item_id),
        other => panic!("{other:?}"),
    }
    let buf = render(&mut app, 80, 24);
    insta::assert_snapshot!("pair_80x24", text(&buf));
    cmd(&mut app, Command::Back);
    assert_eq!(app.mode(), Mode::Evaluation);
    // Queries tab (Disagreements -> Scores -> Queries): Enter opens the query.
    cmd(&mut app, Command::NextTab);
    cmd(&mut app, Command::NextTab);
    for (w, h) in [(80, 24), (120, 40)] {
        let buf = render(&mut app, w, h);
        insta::assert_snapshot!(format!("evaluation_queries_{w}x{h}"), text(&buf));
    }
    cmd(&mut app, Command::Confirm);
    assert!(app.overlay.is_none());
    assert!(app.query.is_some());
}
