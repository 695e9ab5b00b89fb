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
use prodsim::tui::action::{Action, Command, LoadedCatalog, Side, Trained};
use prodsim::tui::app::{App, CatalogState, Effect, FinderKind, Focus, Overlay};
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
                Effect::LoadCatalog { path, options } => {
                    let result = Catalog::load(&path, &options)
                        .map(|c| LoadedCatalog {
                            catalog: Arc::new(c),
                        })
                        .map_err(|e| e.to_string());
                    app.update(Action::CatalogLoaded(result));
                }
                Effect::Rank {
                    side,
                    generation,
                    query,
                    k,
                } => {
                    let model = match side {
                        Side::A => app.model.clone(),
                        Side::B => app.b.as_ref().expect("B ranked without B").model.clone(),
                    };
                    let result = neighbours(&model, &query, k, true).map_err(|e| e.to_string());
                    app.update(Action::RankingReady {
                        side,
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
                    let index = KeywordIndex::build(
                        app.catalog
                            .ready()
                            .expect("keyword index before the catalogue"),
                        &NoProgress,
                    )
                    .unwrap();
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
                Effect::Train {
                    generation,
                    config,
                    target: _,
                    reread,
                } => {
                    let result = prodsim::tui::app::train_on(
                        app.catalog.ready().expect("trained before the catalogue"),
                        &config,
                        reread,
                        &NoProgress,
                    )
                    .map(|m| Trained {
                        model: Arc::new(m),
                        seconds: 0.25,
                    })
                    .map_err(|e| e.to_string());
                    app.update(Action::TrainDone { generation, result });
                }
                Effect::CancelTrain { .. } => {}
                Effect::AbOverlap {
                    generation,
                    queries,
                    k,
                } => {
                    let b = app.b.as_ref().unwrap().model.clone();
                    let result = prodsim::tui::app::mean_overlap_over(&app.model, &b, &queries, k);
                    app.update(Action::AbOverlapReady { generation, result });
                }
                Effect::AbEvaluate {
                    generation,
                    judgements,
                } => {
                    let b = app.b.as_ref().unwrap().model.clone();
                    let result =
                        prodsim::tui::app::evaluate_ab(&app.model, &b, &judgements).map(Box::new);
                    app.update(Action::AbEvaluationReady {
                        generation,
                        result,
                        millis: 1.0,
                    });
                }
                Effect::SaveModel {
                    side,
                    model_id,
                    path,
                } => {
                    let model = match side {
                        Side::A => app.model.clone(),
                        Side::B => app.b.as_ref().unwrap().model.clone(),
                    };
                    let result = prodsim::model::format::save(&model, &path)
                        .map(|bytes| (path, bytes))
                        .map_err(|e| e.to_string());
                    app.update(Action::Saved {
                        side,
                        model_id,
                        result,
                    });
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
        side: Side::A,
        generation: new,
        result: Ok(fresh.clone()),
        millis: 1.0,
    });
    app.update(Action::RankingReady {
        side: Side::A,
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
    assert_eq!(
        app.model.meta.catalog_fingerprint,
        app.catalog.ready().unwrap().fingerprint
    );
}

/// The catalogue read an explorer asked for, not yet run.
struct PendingLoad {
    path: std::path::PathBuf,
    options: prodsim::catalog::CatalogOptions,
}

/// An explorer opened the way `prodsim tui` opens it: on the fixture's
/// model, with the catalogue at `catalog` still to be read. Its only
/// effect at start is that read, returned to run when the test chooses.
fn loading_app(catalog: &Path) -> (App, PendingLoad) {
    let model = app().model.clone();
    let options = model.config.catalog_options().unwrap();
    let theme = Theme::new(ColorMode::None, false);
    let mut app = App::loading(catalog.to_path_buf(), options, model, theme);
    app.k = 10;
    let mut effects = app.take_effects();
    assert_eq!(effects.len(), 1, "{effects:?}");
    let Some(Effect::LoadCatalog { path, options }) = effects.pop() else {
        panic!("the first effect reads the catalogue: {effects:?}");
    };
    assert_eq!(path, catalog);
    (app, PendingLoad { path, options })
}

/// Runs the catalogue read as the worker does and delivers the result.
fn finish_load(app: &mut App, load: PendingLoad) {
    let result = Catalog::load(&load.path, &load.options)
        .map(|c| LoadedCatalog {
            catalog: Arc::new(c),
        })
        .map_err(|e| e.to_string());
    app.update(Action::CatalogLoaded(result));
}

fn write_temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn the_first_frame_needs_only_the_model_and_the_catalogue_loads_after() {
    let (mut app, load) = loading_app(&fixture("products.csv"));
    assert!(matches!(app.catalog, CatalogState::Loading { .. }));
    assert_eq!(app.mode(), Mode::Query, "the query line has focus at once");
    assert!(
        app.overlay.is_none(),
        "no notice before the catalogue is in"
    );

    // Typing ranks, item picking and walking work from the model alone.
    typed(&mut app, "canon ink");
    assert!(!ids(&app).is_empty());
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::PickItem);
    typed(&mut app, "pixma");
    cmd(&mut app, Command::Confirm);
    assert!(matches!(app.query, Some(Query::Item(_))));
    assert!(app.ranking.is_some());

    // What needs the catalogue says it is loading instead of failing.
    cmd(&mut app, Command::KeywordSearch);
    assert!(
        app.take_effects().is_empty(),
        "no keyword index without the catalogue"
    );
    let screen = text(&render(&mut app, 120, 40));
    assert!(
        screen.contains("catalogue loading... the keyword index is built when it is in"),
        "{screen}"
    );
    assert!(
        screen.contains("products.csv (catalogue loading...)"),
        "{screen}"
    );

    // The catalogue arrives: the keyword index build starts for the open
    // search, the status line drops the note, no mismatch (same file).
    finish_load(&mut app, load);
    assert!(app.catalog.ready().is_some());
    assert!(app.overlay.is_none());
    assert!(
        matches!(&app.take_effects()[..], [Effect::BuildKeywordIndex]),
        "the waiting keyword search starts its index"
    );
    app.update(Action::KeywordIndexReady(Ok(())));
    typed(&mut app, "brand:logitech");
    let f = app.finder.as_ref().unwrap();
    assert!(!f.items.is_empty(), "keyword search works once loaded");
    let screen = text(&render(&mut app, 120, 40));
    assert!(!screen.contains("catalogue loading"), "{screen}");
}

#[test]
fn details_and_retraining_wait_for_the_catalogue() {
    let (mut app, load) = loading_app(&fixture("products.csv"));
    typed(&mut app, "sony headphones");
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::Details);
    let item = app.selected_item().unwrap();
    let screen = text(&render(&mut app, 120, 40));
    assert!(screen.contains(app.model.item_id(item)), "{screen}");
    assert!(
        screen.contains("catalogue loading... the other columns show when it is in"),
        "{screen}"
    );
    cmd(&mut app, Command::Back);

    // Retraining from the options panel is refused, with the reason.
    cmd(&mut app, Command::Options);
    cmd(&mut app, Command::Retrain);
    assert!(app.training.is_none());
    assert!(
        !app.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::Train { .. })),
        "no training without the catalogue"
    );
    let Some(Overlay::Options(panel)) = &app.overlay else {
        panic!("the options panel stays open");
    };
    assert_eq!(
        panel.message.as_deref(),
        Some("cannot retrain yet: the catalogue is still loading")
    );
    cmd(&mut app, Command::Back);

    // Loaded: details show every column and retraining runs.
    finish_load(&mut app, load);
    cmd(&mut app, Command::Details);
    let screen = text(&render(&mut app, 120, 40));
    assert!(screen.contains("brand"), "every column:\n{screen}");
    assert!(!screen.contains("catalogue loading"), "{screen}");
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::Options);
    cmd(&mut app, Command::Retrain);
    assert!(app.b.is_some(), "model B trained on the loaded catalogue");
}

