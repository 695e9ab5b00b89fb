//! End-to-end tests of the `prodsim` binary: every test runs the real
//! executable in its own temporary directory against the fixtures in
//! `tests/fixtures/`, and checks exit codes, stdout and stderr.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const PRODUCTS: &[u8] = include_bytes!("fixtures/products.csv");
const JUDGEMENTS: &[u8] = include_bytes!("fixtures/judgements.csv");

/// Absolute path of a committed fixture.
fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    p.to_str().expect("fixture path is UTF-8").to_string()
}

/// Runs prodsim in `dir` with extra environment variables; returns (exit
/// code, stdout, stderr). SOURCE_DATE_EPOCH is cleared unless given. No run
/// may ever panic.
fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prodsim"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cannot run prodsim");
    let code = out.status.code().expect("prodsim was killed by a signal");
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "prodsim {args:?} panicked:\n{stderr}"
    );
    (code, stdout, stderr)
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run_env(dir, args, &[])
}

/// Trains the fixture catalogue into `dir/model.psm`; returns stdout.
fn train_fixture(dir: &Path) -> String {
    let cat = fixture("products.csv");
    let (code, out, err) = run(dir, &["train", "--catalog", &cat, "--out", "model.psm"]);
    assert_eq!(code, 0, "train failed:\n{err}");
    out
}

/// Asserts a bad-input failure: exit 2, every fragment in stderr, nothing on stdout.
fn expect_user_error(dir: &Path, args: &[&str], fragments: &[&str]) -> String {
    let (code, out, err) = run(dir, args);
    assert_eq!(
        code, 2,
        "{args:?} should exit 2; stdout:\n{out}\nstderr:\n{err}"
    );
    assert!(
        err.starts_with("prodsim: ") || err.starts_with("error: "),
        "{err}"
    );
    for f in fragments {
        assert!(err.contains(f), "{args:?}: stderr lacks {f:?}:\n{err}");
    }
    assert!(out.is_empty(), "{args:?}: unexpected stdout:\n{out}");
    err
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{text}"))
}

