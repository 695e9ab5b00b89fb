//! The explorer: the only code that touches the terminal. `run` sets the
//! terminal up (and always restores it, also on panic), starts the workers
//! and loops: wait for an event, turn it into an `Action`, `update`, draw
//! only when something changed. The first frame is drawn from the model
//! alone; the catalogue is read on a worker meanwhile.

pub mod action;
pub mod app;
pub mod keymap;
pub mod theme;
pub mod view;
mod worker;

use crate::catalog::CatalogOptions;
use crate::model::Model;
use action::Action;
use anyhow::Result;
use app::App;
use crossterm::event::{self, Event, KeyEvent, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::backend::CrosstermBackend;
use std::sync::Arc;
use std::sync::mpsc;

/// What the explorer opens.
pub struct Options {
    /// The catalogue file, read on a worker after the first frame.
    pub catalog: std::path::PathBuf,
    /// How to read it (the model's id column and fields).
    pub catalog_options: CatalogOptions,
    pub model: Model,
    /// The file the model was opened from (saving model B defaults to
    /// its directory).
    pub model_path: Option<std::path::PathBuf>,
    /// The judgements file to show and extend, opened and locked.
    pub store: Option<crate::labels::LabelStore>,
    pub scale: app::GradeScale,
    pub analyst: String,
    /// Queries to judge in turn (empty: no queue).
    pub queue: Vec<crate::rank::Query>,
    pub ascii: bool,
    pub k: usize,
}

/// One queue for everything the loop reacts to.
pub enum Msg {
    /// A key press; turned into an action with the app's current mode.
    Key(KeyEvent),
    /// Anything else: resizes, worker results, job progress.
    Act(Action),
}

/// Turns a key into an action for the app's mode: a bound command, or a
/// typed character in a mode with an input line.
pub fn key_to_action(app: &App, key: &KeyEvent) -> Option<Action> {
    let mode = app.mode();
    if let Some(cmd) = keymap::lookup(mode, key) {
        return Some(Action::Command(cmd));
    }
    match mode {
        keymap::Mode::Query | keymap::Mode::Finder | keymap::Mode::Edit => {
            keymap::typed_char(key).map(Action::Input)
        }
        _ => None,
    }
}

/// Applies a key press. An Alt-modified key in an input or overlay is
/// Esc followed by the key: terminals send Esc-then-key as one Alt sequence
/// when the two arrive together (fast typists, SSH latency), and the user
/// meant both.
pub fn handle_key(app: &mut App, key: &KeyEvent) {
    use crossterm::event::KeyModifiers;
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    if alt && app.mode() != keymap::Mode::Normal {
        app.update(Action::Command(action::Command::Back));
        let plain = KeyEvent::new(key.code, key.modifiers - KeyModifiers::ALT);
        if let Some(a) = key_to_action(app, &plain) {
            app.update(a);
        }
        return;
    }
    if let Some(a) = key_to_action(app, key) {
        app.update(a);
    }
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped, so every exit path (error, panic
/// unwinding, normal return) leaves a usable terminal behind.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Runs the explorer until the user quits.
pub fn run(opts: Options) -> Result<()> {
    let theme = theme::Theme::from_env(opts.ascii);
    let model = Arc::new(opts.model);
    let mut app = App::loading(opts.catalog, opts.catalog_options, model.clone(), theme);
    app.model_path = opts.model_path;
    if let Some(store) = &opts.store
        && !store.warnings().is_empty()
    {
        // Migrations and repaired crash rows must be visible to the analyst.
        app.status = store.warnings().join("; ");
    }
    app.store = opts.store;
    app.scale = opts.scale;
    app.analyst = opts.analyst;
    app.k = opts.k.clamp(1, app::MAX_K);
    app.set_queue(opts.queue);

    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous_hook(info);
    }));
    enable_raw_mode()?;
    let _guard = TerminalGuard;
    execute!(std::io::stdout(), EnterAlternateScreen)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    let size = terminal.size()?;
    app.update(Action::Resize(size.width, size.height));

    let (tx, rx) = mpsc::channel::<Msg>();
    spawn_input_thread(tx.clone());
    let mut workers = worker::Workers::start(model, tx);
    let result = event_loop(&mut terminal, &mut app, &rx, &mut workers);
    // Every label is already durable; compacting only tidies the file.
    if let Some(store) = &mut app.store
        && let Err(e) = store.compact()
    {
        eprintln!("prodsim: could not compact {}: {e}", store.path().display());
    }
    result
}

fn spawn_input_thread(tx: mpsc::Sender<Msg>) {
    std::thread::spawn(move || {
        loop {
            let msg = match event::read() {
                Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Msg::Key(key),
                Ok(Event::Resize(w, h)) => Msg::Act(Action::Resize(w, h)),
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
}

/// Draw, wait, update; every queued message is applied before the next
/// frame, so a burst of keys or results costs one redraw.
fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &mpsc::Receiver<Msg>,
    workers: &mut worker::Workers,
) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    loop {
        workers.run_effects(app);
        if app.dirty {
            terminal.draw(|f| view::draw(f, app))?;
            app.dirty = false;
        }
        if app.should_quit {
            return Ok(());
        }
        let Ok(first) = rx.recv() else {
            return Ok(());
        };
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Key(key) => handle_key(app, &key),
                Msg::Act(a) => {
                    if let Action::Resize(..) = a {
                        terminal.autoresize()?;
                    }
                    app.update(a);
                }
            }
            if app.should_quit {
                break;
            }
            next = rx.try_recv().ok();
        }
    }
}
