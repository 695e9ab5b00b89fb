//! Labels end to end: `prodsim labels export` / `import` run as the real
//! binary on the fixtures in `tests/fixtures/labels/`, and the store's
//! locking and crash safety checked across processes (this test binary
//! re-runs itself as the child that labels, holds the lock or is killed).

use prodsim::judgements::Judgements;
use prodsim::labels::{LabelStore, Provenance};
use prodsim::rank::Query;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    p.join(name).to_str().expect("UTF-8 path").to_string()
}

/// Runs prodsim in `dir`; returns (exit code, stdout, stderr). No run may panic.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_prodsim"))
        .args(args)
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("cannot run prodsim");
    let code = out.status.code().expect("prodsim was killed by a signal");
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    (code, stdout, stderr)
}

fn ok(dir: &Path, args: &[&str]) -> (String, String) {
    let (code, out, err) = run(dir, args);
    assert_eq!(code, 0, "{args:?} failed:\n{err}");
    (out, err)
}

/// Exit 2, every fragment on stderr, nothing on stdout.
fn user_error(dir: &Path, args: &[&str], fragments: &[&str]) {
    let (code, out, err) = run(dir, args);
    assert_eq!(code, 2, "{args:?} should exit 2:\n{out}\n{err}");
    for f in fragments {
        assert!(err.contains(f), "{args:?}: stderr lacks {f:?}:\n{err}");
    }
    assert!(out.is_empty(), "{args:?}: unexpected stdout:\n{out}");
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("read")
}

#[test]
fn export_qrels_and_topics_match_the_hand_written_files() {
    let dir = tempfile::tempdir().unwrap();
    let j = fixture("labels/judgements.csv");
    let (out, err) = ok(
        dir.path(),
        &[
            "labels",
            "export",
            "--judgements",
            &j,
            "--format",
            "qrels",
            "--out",
            "run.qrels",
            "--topics",
            "topics.csv",
        ],
    );
    assert!(err.is_empty(), "{err}");
    assert!(
        out.contains("8 judged pairs (5 queries, 5 relevant)") && out.contains("topics"),
        "{out}"
    );
    assert_eq!(
        read(&dir.path().join("run.qrels")),
        read(Path::new(&fixture("labels/expected.qrels")))
    );
    assert_eq!(
        read(&dir.path().join("topics.csv")),
        read(Path::new(&fixture("labels/expected.topics.csv")))
    );
    // Without --topics: written, with a warning, exit 0.
    let (_, err) = ok(
        dir.path(),
        &[
            "labels",
            "export",
            "--judgements",
            &j,
            "--format",
            "qrels",
            "--out",
            "b.qrels",
        ],
    );
    assert!(
        err.contains("warning:") && err.contains("--topics"),
        "{err}"
    );
    assert_eq!(
        read(&dir.path().join("b.qrels")),
        read(&dir.path().join("run.qrels"))
    );
}

