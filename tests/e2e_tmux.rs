//! End to end: the real binary in a real terminal (tmux). Types a query,
//! picks an item, opens the breakdown and the help, resizes, quits, and
//! checks the screen by polling `capture-pane` until the expected text
//! appears (with a timeout; no fixed sleeps). CI installs tmux. Also: a
//! catalogue that fails to load (it is read after the first frame) is
//! reported on screen while the model keeps answering.

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

/// Sends keys and waits until the screen differs from what it was, so
/// the next key reaches the state this one produced.
fn press(t: &Tmux, keys: &[&str]) -> String {
    let before = t.screen();
    t.keys(keys);
    t.wait_for("the screen to change", |s| s != before)
}

#[test]
fn retrain_with_stemming_compare_and_save_b() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::copy(
        fixtures.join("products.csv"),
        dir.path().join("products.csv"),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_prodsim");
    common::train_fixture(dir.path(), "model.psm");
    let cmd =
        format!("{bin} tui --catalog products.csv --model model.psm --k 5; echo $? > exit_code");
    let t = Tmux::start("retrain", dir.path(), &cmd, 80, 24);
    t.wait_text("15 items");
    // Retraining needs the catalogue, which is read after the first frame.
    t.wait_for("the catalogue", |s| !s.contains("catalogue loading"));
    t.literal("phones");
    t.wait_text("Replacement handset cord for kxts3282b phones");
    press(&t, &["Escape"]);
    t.wait_text("f find item");

    // The options panel: move to the stemmer, type "english" in place.
    t.keys(&["o"]);
    t.wait_text("Options of model A");
    let mut s = t.screen();
    for _ in 0..30 {
        if s.contains("▶ preprocess.stemmer") {
            break;
        }
        s = press(&t, &["j"]);
    }
    assert!(s.contains("▶ preprocess.stemmer"), "{s}");
    press(&t, &["Enter"]);
    t.wait_text("Enter applies");
    t.keys(&["C-u"]);
    t.literal("english");
    t.wait_text("[english]");
    press(&t, &["Enter"]);
    let s = t.wait_text("*preprocess.stemmer");
    assert!(s.contains("(A: none)"), "changed against A:\n{s}");

    // Retrain: B arrives and the A/B view opens with movement markers.
    t.keys(&["r"]);
    let s = t.wait_text("stemmer=english (unsaved)");
    let s = if s.contains(" new ") {
        s
    } else {
        t.wait_text(" new ")
    };
    assert!(s.contains("▼1"), "a neighbour moved down:\n{s}");
    assert!(s.contains("Why: A "), "the A/B breakdown:\n{s}");

    // Save B where proposed (next to model.psm).
    t.keys(&["S"]);
    t.wait_text("Save model B");
    press(&t, &["Enter"]);
    t.wait_for("B saved", |s| {
        !s.contains("(unsaved)") && s.contains("stemmer=english model-")
    });
    let saved: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("model-"))
        })
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let out = Command::new(bin)
        .args(["info", "--format", "json", "--model"])
        .arg(&saved[0])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["config"]["preprocess"]["stemmer"], "english");

    // Everything is saved: q quits at once.
    t.keys(&["q"]);
    assert_eq!(t.exit_code(dir.path()), "0");
}

#[test]
fn a_catalogue_that_fails_to_load_is_reported_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let good = std::fs::read_to_string(fixtures.join("products.csv")).unwrap();
    std::fs::write(dir.path().join("products.csv"), &good).unwrap();
    // The same rows and one more whose id repeats the first row's.
    let first_row = good.lines().nth(1).unwrap();
    std::fs::write(
        dir.path().join("broken.csv"),
        format!("{good}{first_row}\n"),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_prodsim");
    common::train_fixture(dir.path(), "model.psm");
    let cmd = format!("{bin} tui --catalog broken.csv --model model.psm; echo $? > exit_code");
    let t = Tmux::start("badcat", dir.path(), &cmd, 200, 30);
    let s = t.wait_text("broken.csv NOT loaded");
    assert!(
        s.contains("catalogue NOT loaded: broken.csv: line") && s.contains("duplicate id"),
        "the reason is on screen:\n{s}"
    );
    // The model still answers.
    t.literal("phones");
    t.wait_text("Replacement handset cord for kxts3282b phones");
    t.keys(&["Escape", "q"]);
    assert_eq!(t.exit_code(dir.path()), "0");
}
