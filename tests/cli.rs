//! End-to-end tests of the `prodsim` binary: every test runs the real
//! executable in its own temporary directory against the fixtures in
//! `tests/fixtures/`, and checks exit codes, stdout and stderr.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod common;
use common::{run, run_env};

const PRODUCTS: &[u8] = include_bytes!("fixtures/products.csv");
const JUDGEMENTS: &[u8] = include_bytes!("fixtures/judgements.csv");

/// Absolute path of a committed fixture.
fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    p.join(name).to_str().expect("UTF-8 path").to_string()
}

/// Runs a command that must succeed: `cmd` split on whitespace, then
/// `extra` verbatim (for arguments with spaces). Returns stdout.
fn ok(dir: &Path, cmd: &str, extra: &[&str]) -> String {
    let args: Vec<&str> = cmd
        .split_whitespace()
        .chain(extra.iter().copied())
        .collect();
    let (code, out, err) = run_env(dir, &args, &[]);
    assert_eq!(code, 0, "{args:?} failed:\n{err}");
    out
}

/// Trains the fixture catalogue into `dir/model.psm`; returns stdout.
fn train_fixture(dir: &Path) -> String {
    let cat = fixture("products.csv");
    ok(dir, "train --out model.psm --catalog", &[&cat])
}

/// Asserts a bad-input failure: exit 2, each fragment on stderr, no stdout.
fn expect_user_error(dir: &Path, cmd: &str, fragments: &[&str]) -> String {
    let (code, out, err) = run(dir, cmd);
    assert_eq!(
        code, 2,
        "{cmd}: should exit 2; stdout:\n{out}\nstderr:\n{err}"
    );
    assert!(
        err.starts_with("prodsim: ") || err.starts_with("error: "),
        "{err}"
    );
    has(&err, fragments);
    assert!(out.is_empty(), "{cmd}: unexpected stdout:\n{out}");
    err
}

/// Asserts that `text` contains every fragment.
fn has(text: &str, fragments: &[&str]) {
    for f in fragments {
        assert!(text.contains(f), "lacks {f:?}:\n{text}");
    }
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    let entries = std::fs::read_dir(dir).unwrap();
    entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{text}"))
}

fn info_json(dir: &Path, model: &str) -> Value {
    json(&ok(dir, "info --format json --model", &[model]))
}

