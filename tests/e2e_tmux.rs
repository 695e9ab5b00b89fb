//! End to end: the real binary in a real terminal (tmux). Types a query,
//! picks an item, opens the breakdown and the help, resizes, quits, and
//! checks the screen by polling `capture-pane` until the expected text
//! appears (with a timeout; no fixed sleeps). CI installs tmux.

mod common;

use common::Tmux;
use std::path::PathBuf;
use std::process::Command;

fn sample_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    for f in ["catalog.csv", "config.toml", "judgements.csv"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    dir
}

#[test]
fn explore_the_sample_end_to_end() {
    let dir = sample_copy();
    let bin = env!("CARGO_BIN_EXE_prodsim");
    // The exit code goes to a file: tmux does not always report it.
    let cmd = format!(
        "PRODSIM_SAMPLE_DIR={} {bin}; echo $? > exit_code",
        dir.path().display()
    );
    let t = Tmux::start("explore", dir.path(), &cmd, 80, 24);

    // Opens on the sample, building its model first.
    t.wait_text("3226 items");
    t.wait_text("no query yet");

    // The query line has focus at start: typing ranks as we type.
    t.literal("clickart 950000");
    t.wait_text("clickart 950000 - premier image pack");
    t.wait_text("Why #1");
    // The judged label of the sample's gold pair is not shown for this text
    // (the judgements are keyed by Amazon titles), but typing did rank.

    // Pick an item with the fuzzy picker.
    t.keys(&["Escape", "f"]);
    t.wait_text("Find an item");
    t.literal("photoshop lightroom");
    t.wait_text("adobe photoshop lightroom");
    t.keys(&["Enter"]);
    let s = t.wait_text("item http");
    assert!(s.contains("> adobe photoshop lightroom"), "{s}");

    // The breakdown pane takes focus; the help overlay opens and closes.
    t.keys(&["Tab"]);
    t.wait_text("Why #1");
    t.keys(&["?"]);
    t.wait_text("Keys (Esc closes)");
    t.keys(&["Escape"]);
    t.wait_for("help closed", |s| !s.contains("Keys (Esc closes)"));

    // Resize to a wide terminal: the panes move side by side.
    t.resize(120, 40);
    t.wait_for("side-by-side layout", |s| {
        s.lines()
            .any(|l| l.contains("Neighbours") && l.contains("Why #"))
    });
    // And back to 80x24: stacked again.
    t.resize(80, 24);
    t.wait_for("stacked layout", |s| {
        !s.lines()
            .any(|l| l.contains("Neighbours") && l.contains("Why #"))
            && s.contains("Neighbours")
    });

    // Quit: the process exits 0 and leaves the alternate screen.
    t.keys(&["q"]);
    let code = dir.path().join("exit_code");
    t.wait_for("exit code", |_| {
        std::fs::read_to_string(&code).is_ok_and(|c| c.ends_with('\n'))
    });
    assert_eq!(std::fs::read_to_string(&code).unwrap().trim(), "0");
    let s = t.screen();
    assert!(
        !s.contains("Neighbours"),
        "the explorer's screen was left behind:\n{s}"
    );
}

#[test]
fn ctrl_c_quits_from_an_input_and_restores_the_terminal() {
    let dir = sample_copy();
    let bin = env!("CARGO_BIN_EXE_prodsim");
    let model = dir.path().join("model.psm");
    let st = Command::new(bin)
        .args([
            "train",
            "--catalog",
            "catalog.csv",
            "--config",
            "config.toml",
            "--out",
        ])
        .arg(&model)
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    let cmd =
        format!("{bin} tui --catalog catalog.csv --model model.psm --ascii; echo $? > exit_code");
    let t = Tmux::start("ctrlc", dir.path(), &cmd, 80, 24);
    t.wait_text("3226 items");
    let s = t.screen();
    assert!(
        s.lines().all(|l| l.is_ascii()),
        "--ascii draws only ASCII:\n{s}"
    );
    t.keys(&["Escape", "f"]);
    t.wait_text("Find an item");
    t.keys(&["C-c"]);
    let code = dir.path().join("exit_code");
    t.wait_for("exit code", |_| {
        std::fs::read_to_string(&code).is_ok_and(|c| c.ends_with('\n'))
    });
    assert_eq!(std::fs::read_to_string(&code).unwrap().trim(), "0");
}