fn info_json(dir: &Path, model: &str) -> Value {
    let (code, out, err) = run(dir, &["info", "--model", model, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    json(&out)
}

#[test]
fn train_prints_summary_and_info_shows_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = train_fixture(dir.path());
    assert!(
        out.starts_with("trained model ") && out.contains(" -> model.psm"),
        "{out}"
    );
    assert!(out.contains("products.csv (15 items)"), "{out}");
    assert!(
        out.contains("fields      title (detected title column; choose with --fields)"),
        "{out}"
    );
    assert!(out.contains("title       title"), "{out}");
    let model_id = out.split_whitespace().nth(2).unwrap().to_string();

    let (code, info, err) = run(dir.path(), &["info", "--model", "model.psm"]);
    assert_eq!(code, 0, "{err}");
    assert!(info.contains(&format!("model        {model_id}")), "{info}");
    assert!(info.contains("items        15"), "{info}");
    assert!(info.contains("format       version 1"), "{info}");

    let v = info_json(dir.path(), "model.psm");
    assert_eq!(v["meta"]["model_id"], model_id.as_str());
    assert_eq!(v["meta"]["items"], 15);
    assert_eq!(v["meta"]["catalog_file"], "products.csv");
    assert_eq!(v["meta"]["title_column"], "title");
    assert_eq!(v["config"]["id_column"], "id");
    let size = std::fs::metadata(dir.path().join("model.psm"))
        .unwrap()
        .len();
    assert_eq!(v["file_bytes"], size);

    // Explicit, weighted fields are reported as given, not as detected.
    let cat = fixture("products.csv");
    let args = [
        "train",
        "--catalog",
        &cat,
        "--out",
        "w.psm",
        "--fields",
        "title:3,brand",
    ];
    let (code, out, err) = run(dir.path(), &args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("fields      title:3, brand\n"), "{out}");
    assert_eq!(
        info_json(dir.path(), "w.psm")["meta"]["fields"],
        serde_json::json!(["title", "brand"])
    );
}

#[test]
fn train_rejects_bad_catalogues_without_writing_a_model() {
    type Case = (
        &'static str,
        Option<&'static [u8]>,
        &'static [&'static str],
        &'static [&'static str],
    );
    let cases: &[Case] = &[
        ("missing file", None, &[], &["cat.csv: file not found"]),
        (
            "empty file",
            Some(b""),
            &[],
            &["cat.csv: the file is empty"],
        ),
        (
            "header only",
            Some(b"id,title,brand\n"),
            &[],
            &["cat.csv: the catalogue has a header but no rows"],
        ),
        (
            "no header",
            Some(b"p1,Sony Bravia TV\np2,Kodak ink\n"),
            &[],
            &["cat.csv: line 1: no id column \"id\"", "add a header row"],
        ),
        (
            "missing id column",
            Some(PRODUCTS),
            &["--id-column", "sku"],
            &["line 1: no id column \"sku\"", "--id-column"],
        ),
        (
            "missing field column",
            Some(PRODUCTS),
            &["--fields", "title,colour"],
            &[
                "cat.csv: line 1: no text field column \"colour\"",
                "Fix --fields",
            ],
        ),
        (
            "duplicate id",
            Some(b"id,title\np1,Sony TV\np2,Kodak ink\np1,Bose speaker\n"),
            &[],
            &["cat.csv: line 4, column \"id\": duplicate id \"p1\" (first on line 2)"],
        ),
        (
            "empty id",
            Some(b"id,title\np1,Sony TV\n  ,Kodak ink\n"),
            &[],
            &["cat.csv: line 3, column \"id\": empty id"],
        ),
        (
            "ragged row",
            Some(b"id,title\np1,Sony TV\np2,Kodak,ink\n"),
            &[],
            &["cat.csv: line 3: row has 3 fields but the header has 2"],
        ),
        (
            "unterminated quote",
            Some(b"id,title\np1,Sony TV\np2,\"Kodak ink\np3,Bose\n"),
            &[],
            &["cat.csv: line 3", "unterminated quote"],
        ),
        (
            "invalid UTF-8",
            Some(b"id,title\np1,Sony TV\np2,Caf\xe9 cr\xe8me mug\n"),
            &[],
            &[
                "cat.csv: line 3, column \"title\": invalid UTF-8",
                "iconv -f WINDOWS-1252",
            ],
        ),
        (
            "no text at all",
            Some(b"id,title,brand\np1,,Sony\np2,  ,Kodak\n"),
            &[],
            &["catalogue is empty after leaving out 2 rows with empty text"],
        ),
        (
            "unknown --set key",
            Some(PRODUCTS),
            &["--set", "stemer=english"],
            &["unknown key \"stemer\"", "preprocess.stemmer"],
        ),
        (
            "bad scheme",
            Some(PRODUCTS),
            &["--set", "scheme=cosine"],
            &["--set \"scheme=cosine\": bad value for weighting.scheme"],
        ),
        (
            "min_df 0",
            Some(PRODUCTS),
            &["--set", "min_df=0"],
            &["vocabulary.min_df must be at least 1"],
        ),
        (
            "bad field weight",
            Some(PRODUCTS),
            &["--fields", "title:heavy"],
            &["weight \"heavy\" of field \"title\" is not a number"],
        ),
        (
            "zero field weight",
            Some(PRODUCTS),
            &["--fields", "title:0"],
            &["must be a positive number"],
        ),
    ];
    for (name, csv, extra, fragments) in cases {
        let dir = tempfile::tempdir().unwrap();
        if let Some(bytes) = csv {
            std::fs::write(dir.path().join("cat.csv"), bytes).unwrap();
        }
        let mut args = vec!["train", "--catalog", "cat.csv", "--out", "out.psm"];
        args.extend_from_slice(extra);
        let (code, out, err) = run(dir.path(), &args);
        assert_eq!(code, 2, "case {name}: stdout:\n{out}\nstderr:\n{err}");
        assert!(err.starts_with("prodsim: "), "case {name}: {err}");
        for f in *fragments {
            assert!(err.contains(f), "case {name}: stderr lacks {f:?}:\n{err}");
        }
        let expected: BTreeSet<String> = csv.iter().map(|_| "cat.csv".to_string()).collect();
        assert_eq!(
            files_in(dir.path()),
            expected,
            "case {name}: files left behind"
        );
    }
}