fn model_id(dir: &Path, model: &str) -> String {
    info_json(dir, model)["meta"]["model_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn train_prints_summary_and_info_shows_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = train_fixture(d);
    assert!(out.starts_with("trained model "), "{out}");
    let detected = "fields      title (detected title column; choose with --fields)\n";
    has(
        &out,
        &[
            " -> model.psm\n",
            "products.csv (15 items)\n",
            detected,
            "title       title\n",
        ],
    );
    let id = out.split_whitespace().nth(2).unwrap().to_string();

    let info = ok(d, "info --model model.psm", &[]);
    has(
        &info,
        &[
            &format!("model        {id}\n"),
            "items        15\n",
            "format       version 1 ",
        ],
    );

    let v = info_json(d, "model.psm");
    assert_eq!(v["meta"]["model_id"], id.as_str());
    assert_eq!(v["meta"]["items"], 15);
    assert_eq!(v["meta"]["catalog_file"], "products.csv");
    assert_eq!(v["meta"]["title_column"], "title");
    assert_eq!(v["config"]["id_column"], "id");
    assert_eq!(
        v["file_bytes"],
        std::fs::metadata(d.join("model.psm")).unwrap().len()
    );

    // Explicit, weighted fields are reported as given, not as detected.
    let cat = fixture("products.csv");
    let out = ok(
        d,
        "train --out w.psm --fields title:3,brand --catalog",
        &[&cat],
    );
    has(&out, &["fields      title:3, brand\n"]);
    assert_eq!(
        info_json(d, "w.psm")["meta"]["fields"],
        serde_json::json!(["title", "brand"])
    );
}

#[test]
fn train_rejects_bad_catalogues_without_writing_a_model() {
    // (case, catalogue written to cat.csv, extra arguments, stderr fragments split on `|`)
    #[rustfmt::skip]
    let cases: &[(&str, Option<&[u8]>, &str, &str)] = &[
        ("missing file", None, "", "cat.csv: file not found"),
        ("empty file", Some(b""), "", "cat.csv: the file is empty"),
        ("header only", Some(b"id,title\n"), "", "cat.csv: the catalogue has a header but no rows"),
        ("no header", Some(b"p1,Sony Bravia TV\np2,Kodak ink\n"), "", "cat.csv: line 1: no id column \"id\"|add a header row"),
        ("no id column", Some(PRODUCTS), "--id-column sku", "line 1: no id column \"sku\"|--id-column"),
        ("no field column", Some(PRODUCTS), "--fields title,colour", "cat.csv: line 1: no text field column \"colour\"|Fix --fields"),
        ("duplicate id", Some(b"id,title\np1,Sony TV\np2,Kodak ink\np1,Bose speaker\n"), "", "cat.csv: line 4, column \"id\": duplicate id \"p1\" (first on line 2)"),
        ("empty id", Some(b"id,title\np1,Sony TV\n  ,Kodak\n"), "", "line 3, column \"id\": empty id"),
        ("ragged row", Some(b"id,title\np1,Sony TV\np2,Kodak,ink\n"), "", "cat.csv: line 3: row has 3 fields but the header has 2"),
        ("unterminated quote", Some(b"id,title\np1,Sony TV\np2,\"Kodak ink\np3,Bose\n"), "", "cat.csv: line 3: |unterminated quote"),
        ("invalid UTF-8", Some(b"id,title\np1,Sony TV\np2,Caf\xe9 cr\xe8me mug\n"), "", "cat.csv: line 3, column \"title\": invalid UTF-8|iconv -f WINDOWS-1252"),
        ("no text at all", Some(b"id,title,brand\np1,,Sony\np2,  ,Kodak\n"), "", "cat.csv: no product has any text|empty after leaving out 2 rows"),
        ("unknown key", Some(PRODUCTS), "--set stemer=english", "unknown key \"stemer\"|preprocess.stemmer"),
        ("bad scheme", Some(PRODUCTS), "--set scheme=cosine", "bad value for weighting.scheme"),
        ("min_df 0", Some(PRODUCTS), "--set min_df=0", "vocabulary.min_df must be at least 1"),
        ("bad weight", Some(PRODUCTS), "--fields title:heavy", "weight \"heavy\" of field \"title\""),
        ("zero weight", Some(PRODUCTS), "--fields title:0", "must be a positive number"),
    ];
    for (name, csv, extra, fragments) in cases {
        let dir = tempfile::tempdir().unwrap();
        if let Some(bytes) = csv {
            std::fs::write(dir.path().join("cat.csv"), bytes).unwrap();
        }
        let (code, out, err) = run(
            dir.path(),
            &format!("train --catalog cat.csv --out out.psm {extra}"),
        );
        assert_eq!(code, 2, "case {name}: stdout:\n{out}\nstderr:\n{err}");
        assert!(err.starts_with("prodsim: "), "case {name}: {err}");
        for f in fragments.split('|') {
            assert!(err.contains(f), "case {name}: stderr lacks {f:?}:\n{err}");
        }
        let expected: BTreeSet<String> = csv.iter().map(|_| "cat.csv".to_string()).collect();
        assert_eq!(
            files_in(dir.path()),
            expected,
            "case {name}: no model, no temp file"
        );
    }
}

#[test]
fn bad_judgements_queries_and_missing_model_are_user_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train_fixture(d);
    let head = "query_kind,query,item_id,grade\n";
    std::fs::write(
        d.join("grade.csv"),
        format!("{head}text,sony tv,p003,1\ntext,tv,p004,high\n"),
    )
    .unwrap();
    std::fs::write(d.join("kind.csv"), format!("{head}sku,KX-TS3282B,p001,1\n")).unwrap();
    std::fs::write(
        d.join("q.csv"),
        "query_id,query_kind,query\nq1,text,tv\nq2,upc,0123\n",
    )
    .unwrap();
    #[rustfmt::skip]
    let cases = [
        ("eval --judgements grade.csv", "grade.csv: line 3, column \"grade\": \"high\" is not an integer"),
        ("eval --judgements kind.csv", "kind.csv: line 2, column \"query_kind\": unknown kind \"sku\""),
        ("eval --judgements nope.csv", "nope.csv: file not found"),
        ("query --queries q.csv", "q.csv: line 3, column \"query_kind\": unknown kind \"upc\""),
        ("query --item p999", "item \"p999\" is not in the model"),
    ];
    for (cmd, fragment) in cases {
        expect_user_error(d, &format!("{cmd} --model model.psm"), &[fragment]);
    }
    expect_user_error(
        d,
        "query --model missing.psm --text tv",
        &["missing.psm: file not found"],
    );
    expect_user_error(
        d,
        "info --model missing.psm",
        &["missing.psm: file not found"],
    );
}

