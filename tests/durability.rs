//! Labels survive SIGKILL: the real explorer labels under tmux and is
//! killed with SIGKILL; every label the screen showed is in the file and
//! the file still reads. Also: label, undo, quit, reopen, see the labels;
//! a second explorer on the same file is refused.

mod common;

use common::Tmux;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_prodsim")
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::copy(
        fixtures.join("products.csv"),
        dir.path().join("products.csv"),
    )
    .unwrap();
    common::train_fixture(dir.path(), "m.psm");
    let labels = dir.path().join("labels.csv");
    (dir, labels)
}

/// "N in file" from the neighbours pane title.
fn in_file(screen: &str) -> Option<usize> {
    let at = screen.find(" in file")?;
    let digits: String = screen[..at]
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

fn rows(path: &Path) -> Vec<(String, String, String, String)> {
    let mut r = csv::Reader::from_path(path).expect("label file reads as CSV");
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (k, q, i, g) = (
        col("query_kind"),
        col("query"),
        col("item_id"),
        col("grade"),
    );
    r.records()
        .map(|rec| {
            let rec = rec.expect("every row parses");
            (
                rec[k].to_string(),
                rec[q].to_string(),
                rec[i].to_string(),
                rec[g].to_string(),
            )
        })
        .collect()
}

#[test]
fn sigkill_while_labelling_loses_no_shown_label() {
    let (dir, labels) = setup();
    let cmd = format!(
        "exec {} tui --catalog products.csv --model m.psm --judgements labels.csv --analyst kim",
        bin()
    );
    let s = Tmux::start("kill", dir.path(), &cmd, 100, 30);
    s.wait_for("explorer", |x| x.contains("0 in file"));
    s.literal("sony wireless headphones");
    s.wait_for("neighbours", |x| x.contains("WH-1000XM4"));
    s.keys(&["Escape"]);
    s.wait_for("panes", |x| x.contains("f find item"));
    // One label, wait until it is on screen.
    s.keys(&["3"]);
    s.wait_for("first label", |x| in_file(x) == Some(1));
    // A burst of labels, killed while it is being processed.
    // 60 grades: the 14 neighbours get labelled, then re-graded (each a new
    // appended row), so the writes are still going on when the kill lands.
    let burst: Vec<&str> = ["2", "1", "0", "3"]
        .iter()
        .cycle()
        .take(60)
        .copied()
        .collect();
    s.keys(&burst);
    // Kill as soon as a few more labels are on screen, while the rest of
    // the burst may still be in flight.
    let shown = s.wait_for("labels in progress", |x| in_file(x).is_some_and(|n| n >= 4));
    let pid = s.pane("#{pane_pid}");
    let killed = Command::new("kill").args(["-9", &pid]).status().unwrap();
    assert!(killed.success());
    s.wait_for("death", |_| s.dead());
    let shown_count = in_file(&shown).expect("count on screen");
    eprintln!("shown {shown_count} labels before the kill");
    assert!(shown_count >= 1);
    // The file reads, and holds at least every label the screen showed.
    let on_disk = rows(&labels);
    let distinct: std::collections::HashSet<_> =
        on_disk.iter().map(|r| (r.1.clone(), r.2.clone())).collect();
    assert!(
        distinct.len() >= shown_count,
        "screen showed {shown_count}, file has {}",
        distinct.len()
    );
    assert!(
        on_disk
            .iter()
            .all(|r| r.1 == "sony wireless headphones" && r.0 == "text")
    );
    // And prodsim eval accepts it unchanged.
    let out = Command::new(bin())
        .args([
            "eval",
            "--model",
            "m.psm",
            "--judgements",
            "labels.csv",
            "--format",
            "json",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Reopening after the crash works (the lock died with the process).
    let s2 = Tmux::start("reopen", dir.path(), &cmd, 100, 30);
    s2.wait_for("reopened with the labels", |x| {
        in_file(x) == Some(distinct.len())
    });
}

#[test]
fn label_undo_quit_reopen_and_lock() {
    let (dir, labels) = setup();
    // The exit code goes to a file: tmux does not always report it.
    let cmd = format!(
        "{} tui --catalog products.csv --model m.psm --judgements labels.csv; echo $? > exit_code",
        bin()
    );
    let s = Tmux::start("undo", dir.path(), &cmd, 100, 30);
    s.wait_for("explorer", |x| x.contains("0 in file"));
    s.literal("canon ink");
    s.wait_for("neighbours", |x| x.contains("PG-245"));
    s.keys(&["Escape"]);
    s.wait_for("panes", |x| x.contains("f find item"));
    s.keys(&["2"]);
    s.wait_for("one label", |x| in_file(x) == Some(1) && x.contains("+2"));
    s.keys(&["0"]);
    s.wait_for("two labels", |x| in_file(x) == Some(2));
    s.keys(&["u"]);
    s.wait_for("undone", |x| in_file(x) == Some(1) && x.contains("undid"));

    // A second explorer on the same file is refused with a clear message.
    let out = Command::new(bin())
        .args([
            "tui",
            "--catalog",
            "products.csv",
            "--model",
            "m.psm",
            "--judgements",
            "labels.csv",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("labels.csv") && err.contains("another"),
        "{err}"
    );

    s.keys(&["q"]);
    let code = dir.path().join("exit_code");
    s.wait_for("exit code", |_| {
        std::fs::read_to_string(&code).is_ok_and(|c| c.ends_with('\n'))
    });
    assert_eq!(std::fs::read_to_string(&code).unwrap().trim(), "0");
    let on_disk = rows(&labels);
    assert_eq!(
        on_disk.len(),
        1,
        "undone label is gone after compaction: {on_disk:?}"
    );
    assert_eq!(on_disk[0].3, "2");

    let s2 = Tmux::start("again", dir.path(), &cmd, 100, 30);
    s2.wait_for("reopened", |x| x.contains("1 in file"));
    s2.literal("canon ink");
    s2.wait_for("label shown again", |x| x.contains("+2"));
}