#[test]
fn bad_judgements_queries_and_missing_model_are_user_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train_fixture(d);
    let header = "query_kind,query,item_id,grade\n";
    std::fs::write(
        d.join("grade.csv"),
        format!("{header}text,sony tv,p003,1\ntext,sony tv,p004,high\n"),
    )
    .unwrap();
    expect_user_error(
        d,
        &["eval", "--model", "model.psm", "--judgements", "grade.csv"],
        &["grade.csv: line 3, column \"grade\": \"high\" is not an integer"],
    );
    std::fs::write(
        d.join("kind.csv"),
        format!("{header}sku,KX-TS3282B,p001,1\n"),
    )
    .unwrap();
    expect_user_error(
        d,
        &["eval", "--model", "model.psm", "--judgements", "kind.csv"],
        &["kind.csv: line 2, column \"query_kind\": unknown kind \"sku\""],
    );
    std::fs::write(
        d.join("q.csv"),
        "query_id,query_kind,query\nq1,text,phone\nq2,upc,0123\n",
    )
    .unwrap();
    expect_user_error(
        d,
        &["query", "--model", "model.psm", "--queries", "q.csv"],
        &["q.csv: line 3, column \"query_kind\": unknown kind \"upc\""],
    );
    expect_user_error(
        d,
        &["query", "--model", "model.psm", "--item", "p999"],
        &["item \"p999\" is not in the model"],
    );
    expect_user_error(
        d,
        &["query", "--model", "missing.psm", "--text", "phone"],
        &["missing.psm: file not found"],
    );
    expect_user_error(
        d,
        &["info", "--model", "missing.psm"],
        &["missing.psm: file not found"],
    );
    expect_user_error(
        d,
        &["eval", "--model", "model.psm", "--judgements", "nope.csv"],
        &["nope.csv: file not found"],
    );
}

#[test]
fn rows_without_text_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = PRODUCTS.to_vec();
    csv.extend_from_slice(b"p016,,Sony,1.00\np017,   ,Kodak,2.00\n");
    std::fs::write(dir.path().join("cat.csv"), csv).unwrap();
    let (code, out, err) = run(
        dir.path(),
        &["train", "--catalog", "cat.csv", "--out", "m.psm"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "warning: cat.csv: 2 rows have no text in (title) and were left out (lines 17, 18)"
        ),
        "{err}"
    );
    assert!(
        out.contains("(15 items, 2 rows without text left out)"),
        "{out}"
    );
    let v = info_json(dir.path(), "m.psm");
    assert_eq!(
        (
            v["meta"]["items"].as_u64(),
            v["meta"]["rows_skipped"].as_u64()
        ),
        (Some(15), Some(2))
    );
}

#[test]
fn overlong_fields_are_truncated_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut long = String::new();
    while long.len() <= 1 << 20 {
        long.push_str("Sony Bravia 55 inch 4K TV ");
    }
    let csv = format!("id,title\np1,Panasonic KX-TS3282B phone\np2,{long}\np3,Kodak ink\n");
    std::fs::write(dir.path().join("cat.csv"), csv).unwrap();
    let (code, out, err) = run(
        dir.path(),
        &["train", "--catalog", "cat.csv", "--out", "m.psm"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "warning: cat.csv: 1 values were longer than 1048576 bytes and were truncated"
        ),
        "{err}"
    );
    assert!(out.contains("(3 items)"), "{out}");
}

#[test]
fn judgements_naming_unknown_items_warn_and_continue() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train_fixture(d);
    let j = "query_kind,query,item_id,grade\ntext,sony headphones,p003,1\ntext,sony headphones,p999,1\nitem,p404,p003,1\n";
    std::fs::write(d.join("j.csv"), j).unwrap();
    let (code, out, err) = run(
        d,
        &[
            "eval",
            "--model",
            "model.psm",
            "--judgements",
            "j.csv",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: j.csv: 1 judged item ids are not in the model"),
        "{err}"
    );
    assert!(
        err.contains("warning: j.csv: 1 item queries name ids that are not in the model"),
        "{err}"
    );
    let v = json(&out);
    assert_eq!(v["queries"], 1);
    // p003 holds both query words, so it is retrieved; p999 never can be.
    assert_eq!(v["metrics"]["recall@10"].as_f64(), Some(0.5));
}