#[test]
fn rows_without_text_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut csv = PRODUCTS.to_vec();
    csv.extend_from_slice(b"p016,,Sony,1.00\np017,   ,Kodak,2.00\n");
    std::fs::write(d.join("cat.csv"), csv).unwrap();
    let (code, out, err) = run(d, "train --catalog cat.csv --out m.psm");
    assert_eq!(code, 0, "{err}");
    let warning =
        "warning: cat.csv: 2 rows have no text in (title) and were left out (lines 17, 18)";
    has(&err, &[warning]);
    has(&out, &["(15 items, 2 rows without text left out)"]);
    let meta = &info_json(d, "m.psm")["meta"];
    assert_eq!(
        (meta["items"].as_u64(), meta["rows_skipped"].as_u64()),
        (Some(15), Some(2))
    );
}

#[test]
fn overlong_fields_are_truncated_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    // Digit-free filler: a digit next to a short word forms a code join, and
    // those cost time quadratic in the field's token count (see the report).
    let mut long = String::new();
    while long.len() <= 1 << 20 {
        long.push_str("Sony Bravia television with a bright picture ");
    }
    let csv = format!("id,title\np1,Panasonic KX-TS3282B phone\np2,{long}\np3,Kodak ink\n");
    std::fs::write(dir.path().join("cat.csv"), csv).unwrap();
    let (code, out, err) = run(dir.path(), "train --catalog cat.csv --out m.psm");
    assert_eq!(code, 0, "{err}");
    let warning = "warning: cat.csv: 1 values were longer than 1048576 bytes and were truncated";
    has(&err, &[warning]);
    has(&out, &["(3 items)"]);
}

#[test]
fn judgements_naming_unknown_items_warn_and_continue() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train_fixture(d);
    let j = "query_kind,query,item_id,grade\n\
             text,sony headphones,p003,1\ntext,sony headphones,p999,1\nitem,p404,p003,1\n";
    std::fs::write(d.join("j.csv"), j).unwrap();
    let (code, out, err) = run(d, "eval --model model.psm --judgements j.csv --format json");
    assert_eq!(code, 0, "{err}");
    has(
        &err,
        &["warning: j.csv: 1 judged item ids are not in the model"],
    );
    has(
        &err,
        &["warning: j.csv: 1 item queries name ids that are not in the model"],
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

    // Without SOURCE_DATE_EPOCH the timestamp may differ, the identity not.
    ok(d, "train --catalog cat.csv --out c.psm", &[]);
    ok(d, "train --catalog cat.csv --out e.psm", &[]);
    let c = model_id(d, "c.psm");
    assert_eq!(c, model_id(d, "e.psm"));
    assert_eq!(c, model_id(d, "a.psm"));
    ok(
        d,
        "train --catalog cat.csv --out f.psm --set char_ngrams=[0,0]",
        &[],
    );
    assert_ne!(c, model_id(d, "f.psm"));
}

/// The largest section of a model file as (offset, length), from its table.
fn largest_section(bytes: &[u8]) -> (usize, usize) {
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap()) as usize;
    let count = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let entries = (0..count).map(|i| (u64_at(24 + i * 32 + 8), u64_at(24 + i * 32 + 16)));
    entries.max_by_key(|s| s.1).unwrap()
}

#[test]
fn corrupt_model_files_are_rejected_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    train_fixture(dir.path());
    let good = std::fs::read(dir.path().join("model.psm")).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut random = Vec::new();
    for _ in 0..4096 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        random.push((state >> 24) as u8);
    }
    let mut flipped = good.clone();
    let (off, len) = largest_section(&good);
    assert!(len > 64, "the fixture model has a large section");
    flipped[off + len / 2] ^= 0x40;
    let mut version = good.clone();
    version[8..12].copy_from_slice(&99u32.to_le_bytes());
    let cases = [
        (random, "not a prodsim model file"),
        (Vec::new(), "not a prodsim model file"),
        (good[..good.len() / 2].to_vec(), "truncated model file"),
        (flipped, "fails its checksum"),
        (
            version,
            "model file format version 99, but this prodsim reads version 1",
        ),
    ];
    for (bytes, fragment) in cases {
        let case = tempfile::tempdir().unwrap();
        let c = case.path();
        std::fs::write(c.join("bad.psm"), bytes).unwrap();
        let want = ["bad.psm: ", fragment];
        expect_user_error(c, "info --model bad.psm", &want);
        expect_user_error(c, "query --model bad.psm --text phone", &want);
        let err = expect_user_error(c, "eval --model bad.psm --judgements x.csv", &want);
        assert_eq!(err.lines().count(), 1, "one clear line:\n{err}");
    }
}