#[test]
fn export_jsonl_has_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let j = fixture("labels/judgements.csv");
    ok(
        dir.path(),
        &[
            "labels",
            "export",
            "--judgements",
            &j,
            "--format",
            "jsonl",
            "--out",
            "l.jsonl",
        ],
    );
    let rows: Vec<Value> = read(&dir.path().join("l.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(rows.len(), 8);
    let keys = [
        "query_kind",
        "query",
        "item_id",
        "grade",
        "analyst",
        "model",
        "rank",
        "score",
        "labelled_at",
    ];
    for r in &rows {
        let obj = r.as_object().expect("object");
        assert_eq!(obj.len(), keys.len(), "{r}");
        for k in keys {
            assert!(obj.contains_key(k), "{k} missing in {r}");
        }
        assert!(r["grade"].is_i64(), "{r}");
        assert!(r["rank"].is_u64() || r["rank"].is_null(), "{r}");
        assert!(r["score"].is_f64() || r["score"].is_null(), "{r}");
    }
    // The re-grade won, with its own provenance.
    let p002 = rows
        .iter()
        .find(|r| r["item_id"] == "https://shop.example.com/item/p002")
        .unwrap();
    assert_eq!(p002["grade"], 0);
    assert_eq!(p002["labelled_at"], "2026-11-30T10:16:30.000Z");
    assert_eq!(p002["rank"], 2);
    assert_eq!(p002["score"], 0.4012);
    let quoted = rows.iter().find(|r| r["item_id"] == "p006").unwrap();
    assert_eq!(quoted["query"], "canon \"pixma\" printer");
    let bare = rows.iter().find(|r| r["item_id"] == "p008").unwrap();
    assert_eq!(bare["query_kind"], "item");
    for k in ["analyst", "model", "rank", "score", "labelled_at"] {
        assert!(bare[k].is_null(), "{k}: {bare}");
    }
}

#[test]
fn exported_csv_evaluates_like_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture("products.csv");
    ok(
        dir.path(),
        &["train", "--catalog", &cat, "--out", "model.psm"],
    );
    let j = fixture("labels/judgements.csv");
    ok(
        dir.path(),
        &[
            "labels",
            "export",
            "--judgements",
            &j,
            "--format",
            "csv",
            "--out",
            "c.csv",
        ],
    );
    let compact = read(&dir.path().join("c.csv"));
    assert_eq!(compact.lines().count(), 9, "{compact}");
    assert!(
        compact
            .starts_with("query_kind,query,item_id,grade,analyst,model,rank,score,labelled_at\n")
    );
    let eval = |file: &str| {
        ok(
            dir.path(),
            &[
                "eval",
                "--model",
                "model.psm",
                "--judgements",
                file,
                "--format",
                "json",
            ],
        )
        .0
    };
    let original = eval(&j);
    assert_eq!(eval("c.csv"), original);
    let report: Value = serde_json::from_str(&original).unwrap();
    assert_eq!(report["queries"], 5, "{report}");
    // Exporting the export changes nothing.
    ok(
        dir.path(),
        &[
            "labels",
            "export",
            "--judgements",
            "c.csv",
            "--format",
            "csv",
            "--out",
            "d.csv",
        ],
    );
    assert_eq!(read(&dir.path().join("d.csv")), compact);
}

fn without_timestamp(csv: &str) -> String {
    csv.lines()
        .skip(1)
        .map(|l| l.rsplit_once(',').map_or(l, |(head, _)| head).to_string() + "\n")
        .collect()
}

#[test]
fn import_pairs_with_and_without_a_left_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = fixture("labels/pairs.csv");
    let left = fixture("labels/left.csv");
    let base = [
        "labels",
        "import",
        "--pairs",
        &pairs,
        "--left",
        "src",
        "--right",
        "dst",
        "--analyst",
        "ana",
    ];
    let (out, _) = ok(dir.path(), &[&base[..], &["--out", "items.csv"]].concat());
    assert!(
        out.contains("imported 5 judgements (4 queries) from 6 pairs, 1 repeated"),
        "{out}"
    );
    let items = read(&dir.path().join("items.csv"));
    assert!(
        items.starts_with("query_kind,query,item_id,grade,analyst,model,rank,score,labelled_at\n")
    );
    assert_eq!(
        without_timestamp(&items),
        "item,a1,p001,1,ana,,,\n\
         item,a2,p003,1,ana,,,\n\
         item,a3,p003,1,ana,,,\n\
         item,a2,https://shop.example.com/item/p005,1,ana,,,\n\
         item,a4,p006,1,ana,,,\n"
    );
    let (out, _) = ok(
        dir.path(),
        &[
            &base[..],
            &[
                "--out",
                "texts.csv",
                "--left-catalog",
                &left,
                "--left-text",
                "title",
                "--grade",
                "2",
            ],
        ]
        .concat(),
    );
    // a2 and a3 share a title: their pair with p003 is one judgement.
    assert!(
        out.contains("imported 4 judgements (3 queries) from 6 pairs, 2 repeated"),
        "{out}"
    );
    let texts = read(&dir.path().join("texts.csv"));
    assert_eq!(
        without_timestamp(&texts),
        "text,Panasonic KX-TS3282B corded phone,p001,2,ana,,,\n\
         text,\"Sony headphones, noise cancelling\",p003,2,ana,,,\n\
         text,\"Sony headphones, noise cancelling\",https://shop.example.com/item/p005,2,ana,,,\n\
         text,Canon PIXMA MG3620 printer,p006,2,ana,,,\n"
    );
    for line in texts.lines().skip(1) {
        let stamp = line.rsplit_once(',').unwrap().1;
        assert!(prodsim::labels::is_timestamp(stamp), "{line}");
    }
    // The import is a labels file: eval reads it, a store opens it as is.
    let cat = fixture("products.csv");
    ok(
        dir.path(),
        &["train", "--catalog", &cat, "--out", "model.psm"],
    );
    ok(
        dir.path(),
        &["eval", "--model", "model.psm", "--judgements", "texts.csv"],
    );
    let store = LabelStore::open(&dir.path().join("texts.csv"), "ana").unwrap();
    assert!(store.warnings().is_empty(), "{:?}", store.warnings());
    assert_eq!((store.len(), store.queries()), (4, 3));
    // An existing output is not replaced without --force.
    drop(store);
    user_error(
        dir.path(),
        &[&base[..], &["--out", "items.csv"]].concat(),
        &["items.csv", "exists", "--force"],
    );
    ok(
        dir.path(),
        &[&base[..], &["--out", "items.csv", "--force"]].concat(),
    );
}