#[test]
fn training_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("cat.csv"), PRODUCTS).unwrap();
    let epoch = [("SOURCE_DATE_EPOCH", "1700000000")];
    for out in ["a.psm", "b.psm"] {
        let (code, _, err) = run_env(d, &["train", "--catalog", "cat.csv", "--out", out], &epoch);
        assert_eq!(code, 0, "{err}");
    }
    let a = std::fs::read(d.join("a.psm")).unwrap();
    assert!(
        a == std::fs::read(d.join("b.psm")).unwrap(),
        "models differ byte for byte"
    );
    assert_eq!(
        info_json(d, "a.psm")["meta"]["trained_at"],
        "2023-11-14T22:13:20Z"
    );

    let id = |model: &str, extra: &[&str]| {
        let mut args = vec!["train", "--catalog", "cat.csv", "--out", model];
        args.extend_from_slice(extra);
        let (code, _, err) = run(d, &args);
        assert_eq!(code, 0, "{err}");
        info_json(d, model)["meta"]["model_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (c, e) = (id("c.psm", &[]), id("e.psm", &[]));
    assert_eq!(c, e);
    assert_eq!(
        c,
        info_json(d, "a.psm")["meta"]["model_id"].as_str().unwrap()
    );
    assert_ne!(c, id("f.psm", &["--set", "char_ngrams=[0,0]"]));
}

/// The largest section of a model file as (offset, length), from its table.
fn largest_section(bytes: &[u8]) -> (usize, usize) {
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap()) as usize;
    let count = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    (0..count)
        .map(|i| (u64_at(24 + i * 32 + 8), u64_at(24 + i * 32 + 16)))
        .max_by_key(|s| s.1)
        .unwrap()
}

#[test]
fn corrupt_model_files_are_rejected_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    train_fixture(dir.path());
    let good = std::fs::read(dir.path().join("model.psm")).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let mut flipped = good.clone();
    let (off, len) = largest_section(&good);
    assert!(len > 64, "fixture model has a large section");
    flipped[off + len / 2] ^= 0x40;
    let mut version = good.clone();
    version[8..12].copy_from_slice(&99u32.to_le_bytes());
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("random bytes", random, "not a prodsim model file"),
        ("empty", Vec::new(), "not a prodsim model file"),
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            "truncated model file",
        ),
        ("flipped byte", flipped, "fails its checksum"),
        (
            "version 99",
            version,
            "model file format version 99, but this prodsim reads version 1",
        ),
    ];
    for (name, bytes, fragment) in cases {
        let case = tempfile::tempdir().unwrap();
        std::fs::write(case.path().join("bad.psm"), bytes).unwrap();
        let want = ["bad.psm: ", fragment];
        expect_user_error(case.path(), &["info", "--model", "bad.psm"], &want);
        expect_user_error(
            case.path(),
            &["query", "--model", "bad.psm", "--text", "phone"],
            &want,
        );
        let err = expect_user_error(
            case.path(),
            &["eval", "--model", "bad.psm", "--judgements", "x.csv"],
            &want,
        );
        assert!(
            err.lines().count() == 1,
            "case {name}: one clear line:\n{err}"
        );
    }
}

#[test]
fn query_json_explain_breakdown_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    train_fixture(dir.path());
    let text = "panasonic cordless phone";
    let args = [
        "query",
        "--model",
        "model.psm",
        "--text",
        text,
        "--format",
        "json",
        "--explain",
        "--k",
        "5",
    ];
    let (code, out, err) = run(dir.path(), &args);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["model"]["items"], 15);
    assert!(
        v["model"]["model_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{v}"
    );
    assert_eq!(v["query"]["kind"], "text");
    assert_eq!(v["query"]["query"], text);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    let mut last = f64::INFINITY;
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["rank"], i + 1);
        assert!(r["item_id"].is_string() && r["title"].is_string(), "{r}");
        let score = r["score"].as_f64().unwrap();
        assert!(score > 0.0 && score <= last + 1e-12, "scores descend: {r}");
        last = score;
        let rows = r["breakdown"].as_array().unwrap();
        assert!(!rows.is_empty(), "{r}");
        let mut sum = 0.0;
        for t in rows {
            assert!(t["token"].is_string(), "{t}");
            let (q, w, c) = (
                t["query_weight"].as_f64().unwrap(),
                t["item_weight"].as_f64().unwrap(),
                t["contribution"].as_f64().unwrap(),
            );
            assert!((q * w - c).abs() < 1e-9, "{t}");
            sum += c;
        }
        assert!(
            (sum - score).abs() < 1e-6,
            "rank {}: contributions {sum} vs score {score}",
            i + 1
        );
    }
    assert_eq!(results[0]["item_id"], "https://shop.example.com/item/p002");
}