fn result_ids(v: &Value) -> Vec<&str> {
    let results = v["results"].as_array().unwrap();
    results
        .iter()
        .map(|r| r["item_id"].as_str().unwrap())
        .collect()
}

fn query_json(dir: &Path, cmd: &str, extra: &[&str]) -> Value {
    json(&ok(
        dir,
        &format!("query --model model.psm --format json {cmd}"),
        extra,
    ))
}

#[test]
fn query_json_explain_breakdown_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    train_fixture(dir.path());
    let text = "panasonic cordless phone";
    let v = query_json(dir.path(), "--explain --k 5 --text", &[text]);
    assert_eq!(v["model"]["items"], 15);
    assert!(
        v["model"]["model_id"]
            .as_str()
            .is_some_and(|s| s.len() >= 8),
        "{v}"
    );
    assert_eq!(
        (v["query"]["kind"].as_str(), v["query"]["query"].as_str()),
        (Some("text"), Some(text))
    );
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0]["item_id"], "https://shop.example.com/item/p002");
    let mut last = f64::INFINITY;
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["rank"], i + 1);
        assert!(r["item_id"].is_string() && r["title"].is_string(), "{r}");
        let score = r["score"].as_f64().unwrap();
        assert!(score > 0.0 && score <= last, "scores descend: {r}");
        last = score;
        let rows = r["breakdown"].as_array().unwrap();
        assert!(!rows.is_empty(), "{r}");
        let mut sum = 0.0;
        for t in rows {
            assert!(t["token"].is_string(), "{t}");
            let f = |k: &str| t[k].as_f64().unwrap();
            assert!(
                (f("query_weight") * f("item_weight") - f("contribution")).abs() < 1e-9,
                "{t}"
            );
            sum += f("contribution");
        }
        assert!(
            (sum - score).abs() < 1e-6,
            "rank {}: contributions {sum} vs score {score}",
            i + 1
        );
    }
}