#[test]
fn mismatch_found_on_load_waits_until_the_user_is_not_typing() {
    let other = write_temp("other.csv", b"id,title,brand\nx1,Sony TV,Sony\n");

    // Loaded before any key: the notice opens at once, as before.
    let (mut app, load) = loading_app(&other);
    finish_load(&mut app, load);
    assert_eq!(app.mode(), Mode::Notice);

    // Loaded while typing: the keys keep going to the query line (a `q`
    // must not quit, an `r` must not retrain) until the user leaves it.
    let (mut app, load) = loading_app(&other);
    typed(&mut app, "so");
    finish_load(&mut app, load);
    assert_eq!(app.mode(), Mode::Query);
    assert!(app.status.contains("do not match"), "{}", app.status);
    typed(&mut app, "qr");
    assert_eq!(app.input.text, "soqr");
    assert!(!app.should_quit && app.training.is_none());
    cmd(&mut app, Command::Back);
    assert_eq!(app.mode(), Mode::Notice, "the notice opens in the panes");
    let Some(Overlay::Mismatch { message }) = &app.overlay else {
        panic!("mismatch notice");
    };
    assert!(message.contains("other.csv"), "{message}");
    cmd(&mut app, Command::Retrain);
    assert_eq!(app.model.len(), 1, "retrained on the loaded catalogue");
}

#[test]
fn a_catalogue_that_fails_to_load_is_reported_and_the_model_keeps_working() {
    let bad = write_temp(
        "broken.csv",
        b"id,title,brand\na1,Sony TV,Sony\na1,Sony Radio,Sony\n",
    );
    let (mut app, load) = loading_app(&bad);
    finish_load(&mut app, load);
    let CatalogState::Failed { error, .. } = &app.catalog else {
        panic!("the load fails: {:?}", app.catalog);
    };
    assert!(
        error.contains("broken.csv") && error.contains("line 3") && error.contains("duplicate id"),
        "{error}"
    );
    assert!(app.overlay.is_none());
    assert!(
        app.status.starts_with("catalogue NOT loaded: ") && app.status.contains("duplicate id"),
        "{}",
        app.status
    );
    let screen = text(&render(&mut app, 120, 40));
    assert!(screen.contains("broken.csv NOT loaded"), "{screen}");

    // Ranking still answers from the model.
    typed(&mut app, "sony headphones");
    assert!(!ids(&app).is_empty());
    let screen = text(&render(&mut app, 120, 40));
    assert!(
        screen.contains("broken.csv NOT loaded"),
        "the status line keeps saying so:\n{screen}"
    );

    // Keyword search and retraining say why they cannot run.
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::KeywordSearch);
    assert!(app.take_effects().is_empty());
    let screen = text(&render(&mut app, 120, 40));
    assert!(screen.contains("the catalogue did not load"), "{screen}");
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::Options);
    cmd(&mut app, Command::Retrain);
    assert!(app.training.is_none());
    let Some(Overlay::Options(panel)) = &app.overlay else {
        panic!("the options panel stays open");
    };
    let msg = panel.message.as_deref().unwrap_or("");
    assert!(
        msg.contains("did not load") && msg.contains("duplicate id"),
        "{msg}"
    );
}