#[test]
fn item_query_excludes_the_item_and_codes_match_across_spellings() {
    let dir = tempfile::tempdir().unwrap();
    train_fixture(dir.path());
    let (code, out, err) = run(
        dir.path(),
        &[
            "query",
            "--model",
            "model.psm",
            "--item",
            "p003",
            "--format",
            "json",
            "--k",
            "14",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let ids: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["item_id"].as_str().unwrap())
        .collect();
    assert!(!ids.is_empty() && !ids.contains(&"p003"), "{ids:?}");
    assert_eq!(ids[0], "p004", "WH-1000XM4 and WH1000XM4 meet");
    assert_eq!(v["query"]["kind"], "item");

    let (code, out, err) = run(
        dir.path(),
        &[
            "query",
            "--model",
            "model.psm",
            "--text",
            "kx ts3282b",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["results"][0]["item_id"], "p001");
    assert_eq!(
        v["results"][0]["title"],
        "Panasonic KX-TS3282B 2-Line Corded Phone with Speakerphone"
    );
    assert_eq!(
        v["results"][1]["item_id"], "p015",
        "kxts3282b is the same code"
    );
}

#[test]
fn query_batch_formats() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train_fixture(d);
    let queries = fixture("queries.csv");
    let base = [
        "query",
        "--model",
        "model.psm",
        "--queries",
        queries.as_str(),
    ];
    let with = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        let (code, out, err) = run(d, &args);
        assert_eq!(code, 0, "{err}");
        out
    };

    // JSON Lines: one compact object per query, in file order.
    let out = with(&["--format", "json", "--k", "4"]);
    let lines: Vec<Value> = out.lines().map(json).collect();
    let qids: Vec<&str> = lines
        .iter()
        .map(|v| v["query"]["query_id"].as_str().unwrap())
        .collect();
    assert_eq!(qids, ["q1", "q2", "q3"]);
    assert_eq!(lines[0]["results"][0]["item_id"], "p001");
    assert!(
        lines
            .iter()
            .all(|v| v["results"].as_array().unwrap().len() == 4),
        "{out}"
    );
    assert!(
        lines[2]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["item_id"] != "p003")
    );

    // TREC run: `qid Q0 item_id rank score run_name`, ranks 1..k per query.
    let model_id = info_json(d, "model.psm")["meta"]["model_id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = with(&["--format", "trec", "--k", "3"]);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 9, "{out}");
    for (i, f) in rows.iter().enumerate() {
        assert_eq!(f.len(), 6, "{f:?}");
        assert_eq!(f[0], format!("q{}", i / 3 + 1));
        assert_eq!(f[1], "Q0");
        assert_eq!(f[3], (i % 3 + 1).to_string());
        assert!(f[4].parse::<f64>().unwrap() > 0.0, "{f:?}");
        assert_eq!(f[5], format!("prodsim-{model_id}"));
    }
    assert_eq!(rows[0][2], "p001");

    // CSV: a header, then quoted fields a csv reader reads back.
    let out = with(&["--format", "csv", "--k", "2"]);
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["query_id", "rank", "item_id", "title", "score"]
    );
    let recs: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 6, "{out}");
    let q2: Vec<&csv::StringRecord> = recs.iter().filter(|r| &r[0] == "q2").collect();
    assert_eq!(q2.len(), 2);
    assert_eq!(&q2[0][2], "p006");
    assert_eq!(
        &q2[0][3],
        "Canon PIXMA MG3620 Wireless All-in-One Printer, Black"
    );
    assert!(
        recs.iter()
            .all(|r| r[4].parse::<f64>().is_ok() && ["1", "2"].contains(&&r[1]))
    );
}