#[test]
fn bad_inputs_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let left = fixture("labels/left.csv");
    std::fs::write(d.join("bad-pairs.csv"), "src,dst\na1,p001\na9,p003\n").unwrap();
    std::fs::write(d.join("empty-id.csv"), "src,dst\na1,p001\na2,\n").unwrap();
    std::fs::write(d.join("ragged.csv"), "src,dst\na1,p001,extra\n").unwrap();
    let import = |pairs: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "labels", "import", "--pairs", pairs, "--left", "src", "--right", "dst", "--out",
            "o.csv",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let args = import(
        "bad-pairs.csv",
        &["--left-catalog", &left, "--left-text", "title"],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    user_error(
        d,
        &args,
        &[
            "bad-pairs.csv: line 3, column \"src\"",
            "\"a9\"",
            "left.csv",
        ],
    );
    let args = import("empty-id.csv", &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    user_error(
        d,
        &args,
        &["empty-id.csv: line 3, column \"dst\": empty id"],
    );
    let args = import("ragged.csv", &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    user_error(d, &args, &["ragged.csv: line 2", "3 fields"]);
    let args = import(
        "empty-id.csv",
        &["--left-catalog", &left, "--left-text", "name"],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    user_error(
        d,
        &args,
        &["left.csv: line 1", "no column \"name\"", "id,title,brand"],
    );
    // --left-catalog without --left-text is a usage error.
    let args = import("empty-id.csv", &["--left-catalog", &left]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = run(d, &args);
    assert_eq!(code, 2, "{err}");
    assert!(!d.join("o.csv").exists());

    // Export: a bad row names its line and column; a torn last row is left
    // out with a warning (it may be an append in progress).
    std::fs::write(
        d.join("bad.csv"),
        "query_kind,query,item_id,grade\ntext,q,a,high\ntext,q,b,1\n",
    )
    .unwrap();
    user_error(
        d,
        &[
            "labels",
            "export",
            "--judgements",
            "bad.csv",
            "--format",
            "qrels",
            "--out",
            "x",
        ],
        &["bad.csv: line 2, column \"grade\"", "\"high\""],
    );
    std::fs::write(
        d.join("spaces.csv"),
        "query_kind,query,item_id,grade\ntext,q,a,1\ntext,q,an id,1\n",
    )
    .unwrap();
    user_error(
        d,
        &[
            "labels",
            "export",
            "--judgements",
            "spaces.csv",
            "--format",
            "qrels",
            "--out",
            "x",
        ],
        &["spaces.csv: line 3, column \"item_id\"", "whitespace"],
    );
    user_error(
        d,
        &[
            "labels",
            "export",
            "--judgements",
            "spaces.csv",
            "--format",
            "csv",
            "--out",
            "x",
            "--topics",
            "t.csv",
        ],
        &["--format qrels"],
    );
    user_error(
        d,
        &[
            "labels",
            "export",
            "--judgements",
            "missing.csv",
            "--format",
            "csv",
            "--out",
            "x",
        ],
        &["missing.csv", "not found"],
    );
    assert!(!d.join("x").exists());
    std::fs::write(
        d.join("torn.csv"),
        "query_kind,query,item_id,grade,labelled_at\ntext,q,a,1,2026-01-01T00:00:00Z\ntext,q,b,1,2026-01-0",
    )
    .unwrap();
    let (_, err) = ok(
        d,
        &[
            "labels",
            "export",
            "--judgements",
            "torn.csv",
            "--format",
            "qrels",
            "--out",
            "t.qrels",
        ],
    );
    assert!(
        err.contains("torn.csv: line 3: dropped an incomplete last row"),
        "{err}"
    );
    assert_eq!(read(&d.join("t.qrels")), "1 0 a 1\n");
}

// ---------------------------------------------------------------------------
// Across processes: this binary re-run as a child.

const CHILD_PATH: &str = "PRODSIM_LABELS_TEST_PATH";
const CHILD_MODE: &str = "PRODSIM_LABELS_TEST_MODE";

/// The labelling child's operations, a deterministic function of the step.
#[derive(Debug, Clone)]
enum Op {
    Set(String, String, i32),
    Undo,
    Redo,
    Compact,
}

fn op(k: u64) -> Op {
    match k % 11 {
        4 | 7 => Op::Undo,
        8 => Op::Redo,
        10 => Op::Compact,
        _ => Op::Set(
            format!("query {}", k % 7),
            format!("item{}", (k * 5) % 13),
            (k % 4) as i32,
        ),
    }
}

type State = HashMap<(String, String), i32>;

/// What the store must hold after each number of completed operations:
/// a model of set (same grade = no change), undo and redo.
fn expected_states(n: u64) -> Vec<State> {
    let mut state = State::new();
    type Change = ((String, String), Option<i32>, Option<i32>);
    let (mut undo, mut redo): (Vec<Change>, Vec<Change>) = (Vec::new(), Vec::new());
    let mut out = vec![state.clone()];
    let put = |s: &mut State, key: &(String, String), g: Option<i32>| match g {
        Some(g) => {
            s.insert(key.clone(), g);
        }
        None => {
            s.remove(key);
        }
    };
    for k in 0..n {
        match op(k) {
            Op::Set(q, i, g) => {
                let key = (q, i);
                let before = state.get(&key).copied();
                if before != Some(g) {
                    state.insert(key.clone(), g);
                    undo.push((key, before, Some(g)));
                    redo.clear();
                }
            }
            Op::Undo => {
                if let Some(c) = undo.pop() {
                    put(&mut state, &c.0, c.1);
                    redo.push(c);
                }
            }
            Op::Redo => {
                if let Some(c) = redo.pop() {
                    put(&mut state, &c.0, c.2);
                    undo.push(c);
                }
            }
            Op::Compact => {}
        }
        out.push(state.clone());
    }
    out
}

fn state_of(store: &LabelStore) -> State {
    store
        .to_judgements()
        .rows
        .into_iter()
        .map(|r| ((r.query.value().to_string(), r.item_id), r.grade))
        .collect()
}

/// Not a test on its own: the child process of the tests below. `hold`
/// opens the store and waits for stdin to close; `work` labels until killed,
/// printing `DONE k` once operation k has returned (what a screen would show).
#[test]
#[ignore = "run as a child process by the cross-process tests"]
fn child_labeller() {
    let Ok(path) = std::env::var(CHILD_PATH) else {
        return;
    };
    let mode = std::env::var(CHILD_MODE).unwrap_or_default();
    let mut store = match LabelStore::open(Path::new(&path), "child") {
        Ok(s) => s,
        Err(e) => {
            println!("FAILED {e}");
            return;
        }
    };
    println!("OPEN {}", std::process::id());
    if mode == "hold" {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
        return;
    }
    for k in 0..1_000_000u64 {
        match op(k) {
            Op::Set(q, i, g) => {
                let prov = Provenance {
                    analyst: String::new(),
                    model: "m".into(),
                    rank: Some(k as usize % 20 + 1),
                    score: Some(1.0 / (k as f64 + 1.0)),
                };
                store.set(&Query::Text(q), &i, g, prov).expect("set");
            }
            Op::Undo => {
                store.undo().expect("undo");
            }
            Op::Redo => {
                store.redo().expect("redo");
            }
            Op::Compact => store.compact().expect("compact"),
        }
        println!("DONE {k}");
    }
}

struct Child {
    child: std::process::Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

fn spawn_child(path: &Path, mode: &str) -> Child {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_labeller",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_PATH, path)
        .env(CHILD_MODE, mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child");
    let stdout = child.stdout.take().expect("child stdout");
    Child {
        child,
        lines: BufReader::new(stdout).lines(),
    }
}

impl Drop for Child {
    /// A failing test must not leave its child running (or a zombie).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Child {
    /// The next line the child printed for us.
    /// (libtest may print `test child_labeller ... ` before it on the same line.)
    fn next(&mut self) -> Option<String> {
        for line in self.lines.by_ref() {
            let line = line.expect("child output");
            let at = ["OPEN ", "DONE ", "FAILED "]
                .iter()
                .filter_map(|m| line.find(m))
                .min();
            if let Some(at) = at {
                return Some(line[at..].to_string());
            }
        }
        None
    }

    fn pid_after_open(&mut self) -> u32 {
        let line = self.next().expect("the child prints OPEN");
        let pid = line
            .strip_prefix("OPEN ")
            .unwrap_or_else(|| panic!("{line}"));
        pid.parse().expect("pid")
    }
}

#[test]
fn the_lock_holds_across_processes_and_dies_with_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.csv");
    let mut child = spawn_child(&path, "hold");
    let pid = child.pid_after_open();
    let e = LabelStore::open(&path, "parent").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, prodsim::error::Error::Input(_)));
    assert!(
        msg.contains("shared.csv")
            && msg.contains("another prodsim")
            && msg.contains(&format!("pid {pid}"))
            && msg.contains("analyst child"),
        "{msg}"
    );
    // The binary refuses to import over it, and still exports from it.
    let pairs = fixture("labels/pairs.csv");
    user_error(
        dir.path(),
        &[
            "labels",
            "import",
            "--pairs",
            &pairs,
            "--left",
            "src",
            "--right",
            "dst",
            "--out",
            "shared.csv",
            "--force",
        ],
        &["shared.csv", "is labelling", &format!("pid {pid}")],
    );
    ok(
        dir.path(),
        &[
            "labels",
            "export",
            "--judgements",
            "shared.csv",
            "--format",
            "csv",
            "--out",
            "e.csv",
        ],
    );
    // SIGKILL: the OS drops the lock, the next store opens at once.
    child.child.kill().expect("kill");
    child.child.wait().expect("wait");
    let store = LabelStore::open(&path, "parent").expect("open after the holder died");
    assert!(store.is_empty());
}

#[cfg(unix)]
#[test]
fn sigkill_at_any_moment_loses_no_confirmed_label() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.csv");
    let mut done: u64 = 0;
    // Kill points spread over the operations (sets, undos, redos, compactions).
    for (round, after) in [0u64, 1, 5, 17, 40, 3, 90, 11, 150, 7]
        .into_iter()
        .enumerate()
    {
        let mut child = spawn_child(&path, "work");
        let first = child.next().expect("child starts");
        assert!(first.starts_with("OPEN "), "round {round}: {first}");
        let mut seen = 0;
        while seen < after {
            match child.next() {
                Some(l) if l.starts_with("DONE ") => seen += 1,
                other => panic!("round {round}: {other:?}"),
            }
        }
        child.child.kill().expect("kill");
        child.child.wait().expect("wait");
        // Everything the child confirmed before it died.
        let mut confirmed = seen;
        while let Some(l) = child.next() {
            if l.starts_with("DONE ") {
                confirmed += 1;
            }
        }
        // The file is readable as judgements as it was left, unless the
        // kill cut the very last row, which the next open repairs.
        let strict = Judgements::load(&path);
        let store = LabelStore::open(&path, "checker").expect("reopen after SIGKILL");
        if let Err(e) = &strict {
            assert!(
                store
                    .warnings()
                    .iter()
                    .any(|w| w.contains("incomplete last row")),
                "round {round}: unreadable file not repaired: {e}"
            );
        }
        // The state is the one after the confirmed ops, or after one more
        // (the op in flight when the kill came may have reached the disk).
        let states = expected_states(confirmed + 1);
        let got = state_of(&store);
        let n = confirmed as usize;
        assert!(
            got == states[n] || got == states[n + 1],
            "round {round}: after {confirmed} confirmed ops the store holds {got:?}, \
             expected {:?}",
            states[n]
        );
        // No temporary file of an interrupted rewrite is left once reopened.
        let leftovers: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
        // The child restarts its sequence: start each round from no file.
        drop(store);
        std::fs::remove_file(&path).unwrap();
        done += confirmed;
    }
    assert!(done > 100, "the children confirmed only {done} operations");
}