#[test]
fn labelling_works_while_the_catalogue_loads() {
    let mut labelled = app();
    let store = labelled.store.take().unwrap();
    let before = store.len();
    drop(labelled);
    let (mut app, _load) = loading_app(&fixture("products.csv"));
    app.store = Some(store);
    app.analyst = "tester".into();
    typed(&mut app, "canon ink");
    cmd(&mut app, Command::Back);
    let first = ids(&app)[0].clone();
    cmd(&mut app, Command::Grade(2));
    assert!(matches!(app.catalog, CatalogState::Loading { .. }));
    let store = app.store.as_ref().unwrap();
    assert_eq!(store.len(), before + 1, "{}", app.status);
    assert_eq!(app.label_of(&first), Some(2));
    cmd(&mut app, Command::Undo);
    assert_eq!(app.label_of(&first), None);
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

#[test]
fn snapshot_while_the_catalogue_loads() {
    for (w, h) in [(80, 24), (120, 40)] {
        let (mut app, _load) = loading_app(&fixture("products.csv"));
        typed(&mut app, "sony headphones");
        cmd(&mut app, Command::Back);
        let buf = render(&mut app, w, h);
        insta::assert_snapshot!(format!("loading_{w}x{h}"), text(&buf));
    }
    let (mut app, _load) = loading_app(&fixture("products.csv"));
    typed(&mut app, "ssd");
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::Details);
    let buf = render(&mut app, 80, 24);
    insta::assert_snapshot!("details_loading_80x24", text(&buf));
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

// ---- retraining and the A/B view ----------------------------------------------

fn row_of(app: &App, key: &str) -> usize {
    match &app.overlay {
        Some(Overlay::Options(p)) => p.rows.iter().position(|r| r.key == key).unwrap(),
        other => panic!("options panel not open: {other:?}"),
    }
}

fn panel(app: &App) -> &prodsim::tui::app::OptionsPanel {
    match &app.overlay {
        Some(Overlay::Options(p)) => p,
        other => panic!("options panel not open: {other:?}"),
    }
}

/// Opens the options panel and moves its cursor to `key` with the keys.
fn options_at(app: &mut App, key: &str) {
    if !matches!(app.overlay, Some(Overlay::Options(_))) {
        cmd(app, Command::Options);
    }
    cmd(app, Command::Top);
    for _ in 0..row_of(app, key) {
        cmd(app, Command::Down);
    }
    assert_eq!(panel(app).rows[panel(app).selected].key, key);
}

/// Types `value` into the selected option and applies it.
fn edit_option(app: &mut App, key: &str, value: &str) {
    options_at(app, key);
    cmd(app, Command::EditValue);
    assert_eq!(app.mode(), Mode::Edit);
    cmd(app, Command::ClearInput);
    typed(app, value);
    cmd(app, Command::Confirm);
}

/// The fixture app on the query "phones" at k = 5, where English stemming
/// moves neighbours every way: up, down, new, dropped.
fn phones_app(theme: Theme) -> App {
    let mut app = app_with(None, theme);
    app.k = 5;
    typed(&mut app, "phones");
    cmd(&mut app, Command::Back);
    app
}

/// Retrains B with English stemming through the options panel, as the
/// keys would.
fn retrain_with_stemming(app: &mut App) {
    edit_option(app, "preprocess.stemmer", "english");
    cmd(app, Command::Retrain);
}

fn b_ids(app: &App) -> Vec<String> {
    app.b
        .as_ref()
        .unwrap()
        .ranking
        .as_ref()
        .unwrap()
        .results
        .iter()
        .map(|n| n.item_id.clone())
        .collect()
}

#[test]
fn options_panel_edits_through_model_config_set() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = app();
    cmd(&mut app, Command::Back);
    let o = KeyEvent::new(KeyCode::Char('o'), KeyModifiers::NONE);
    assert!(matches!(
        key_to_action(&app, &o),
        Some(Action::Command(Command::Options))
    ));
    cmd(&mut app, Command::Options);
    assert_eq!(app.mode(), Mode::Options);
    let keys: Vec<&str> = panel(&app).rows.iter().map(|r| r.key.as_str()).collect();
    for k in [
        "fields",
        "preprocess.stemmer",
        "preprocess.stopwords",
        "preprocess.word_ngrams",
        "preprocess.char_ngrams",
        "preprocess.codes",
        "vocabulary.min_df",
        "vocabulary.max_df",
        "weighting.scheme",
        "weighting.k1",
    ] {
        assert!(keys.contains(&k), "{k} not in {keys:?}");
    }
    // Keys type into the value being edited (Enter applies).
    options_at(&mut app, "preprocess.stemmer");
    cmd(&mut app, Command::EditValue);
    cmd(&mut app, Command::ClearInput);
    for c in "english".chars() {
        let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let action = key_to_action(&app, &key).expect("typed in the edit");
        app.update(action);
    }
    let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
    app.update(key_to_action(&app, &enter).unwrap());
    settle(&mut app);
    // Typed values go through ModelConfig::set.
    assert_eq!(app.mode(), Mode::Options, "Enter applied the value");
    assert_eq!(app.draft.preprocess.stemmer, "english");
    assert_eq!(
        app.model.config.preprocess.stemmer, "none",
        "A is untouched"
    );
    let row = &panel(&app).rows[row_of(&app, "preprocess.stemmer")];
    assert!(row.changed && row.a_value == "none", "{row:?}");
    // An invalid value is refused with set()'s message; the edit stays open.
    edit_option(&mut app, "vocabulary.min_df", "0");
    assert_eq!(app.mode(), Mode::Edit);
    let p = panel(&app);
    let mut expected = app.draft.clone();
    let want = expected.set("vocabulary.min_df=0").unwrap_err().to_string();
    assert!(
        p.error && p.message.as_deref() == Some(want.as_str()),
        "{:?}",
        p.message
    );
    assert_eq!(app.draft.vocabulary.min_df, 1);
    cmd(&mut app, Command::Back);
    assert_eq!(
        app.mode(),
        Mode::Options,
        "Esc leaves the edit, not the panel"
    );
    // Booleans toggle, enumerations cycle, d resets one, R resets all.
    options_at(&mut app, "preprocess.codes");
    cmd(&mut app, Command::ToggleValue);
    assert!(!app.draft.preprocess.codes);
    options_at(&mut app, "weighting.scheme");
    cmd(&mut app, Command::NextValue);
    assert_eq!(app.draft.weighting.scheme, prodsim::model::Scheme::Bm25);
    cmd(&mut app, Command::ResetValue);
    assert_eq!(app.draft.weighting.scheme, prodsim::model::Scheme::Tfidf);
    assert_eq!(panel(&app).rows.iter().filter(|r| r.changed).count(), 2);
    cmd(&mut app, Command::ResetAll);
    assert_eq!(app.draft, app.model.config);
    // Closing keeps the edits for next time.
    edit_option(&mut app, "weighting.k1", "1.5");
    cmd(&mut app, Command::Back);
    assert!(app.overlay.is_none());
    cmd(&mut app, Command::Options);
    assert!(panel(&app).rows[row_of(&app, "weighting.k1")].changed);
}