#[test]
fn query_table_is_the_default_and_k_is_respected() {
    let dir = tempfile::tempdir().unwrap();
    train_fixture(dir.path());
    let (code, out, err) = run(
        dir.path(),
        &[
            "query",
            "--model",
            "model.psm",
            "--text",
            "logitech wireless mouse",
            "--k",
            "2",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("text query: logitech wireless mouse\n"),
        "{out}"
    );
    assert!(
        out.contains("rank") && out.contains("score") && out.contains("title"),
        "{out}"
    );
    assert!(
        out.contains("Logitech MX Master 3 Advanced Wireless Mouse"),
        "{out}"
    );
    let ranked: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(ranked.len(), 2, "{out}");
    assert!(
        ranked[0].trim_start().starts_with("1 ") && ranked[1].trim_start().starts_with("2 "),
        "{out}"
    );
}

#[test]
fn eval_reports_metrics_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train_fixture(d);
    std::fs::write(d.join("j.csv"), JUDGEMENTS).unwrap();
    let eval = |k: &str| {
        let (code, out, err) = run(
            d,
            &[
                "eval",
                "--model",
                "model.psm",
                "--judgements",
                "j.csv",
                "--format",
                "json",
                "--k",
                k,
            ],
        );
        assert_eq!(code, 0, "{err}");
        json(&out)
    };
    let v = eval("10");
    assert_eq!(v["queries"], 4);
    assert_eq!(v["k"], 10);
    let metrics = v["metrics"].as_object().unwrap();
    let keys: BTreeSet<&str> = metrics.keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = [
        "hit@1",
        "hit@5",
        "hit@10",
        "recall@10",
        "p@10",
        "mrr",
        "ndcg@10",
        "map",
    ]
    .into();
    assert_eq!(keys, want);
    for (name, value) in metrics {
        let x = value.as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x), "{name} = {x}");
    }
    let per_query = v["per_query"].as_array().unwrap();
    assert_eq!(per_query.len(), 4);
    assert_eq!(per_query[0]["query"], "kx ts3282b corded phone");
    assert_eq!(per_query[0]["relevant"], 2);

    let v = eval("3");
    let keys: BTreeSet<&str> = v["metrics"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for want in ["hit@3", "recall@3", "p@3", "ndcg@3", "mrr", "map"] {
        assert!(keys.contains(want), "{keys:?}");
    }
    assert!(!keys.iter().any(|k| k.ends_with("@10")), "{keys:?}");

    let (code, _, err) = run(
        d,
        &[
            "eval",
            "--model",
            "model.psm",
            "--judgements",
            "j.csv",
            "--k",
            "0",
        ],
    );
    assert_eq!((code, err.trim()), (2, "prodsim: --k must be at least 1"));
}

#[test]
fn eval_hand_checked_exact_title_query() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train_fixture(d);
    // The query is p009's whole title: its vector equals p009's, cosine 1,
    // so p009 is certainly first; it is the only relevant item.
    let j = "query_kind,query,item_id,grade\ntext,Logitech MX Master 3 Advanced Wireless Mouse,p009,1\n";
    std::fs::write(d.join("j.csv"), j).unwrap();
    let (code, out, err) = run(
        d,
        &[
            "eval",
            "--model",
            "model.psm",
            "--judgements",
            "j.csv",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let m = &v["metrics"];
    for (name, want) in [
        ("hit@1", 1.0),
        ("mrr", 1.0),
        ("recall@10", 1.0),
        ("p@10", 0.1),
        ("map", 1.0),
    ] {
        assert!(
            (m[name].as_f64().unwrap() - want).abs() < 1e-9,
            "{name}: {m}"
        );
    }
    assert!((m["ndcg@10"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{m}");
    assert_eq!(v["per_query"][0]["first_relevant_rank"], 1);

    let (code, out, _) = run(
        d,
        &["eval", "--model", "model.psm", "--judgements", "j.csv"],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("(1 queries, k = 10)") && out.contains("  mrr        1.0000"),
        "{out}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    expect_user_error(d, &["train", "--bogus"], &["unexpected argument '--bogus'"]);
    expect_user_error(
        d,
        &["query", "--model", "m.psm", "--k", "ten"],
        &["invalid value 'ten'"],
    );
    expect_user_error(
        d,
        &["query", "--model", "m.psm", "--text", "a", "--item", "b"],
        &["cannot be used with"],
    );
    expect_user_error(
        d,
        &["frobnicate"],
        &["unrecognized subcommand 'frobnicate'"],
    );
    expect_user_error(d, &[], &["no command given"]);
    train_fixture(d);
    expect_user_error(
        d,
        &["query", "--model", "model.psm"],
        &["query needs one of --text TEXT, --item ID or --queries FILE"],
    );
}