#[test]
fn item_query_excludes_the_item_and_codes_match_across_spellings() {
    let dir = tempfile::tempdir().unwrap();
    let v = {
        train_fixture(dir.path());
        query_json(dir.path(), "--item p003 --k 14", &[])
    };
    let ids = result_ids(&v);
    assert!(!ids.is_empty() && !ids.contains(&"p003"), "{ids:?}");
    assert_eq!(ids[0], "p004", "WH-1000XM4 and WH1000XM4 meet");
    assert_eq!(v["query"]["kind"], "item");

    let v = query_json(dir.path(), "--text", &["kx ts3282b"]);
    assert_eq!(v["results"][0]["item_id"], "p001");
    let title = "Panasonic KX-TS3282B 2-Line Corded Phone with Speakerphone";
    assert_eq!(v["results"][0]["title"], title);
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
    let with = |cmd: &str| {
        ok(
            d,
            &format!("query --model model.psm {cmd} --queries"),
            &[&queries],
        )
    };

    // JSON Lines: one compact object per query, in file order.
    let out = with("--format json --k 4");
    let lines: Vec<Value> = out.lines().map(json).collect();
    let qids: Vec<&str> = lines
        .iter()
        .map(|v| v["query"]["query_id"].as_str().unwrap())
        .collect();
    assert_eq!(qids, ["q1", "q2", "q3"]);
    assert_eq!(lines[0]["results"][0]["item_id"], "p001");
    assert!(lines.iter().all(|v| result_ids(v).len() == 4), "{out}");
    assert!(!result_ids(&lines[2]).contains(&"p003"), "{out}");

    // TREC run: `qid Q0 item_id rank score run_name`, ranks 1..k per query.
    let run_name = format!("prodsim-{}", model_id(d, "model.psm"));
    let out = with("--format trec --k 3");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 9, "{out}");
    for (i, f) in rows.iter().enumerate() {
        assert_eq!(f.len(), 6, "{f:?}");
        assert_eq!(
            (f[0], f[1]),
            (format!("q{}", i / 3 + 1).as_str(), "Q0"),
            "{f:?}"
        );
        assert_eq!(f[3], (i % 3 + 1).to_string(), "{f:?}");
        assert!(f[4].parse::<f64>().unwrap() > 0.0, "{f:?}");
        assert_eq!(f[5], run_name);
    }
    assert_eq!(rows[0][2], "p001");

    // CSV: a header, then records a csv reader reads back (quoted commas).
    let out = with("--format csv --k 2");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["query_id", "rank", "item_id", "title", "score"]
    );
    let recs: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 6, "{out}");
    let q2: Vec<&csv::StringRecord> = recs.iter().filter(|r| &r[0] == "q2").collect();
    assert_eq!((q2.len(), &q2[0][1], &q2[0][2]), (2, "1", "p006"));
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
    let text = "logitech wireless mouse";
    let out = {
        train_fixture(dir.path());
        ok(dir.path(), "query --model model.psm --k 2 --text", &[text])
    };
    assert!(
        out.starts_with("text query: logitech wireless mouse\n"),
        "{out}"
    );
    has(
        &out,
        &[
            "rank",
            "score",
            "title",
            "Logitech MX Master 3 Advanced Wireless Mouse",
        ],
    );
    let ranked: Vec<&str> = out
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(ranked.len(), 2, "{out}");
    assert!(
        ranked[0].starts_with("1 ") && ranked[1].starts_with("2 "),
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
        json(&ok(
            d,
            "eval --model model.psm --judgements j.csv --format json --k",
            &[k],
        ))
    };
    let v = eval("10");
    assert_eq!(
        (v["queries"].as_u64(), v["k"].as_u64()),
        (Some(4), Some(10))
    );
    let metrics = v["metrics"].as_object().unwrap();
    let keys: BTreeSet<&str> = metrics.keys().map(String::as_str).collect();
    #[rustfmt::skip]
    let want = ["hit@1", "hit@5", "hit@10", "recall@10", "p@10", "mrr", "ndcg@10", "map"];
    assert_eq!(keys, BTreeSet::from(want));
    for (name, value) in metrics {
        let x = value.as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x), "{name} = {x}");
    }
    let per_query = v["per_query"].as_array().unwrap();
    assert_eq!(per_query.len(), 4);
    assert_eq!(per_query[0]["query"], "kx ts3282b corded phone");
    assert_eq!(per_query[0]["relevant"], 2);
    assert!(
        per_query
            .iter()
            .all(|q| q["metrics"].as_object().unwrap().len() == 8)
    );

    let v = eval("3");
    let keys: BTreeSet<&str> = v["metrics"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for want in ["hit@1", "hit@3", "recall@3", "p@3", "ndcg@3", "mrr", "map"] {
        assert!(keys.contains(want), "{keys:?}");
    }
    assert!(!keys.iter().any(|k| k.ends_with("@10")), "{keys:?}");
    expect_user_error(
        d,
        "eval --model model.psm --judgements j.csv --k 0",
        &["--k must be at least 1"],
    );
}

#[test]
fn eval_hand_checked_exact_title_query() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train_fixture(d);
    // The query is p009's whole title: its vector equals p009's (cosine 1),
    // so the only relevant item is certainly ranked first.
    let j = "query_kind,query,item_id,grade\ntext,Logitech MX Master 3 Advanced Wireless Mouse,p009,1\n";
    std::fs::write(d.join("j.csv"), j).unwrap();
    let v = json(&ok(
        d,
        "eval --model model.psm --judgements j.csv --format json",
        &[],
    ));
    let m = &v["metrics"];
    #[rustfmt::skip]
    let want = [("hit@1", 1.0), ("mrr", 1.0), ("recall@10", 1.0), ("p@10", 0.1), ("ndcg@10", 1.0), ("map", 1.0)];
    for (name, want) in want {
        assert!(
            (m[name].as_f64().unwrap() - want).abs() < 1e-9,
            "{name}: {m}"
        );
    }
    assert_eq!(v["per_query"][0]["first_relevant_rank"], 1);

    let out = ok(d, "eval --model model.psm --judgements j.csv", &[]);
    has(&out, &["(1 queries, k = 10)", "  mrr        1.0000"]);
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    expect_user_error(d, "train --bogus", &["unexpected argument '--bogus'"]);
    expect_user_error(d, "query --model m.psm --k ten", &["invalid value 'ten'"]);
    expect_user_error(
        d,
        "query --model m.psm --text a --item b",
        &["cannot be used with"],
    );
    expect_user_error(d, "frobnicate", &["unrecognized subcommand 'frobnicate'"]);
    train_fixture(d);
    let needs = "query needs one of --text TEXT, --item ID or --queries FILE";
    expect_user_error(d, "query --model model.psm", &[needs]);
}