#[test]
fn retraining_makes_model_b_and_the_ab_view_shows_movements() {
    let mut app = phones_app(Theme::new(ColorMode::None, false));
    let a_id = app.model.meta.model_id.clone();
    let a_before = ids(&app);
    edit_option(&mut app, "preprocess.stemmer", "english");
    app.update(Action::Command(Command::Retrain));
    let effects = app.take_effects();
    let generation = match effects.as_slice() {
        [
            Effect::Train {
                generation,
                config,
                target: Side::B,
                reread: false,
            },
        ] => {
            assert_eq!(config.preprocess.stemmer, "english");
            *generation
        }
        other => panic!("{other:?}"),
    };
    assert!(app.training.is_some() && app.b.is_none());
    // The explorer stays usable: typing still ranks with A.
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::EditQuery);
    typed(&mut app, "x");
    cmd(&mut app, Command::DeleteBack);
    cmd(&mut app, Command::Back);
    assert_eq!(ids(&app), a_before);
    assert_eq!(app.model.meta.model_id, a_id);
    // Progress reaches the gauge state; a stale generation is ignored.
    app.update(Action::TrainProgress {
        generation,
        stage: "weight".into(),
        done: 5,
        total: 15,
        elapsed_ms: 800,
    });
    app.update(Action::TrainProgress {
        generation: generation + 7,
        stage: "index".into(),
        done: 1,
        total: 1,
        elapsed_ms: 900,
    });
    let job = app.training.clone().unwrap();
    assert_eq!((job.stage.as_str(), job.done, job.total), ("weight", 5, 15));
    assert!(job.remaining_ms().is_some());
    // Done: B is installed next to A and the A/B view opens.
    let (m, _) = {
        let mut c = app.model.config.clone();
        c.set("stemmer=english").unwrap();
        train(app.catalog.ready().unwrap(), &c, &NoProgress).unwrap()
    };
    let b_id = m.meta.model_id.clone();
    app.update(Action::TrainDone {
        generation,
        result: Ok(Trained {
            model: Arc::new(m),
            seconds: 0.3,
        }),
    });
    settle(&mut app);
    assert!(app.training.is_none());
    assert_eq!(app.model.meta.model_id, a_id, "the loaded model stays A");
    assert_eq!(app.b.as_ref().unwrap().model.meta.model_id, b_id);
    assert!(app.ab_view && app.mode() == Mode::Compare);
    assert!(app.status.contains("stemmer=english"), "{}", app.status);
    // The rows are ab::movements of the two rankings, computed here from
    // the library directly.
    let a_ids = ids(&app);
    let b_ids = b_ids(&app);
    let q = Query::Text("phones".into());
    let cli_b = neighbours(&app.b.as_ref().unwrap().model, &q, 5, false).unwrap();
    assert_eq!(
        b_ids,
        cli_b
            .results
            .iter()
            .map(|n| n.item_id.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(app.ab.rows, prodsim::ab::movements(&a_ids, &b_ids));
    let kinds: Vec<prodsim::ab::Movement> = app.ab.rows.iter().map(|r| r.movement).collect();
    use prodsim::ab::Movement as Mv;
    assert!(kinds.contains(&Mv::New), "{kinds:?}");
    assert!(kinds.contains(&Mv::Dropped), "{kinds:?}");
    assert!(kinds.iter().any(|m| matches!(m, Mv::Down(_))), "{kinds:?}");
    assert!(kinds.contains(&Mv::Same), "{kinds:?}");
    let o = app.ab.overlap.unwrap();
    assert_eq!(o, prodsim::ab::overlap(&a_ids, &b_ids, 5, 0.9));
    assert!(o.jaccard < 1.0 && o.jaccard > 0.0);
    // The set average came from the worker effect (judged queries here).
    match &app.ab.set_overlap {
        prodsim::tui::app::Pending::Ready((_, n)) => assert!(*n > 0),
        other => panic!("{other:?}"),
    }
    // Toggling the view.
    cmd(&mut app, Command::ToggleAb);
    assert_eq!(app.mode(), Mode::Normal);
    cmd(&mut app, Command::ToggleAb);
    assert_eq!(app.mode(), Mode::Compare);
}

#[test]
fn ab_breakdown_shows_why_a_row_moved() {
    let mut app = phones_app(Theme::new(ColorMode::None, false));
    retrain_with_stemming(&mut app);
    // p002 ("... Cordless Phone System") is new in B's top 5: the stemmed
    // query token "phone" now meets its "phone".
    let at = app
        .ab
        .rows
        .iter()
        .position(|r| r.item_id.ends_with("p002"))
        .unwrap();
    assert_eq!(app.ab.rows[at].movement, prodsim::ab::Movement::New);
    cmd(&mut app, Command::Top);
    for _ in 0..at {
        cmd(&mut app, Command::Down);
    }
    let d = app.ab.detail.clone().unwrap();
    assert!(d.item_id.ends_with("p002"));
    assert_eq!(d.rank_a, None);
    let b_score = app.b.as_ref().unwrap().ranking.as_ref().unwrap().results[at].score;
    let sum_b: f64 = d.tokens.iter().map(|t| t.contribution_b()).sum();
    assert!((sum_b - d.score_b.unwrap()).abs() < 1e-9);
    assert!((d.score_b.unwrap() - b_score).abs() < 1e-9);
    // A's score for an item outside its top k is computed as A would.
    let qa = prodsim::rank::encode(&app.model, &Query::Text("phones".into()))
        .unwrap()
        .0;
    let item = app.model.find_item(&d.item_id).unwrap();
    let a_rows = prodsim::rank::breakdown(&app.model, &qa, item);
    let sum_a: f64 = a_rows.iter().map(|r| r.contribution).sum();
    assert!((d.score_a.unwrap() - sum_a).abs() < 1e-12);
    let phone = d
        .tokens
        .iter()
        .find(|t| t.token == "phone" && t.kind == prodsim::text::TokenKind::Word)
        .expect("the stemmed word token");
    assert!(phone.a.is_none() && phone.b.is_some(), "{phone:?}");
    assert!(phone.delta() > 0.0);
    // The biggest change is on top.
    assert!(
        d.tokens
            .windows(2)
            .all(|w| w[0].delta().abs() >= w[1].delta().abs())
    );
    // Enter on the row makes it the (item) query of both models.
    cmd(&mut app, Command::Confirm);
    assert_eq!(app.query, Some(Query::Item(d.item_id.clone())));
    assert!(!b_ids(&app).contains(&d.item_id));
}

#[test]
fn ab_trace_shows_the_stem_stage_of_b_only() {
    let mut app = phones_app(Theme::new(ColorMode::None, false));
    retrain_with_stemming(&mut app);
    cmd(&mut app, Command::Trace);
    match &app.overlay {
        Some(Overlay::AbTrace { a, b, text, .. }) => {
            assert_eq!(text, "phones");
            assert!(!a.iter().any(|s| s.stage == "stem"));
            let stem = b.iter().find(|s| s.stage == "stem").expect("B stems");
            assert_eq!(stem.output, vec!["phone".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.mode(), Mode::Overlay);
    cmd(&mut app, Command::Back);
    assert_eq!(app.mode(), Mode::Compare);
}

#[test]
fn cancelling_a_retraining_drops_its_result() {
    let mut app = phones_app(Theme::new(ColorMode::None, false));
    edit_option(&mut app, "preprocess.stemmer", "english");
    app.update(Action::Command(Command::Retrain));
    let Some(Effect::Train {
        generation, config, ..
    }) = app.take_effects().pop()
    else {
        panic!("no training requested")
    };
    app.update(Action::Command(Command::CancelRetrain));
    assert!(app.training.is_none());
    assert!(app.status.contains("cancelled"), "{}", app.status);
    // The worker is told (its flag stops `train` between chunks)...
    match app.take_effects().as_slice() {
        [Effect::CancelTrain { generation: g }] => assert_eq!(*g, generation),
        other => panic!("{other:?}"),
    }
    let (m, _) = train(app.catalog.ready().unwrap(), &config, &NoProgress).unwrap();
    // ...and a result that arrives anyway is not installed.
    app.update(Action::TrainDone {
        generation,
        result: Ok(Trained {
            model: Arc::new(m),
            seconds: 0.1,
        }),
    });
    assert!(app.b.is_none() && !app.ab_view);
    // A failed retraining says why.
    app.update(Action::Command(Command::Retrain));
    let Some(Effect::Train { generation, .. }) = app.take_effects().pop() else {
        panic!()
    };
    app.update(Action::TrainDone {
        generation,
        result: Err("disk on fire".into()),
    });
    assert!(app.status.contains("disk on fire") && app.b.is_none());
}

#[test]
fn cancel_flag_stops_training() {
    // What the worker's cancel key relies on: train() checks the flag.
    struct Cancelled;
    impl prodsim::jobs::Progress for Cancelled {
        fn update(&self, _: &str, _: u64, _: u64) {}
        fn cancelled(&self) -> bool {
            true
        }
    }
    let app = app();
    let r = prodsim::tui::app::train_on(
        app.catalog.ready().expect("trained before the catalogue"),
        &app.model.config,
        false,
        &Cancelled,
    );
    assert!(matches!(r, Err(prodsim::error::Error::Cancelled)));
}

#[test]
fn swap_discard_and_quit_ask_before_losing_b() {
    let mut app = phones_app(Theme::new(ColorMode::None, false));
    let a_id = app.model.meta.model_id.clone();
    retrain_with_stemming(&mut app);
    let b_id = app.b.as_ref().unwrap().model.meta.model_id.clone();
    let (a_rank, b_rank) = (ids(&app), b_ids(&app));
    // Swap: B is now the model queries run on.
    cmd(&mut app, Command::SwapAb);
    assert_eq!(app.model.meta.model_id, b_id);
    assert_eq!(app.b.as_ref().unwrap().model.meta.model_id, a_id);
    assert_eq!(ids(&app), b_rank);
    assert_eq!(b_ids(&app), a_rank);
    assert!(app.model_unsaved && !app.b.as_ref().unwrap().unsaved);
    assert_eq!(app.draft.preprocess.stemmer, "english", "options follow A");
    // Quitting now would lose the unsaved model: asked, "no" stays.
    cmd(&mut app, Command::Quit);
    assert_eq!(app.mode(), Mode::Confirm);
    cmd(&mut app, Command::No);
    assert!(!app.should_quit && app.mode() == Mode::Compare);
    cmd(&mut app, Command::SwapAb);
    assert_eq!(app.model.meta.model_id, a_id);
    // Discarding an unsaved B asks; "no" keeps it, "yes" drops it.
    cmd(&mut app, Command::DiscardB);
    assert_eq!(app.mode(), Mode::Confirm);
    cmd(&mut app, Command::No);
    assert!(app.b.is_some());
    cmd(&mut app, Command::DiscardB);
    cmd(&mut app, Command::Yes);
    assert!(app.b.is_none() && !app.ab_view);
    assert_eq!(app.mode(), Mode::Normal);
    cmd(&mut app, Command::Quit);
    assert!(app.should_quit, "nothing unsaved: quits at once");
}

#[test]
fn save_b_writes_a_model_that_opens_with_stemming() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = phones_app(Theme::new(ColorMode::None, false));
    app.model_path = Some(dir.path().join("model.psm"));
    retrain_with_stemming(&mut app);
    let b_id = app.b.as_ref().unwrap().model.meta.model_id.clone();
    cmd(&mut app, Command::SaveB);
    assert_eq!(app.mode(), Mode::Edit);
    let want = dir.path().join(format!("model-{b_id}.psm"));
    match &app.overlay {
        Some(Overlay::SavePrompt { input, .. }) => {
            assert_eq!(input.text, want.display().to_string(), "next to A's model")
        }
        other => panic!("{other:?}"),
    }
    cmd(&mut app, Command::Confirm);
    assert!(app.overlay.is_none());
    let b = app.b.as_ref().unwrap();
    assert!(!b.unsaved && b.path.as_deref() == Some(want.as_path()));
    assert!(app.status.contains("saved model B"), "{}", app.status);
    let loaded = prodsim::model::format::load(&want).unwrap();
    assert_eq!(loaded.meta.model_id, b_id);
    assert_eq!(loaded.config.preprocess.stemmer, "english");
    // Saving again over the file asks first; "no" writes nothing.
    cmd(&mut app, Command::SaveB);
    cmd(&mut app, Command::Confirm);
    assert_eq!(app.mode(), Mode::Confirm);
    cmd(&mut app, Command::No);
    assert!(matches!(app.overlay, Some(Overlay::SavePrompt { .. })));
    cmd(&mut app, Command::Back);
    // A bad path is reported, B stays unsaved-state as it was.
    cmd(&mut app, Command::SaveB);
    cmd(&mut app, Command::ClearInput);
    typed(&mut app, dir.path().to_str().unwrap());
    cmd(&mut app, Command::Confirm);
    match &app.overlay {
        Some(Overlay::SavePrompt { error: Some(e), .. }) => {
            assert!(e.contains("is a directory"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::SaveB);
    cmd(&mut app, Command::ClearInput);
    typed(&mut app, "/nonexistent-dir/b.psm");
    cmd(&mut app, Command::Confirm);
    assert!(app.status.contains("NOT saved"), "{}", app.status);
    // Now nothing is unsaved: discarding B does not ask.
    cmd(&mut app, Command::DiscardB);
    assert!(app.b.is_none());
}

#[test]
fn ab_metrics_wins_losses_and_b_labelling_queue() {
    let mut app = phones_app(Theme::new(ColorMode::None, false));
    retrain_with_stemming(&mut app);
    let judgements = app.store.as_ref().unwrap().to_judgements();
    let b_model = app.b.as_ref().unwrap().model.clone();
    let a_report = prodsim::eval::evaluate(&app.model, &judgements, 10).unwrap();
    let b_report = prodsim::eval::evaluate(&b_model, &judgements, 10).unwrap();
    let prodsim::tui::app::Pending::Ready(v) = &app.ab.eval else {
        panic!("{:?}", app.ab.eval)
    };
    assert_eq!(
        v.a.metrics, a_report.metrics,
        "prodsim eval's numbers for A"
    );
    assert_eq!(v.b.metrics, b_report.metrics, "and for B");
    let (deltas, _) = prodsim::ab::per_query(&a_report, &b_report, "ndcg@10");
    assert_eq!(v.outcomes, prodsim::ab::outcomes(&deltas));
    assert_eq!(
        v.outcomes.wins + v.outcomes.losses + v.outcomes.ties,
        deltas.len()
    );
    // B's unjudged neighbours per judged query, in B's order.
    for (q, items) in &v.unjudged {
        for id in items {
            assert!(app.store.as_ref().unwrap().grade(q, id).is_none());
        }
    }
    assert!(!v.unjudged.is_empty());
    cmd(&mut app, Command::AbMetrics);
    assert!(matches!(app.overlay, Some(Overlay::AbMetrics { .. })));
    cmd(&mut app, Command::Back);
    // L queues those queries; grading in the A/B view labels B's rows
    // with B's provenance and the metrics become stale.
    cmd(&mut app, Command::LabelUnjudgedB);
    let queue = app.queue.clone().expect("queue");
    assert_eq!(queue.queries[0], v_first_query(&app));
    settle(&mut app);
    cmd(&mut app, Command::NextUnjudged);
    let row = app.ab.rows[app.ab.selected].clone();
    assert!(row.rank_b.is_some());
    assert!(app.label_of(&row.item_id).is_none());
    cmd(&mut app, Command::Grade(2));
    assert_eq!(app.label_of(&row.item_id), Some(2));
    let b_id = app.b.as_ref().unwrap().model.meta.model_id.clone();
    let file = label_file(&app);
    let line = file
        .lines()
        .rev()
        .find(|l| l.contains(&row.item_id))
        .unwrap();
    assert!(line.contains(&b_id), "B's id as provenance: {line}");
    assert!(
        line.contains(&format!(",{},", row.rank_b.unwrap())),
        "B's rank: {line}"
    );
    assert!(app.ab.eval_stale);
    // Opening the metrics recomputes them with the new label.
    cmd(&mut app, Command::AbMetrics);
    assert!(!app.ab.eval_stale);
}

fn v_first_query(app: &App) -> Query {
    match &app.ab.eval {
        prodsim::tui::app::Pending::Ready(v) => v
            .unjudged
            .iter()
            .find(|(q, items)| {
                items
                    .iter()
                    .any(|id| app.store.as_ref().unwrap().grade(q, id).is_none())
            })
            .map(|(q, _)| q.clone())
            .unwrap(),
        _ => panic!(),
    }
}

#[test]
fn snapshots_of_retraining_and_the_ab_view() {
    // Options panel with one change.
    for (w, h) in [(80, 24), (120, 40)] {
        let mut app = phones_app(Theme::new(ColorMode::None, false));
        edit_option(&mut app, "preprocess.stemmer", "english");
        options_at(&mut app, "preprocess.stemmer");
        let buf = render(&mut app, w, h);
        insta::assert_snapshot!(format!("options_{w}x{h}"), text(&buf));
    }
    // The progress gauge while B trains (the panel closed: the explorer
    // is usable underneath).
    for (w, h) in [(80, 24), (120, 40)] {
        let mut app = phones_app(Theme::new(ColorMode::None, false));
        edit_option(&mut app, "preprocess.stemmer", "english");
        app.update(Action::Command(Command::Retrain));
        let Some(Effect::Train { generation, .. }) = app.take_effects().pop() else {
            panic!()
        };
        cmd(&mut app, Command::Back);
        app.update(Action::TrainProgress {
            generation,
            stage: "vocabulary".into(),
            done: 1,
            total: 2,
            elapsed_ms: 690,
        });
        let buf = render(&mut app, w, h);
        let t = text(&buf);
        assert!(t.contains("~0.3 s left"), "{t}");
        insta::assert_snapshot!(format!("retrain_gauge_{w}x{h}"), t);
    }
    // The A/B view: movements, figures, the selected row's A/B breakdown.
    for (w, h) in [(80, 24), (120, 40)] {
        let mut app = phones_app(Theme::new(ColorMode::None, false));
        retrain_with_stemming(&mut app);
        cmd(&mut app, Command::Down);
        cmd(&mut app, Command::Down);
        let buf = render(&mut app, w, h);
        let t = text(&buf);
        // Rows: "  3 new  0.181 ...", "  4 ▼1   0.181 ...", "  1 =    ...".
        for marker in ["3 new ", "4 ▼1 ", "1 =  "] {
            assert!(t.contains(marker), "{marker} missing:\n{t}");
        }
        if h >= 40 {
            assert!(t.contains("- out "), "the dropped row:\n{t}");
        }
        insta::assert_snapshot!(format!("ab_view_{w}x{h}"), t);
    }
    let mut app = phones_app(Theme::new(ColorMode::None, true));
    retrain_with_stemming(&mut app);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down);
    let buf = render(&mut app, 80, 24);
    let t = text(&buf);
    assert!(t.is_ascii(), "ASCII mode must draw only ASCII:\n{t}");
    assert!(t.contains("4 -1 ") && t.contains("3 new "), "{t}");
    insta::assert_snapshot!("ab_view_ascii_80x24", t);
    // Saving B: the prompt (next to A's model), and the question before
    // an unsaved B is discarded.
    let mut app = phones_app(Theme::new(ColorMode::None, false));
    app.model_path = Some("models/model.psm".into());
    retrain_with_stemming(&mut app);
    cmd(&mut app, Command::SaveB);
    let buf = render(&mut app, 80, 24);
    insta::assert_snapshot!("save_b_80x24", text(&buf));
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::DiscardB);
    let buf = render(&mut app, 80, 24);
    insta::assert_snapshot!("discard_b_80x24", text(&buf));
    // Trace and metrics overlays.
    let mut app = phones_app(Theme::new(ColorMode::None, false));
    retrain_with_stemming(&mut app);
    cmd(&mut app, Command::Trace);
    let buf = render(&mut app, 80, 24);
    insta::assert_snapshot!("ab_trace_80x24", text(&buf));
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::AbMetrics);
    let buf = render(&mut app, 120, 40);
    insta::assert_snapshot!("ab_metrics_120x40", text(&buf));
}

#[test]
fn ab_movement_colours() {
    let mut app = phones_app(Theme::new(ColorMode::TrueColor, false));
    retrain_with_stemming(&mut app);
    let buf = render(&mut app, 120, 40);
    let theme = app.theme.clone();
    use prodsim::ab::Movement as Mv;
    for (label, m) in [("new ", Mv::New), ("▼1 ", Mv::Down(1))] {
        let (x, y) = find(&buf, label).unwrap_or_else(|| panic!("{label} not drawn"));
        assert_eq!(buf[(x, y)].fg, theme.movement(m).fg.unwrap(), "{label}");
    }
    let (x, y) = find(&buf, "out ").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.dim().fg.unwrap());
}

#[test]
fn changing_fields_rereads_the_catalogue_for_b() {
    let mut app = phones_app(Theme::new(ColorMode::None, false));
    assert_eq!(app.model.meta.fields, ["title", "brand"]);
    edit_option(&mut app, "fields", "title:2");
    assert_eq!(app.draft.fields, "title:2");
    app.update(Action::Command(Command::Retrain));
    let effects = app.take_effects();
    let Some(Effect::Train { reread, .. }) = effects.first() else {
        panic!("{effects:?}")
    };
    assert!(*reread, "other fields: the file is read again with them");
    // Run it the way the worker does.
    for e in effects {
        if let Effect::Train {
            generation,
            config,
            reread,
            ..
        } = e
        {
            let m = prodsim::tui::app::train_on(
                app.catalog.ready().expect("trained before the catalogue"),
                &config,
                reread,
                &NoProgress,
            )
            .unwrap();
            app.update(Action::TrainDone {
                generation,
                result: Ok(Trained {
                    model: Arc::new(m),
                    seconds: 0.1,
                }),
            });
        }
    }
    settle(&mut app);
    let b = &app.b.as_ref().unwrap().model;
    assert_eq!(b.meta.fields, ["title"]);
    assert_eq!(b.config.fields, "title:2");
    assert_eq!(app.model.meta.fields, ["title", "brand"], "A unchanged");
    // Stemming alone keeps the loaded catalogue.
    let mut app = phones_app(Theme::new(ColorMode::None, false));
    edit_option(&mut app, "preprocess.stemmer", "english");
    app.update(Action::Command(Command::Retrain));
    assert!(matches!(
        app.take_effects().first(),
        Some(Effect::Train { reread: false, .. })
    ));
}
