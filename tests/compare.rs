//! End-to-end tests of the champion/challenger gate (`compare`) and the
//! model registry (`models`, `promote`, `@ALIAS` model names). Every test
//! trains a weak and a strong model from the committed real-data fixtures in
//! `tests/fixtures/compare/` with the binary's own `train`, in its own
//! temporary directory.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{run, run_env};

/// Absolute path of a fixture of `tests/fixtures/compare/`.
fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compare");
    p.join(name).to_str().expect("UTF-8 path").to_string()
}

/// Runs a command that must exit 0; returns stdout.
fn ok(dir: &Path, cmd: &str) -> String {
    let (code, out, err) = run(dir, cmd);
    assert_eq!(code, 0, "{cmd} failed ({code}):\n{out}\n{err}");
    out
}

/// Asserts exit 2 (bad input), no stdout, and each fragment on stderr.
fn user_error(dir: &Path, cmd: &str, fragments: &[&str]) -> String {
    let (code, out, err) = run(dir, cmd);
    assert_eq!(code, 2, "{cmd}: should exit 2:\n{out}\n{err}");
    assert!(out.is_empty(), "{cmd}: unexpected stdout:\n{out}");
    has(&err, fragments);
    err
}

fn has(text: &str, fragments: &[&str]) {
    for f in fragments {
        assert!(text.contains(f), "lacks {f:?}:\n{text}");
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A temporary directory with `weak.psm` and `strong.psm` trained from the
/// fixtures, and the judgements path.
struct Setup {
    dir: tempfile::TempDir,
    judgements: String,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let catalog = fixture("catalog.csv");
        for name in ["weak", "strong"] {
            let config = fixture(&format!("{name}.toml"));
            ok(
                dir.path(),
                &format!("train --catalog {catalog} --config {config} --out {name}.psm"),
            );
        }
        Setup {
            dir,
            judgements: fixture("judgements.csv"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `compare --a A --b B --judgements J` plus `extra`.
    fn compare(&self, a: &str, b: &str, extra: &str) -> (i32, String, String) {
        run(
            self.path(),
            &format!(
                "compare --a {a} --b {b} --judgements {} {extra}",
                self.judgements
            ),
        )
    }
}

#[test]
fn gate_passes_one_way_and_fails_the_other() {
    let s = Setup::new();
    let (code, out, err) = s.compare("weak.psm", "strong.psm", "--min-gain 0.01");
    assert_eq!(code, 0, "weak -> strong should pass:\n{out}\n{err}");
    has(
        &out,
        &[
            "A  model",
            "weak.psm",
            "B  model",
            "strong.psm",
            "ndcg@10",
            "<- gate",
            "95% CI",
            "sign test",
            "wins",
            "PASS",
            "largest per-query changes",
        ],
    );
    assert!(!err.contains("gate failed"), "{err}");

    let (code, out, err) = s.compare("strong.psm", "weak.psm", "--min-gain 0.01");
    assert_eq!(
        code, 3,
        "strong -> weak should fail the gate:\n{out}\n{err}"
    );
    has(&out, &["FAIL", "is below --min-gain 0.0100"]);
    has(&err, &["prodsim: gate failed: ndcg@10 of B - A = -0."]);

    // A worse challenger fails even the default gain of 0; a smaller loss
    // is tolerated by a negative --min-gain (non-inferiority).
    let (code, _, _) = s.compare("strong.psm", "weak.psm", "");
    assert_eq!(code, 3);
    let (code, _, err) = s.compare("strong.psm", "weak.psm", "--min-gain -0.05");
    assert_eq!(code, 0, "{err}");
    // A gain larger than the observed one fails.
    let (code, _, _) = s.compare("weak.psm", "strong.psm", "--min-gain 0.05");
    assert_eq!(code, 3);
}

#[test]
fn require_significant_needs_the_interval_above_zero() {
    let s = Setup::new();
    // The same model: difference 0 reaches --min-gain 0, but the interval is
    // [0, 0], not above 0.
    let (code, out, _) = s.compare("weak.psm", "weak.psm", "");
    assert_eq!(code, 0, "{out}");
    has(&out, &["[+0.0000, +0.0000]", "0 wins, 0 losses, 300 ties"]);
    let (code, out, err) = s.compare("weak.psm", "weak.psm", "--require-significant");
    assert_eq!(code, 3, "{out}");
    has(&err, &["--require-significant"]);
    // The strong model's gain is credible.
    let (code, out, err) = s.compare("weak.psm", "strong.psm", "--require-significant");
    assert_eq!(code, 0, "{out}\n{err}");
    has(&out, &["and the 95% interval lies above 0"]);
}

#[test]
fn json_agrees_with_eval_of_each_model() {
    let s = Setup::new();
    let (code, out, _) = s.compare("weak.psm", "strong.psm", "--format json --samples 2000");
    assert_eq!(code, 0);
    let c = json(&out);
    let eval = |m: &str| {
        json(&ok(
            s.path(),
            &format!(
                "eval --model {m} --judgements {} --format json",
                s.judgements
            ),
        ))
    };
    let (ea, eb) = (eval("weak.psm"), eval("strong.psm"));
    let metrics = ea["metrics"].as_object().expect("metrics");
    assert_eq!(metrics.len(), 8, "every metric of eval: {metrics:?}");
    for (name, va) in metrics {
        let vb = num(&eb["metrics"][name]);
        assert_eq!(num(&c["a"]["metrics"][name]), num(va), "A {name}");
        assert_eq!(num(&c["b"]["metrics"][name]), vb, "B {name}");
        let d = num(&c["difference"][name]);
        assert!((d - (vb - num(va))).abs() < 1e-12, "difference {name}");
    }
    assert_eq!(c["a"]["queries"], ea["queries"]);
    assert_eq!(c["k"], 10);

    let g = &c["gate"];
    assert_eq!(g["metric"], "ndcg@10");
    assert_eq!(g["paired_queries"], 300);
    assert_eq!(c["unmatched_queries"], 0);
    let diff = num(&g["difference"]);
    let want = num(&eb["metrics"]["ndcg@10"]) - num(&ea["metrics"]["ndcg@10"]);
    assert!((diff - want).abs() < 1e-9, "{diff} vs {want}");
    assert!(
        diff > 0.01,
        "the fixtures should separate the models: {diff}"
    );
    let (lo, hi) = (num(&g["ci"]["low"]), num(&g["ci"]["high"]));
    assert!(lo < diff && diff < hi, "[{lo}, {hi}] vs {diff}");
    assert_eq!(g["ci"]["samples"], 2000);
    assert_eq!(g["ci"]["seed"], 42);
    assert_eq!(g["passed"], true);

    // Per query: all of them, each matching eval's own per-query value.
    let pq = c["per_query"].as_array().expect("per_query");
    assert_eq!(pq.len(), 300);
    let by_query = |e: &Value| -> std::collections::HashMap<String, f64> {
        e["per_query"]
            .as_array()
            .expect("per_query")
            .iter()
            .map(|q| {
                (
                    q["query"].as_str().expect("query").to_string(),
                    num(&q["metrics"]["ndcg@10"]),
                )
            })
            .collect()
    };
    let (qa, qb) = (by_query(&ea), by_query(&eb));
    let (mut wins, mut losses, mut ties, mut sum) = (0, 0, 0, 0.0);
    for q in pq {
        let text = q["query"].as_str().expect("query");
        assert_eq!(num(&q["a"]), qa[text], "{text}");
        assert_eq!(num(&q["b"]), qb[text], "{text}");
        let d = num(&q["delta"]);
        assert!((d - (qb[text] - qa[text])).abs() < 1e-12);
        sum += d;
        match d {
            d if d > 1e-9 => wins += 1,
            d if d < -1e-9 => losses += 1,
            _ => ties += 1,
        }
    }
    assert!((sum / 300.0 - diff).abs() < 1e-12);
    let st = &g["sign_test"];
    assert_eq!(
        (st["wins"].clone(), st["losses"].clone()),
        (wins.into(), losses.into())
    );
    assert_eq!(st["ties"], ties);
    let p = num(&st["p_value"]);
    assert!(p > 0.0 && p < 0.05, "{p}");
}

#[test]
fn bootstrap_is_deterministic_for_a_seed() {
    let s = Setup::new();
    let ci = |extra: &str| {
        let (_, out, _) = s.compare(
            "weak.psm",
            "strong.psm",
            &format!("--format json --samples 3000 {extra}"),
        );
        let v = json(&out);
        (num(&v["gate"]["ci"]["low"]), num(&v["gate"]["ci"]["high"]))
    };
    let first = ci("--seed 7");
    assert_eq!(first, ci("--seed 7"));
    assert_ne!(first, ci("--seed 8"));
}

#[test]
fn metric_and_k_are_checked_and_derived() {
    let s = Setup::new();
    let j = &s.judgements;
    let dir = s.path();
    let base = format!("compare --a weak.psm --b strong.psm --judgements {j}");
    user_error(
        dir,
        &format!("{base} --metric ndcg@10 --k 5"),
        &["\"ndcg@10\" is not computed at k = 5", "ndcg@5", "--k 10"],
    );
    user_error(
        dir,
        &format!("{base} --metric f1"),
        &["\"f1\"", "valid metrics at k = 10", "ndcg@10, map"],
    );
    // Without --k the metric's own cut-off is used.
    let (code, out, _) = run(dir, &format!("{base} --metric ndcg@5 --format json"));
    assert_eq!(code, 0, "{out}");
    let v = json(&out);
    assert_eq!(v["k"], 5);
    assert_eq!(v["gate"]["metric"], "ndcg@5");
    let (code, out, _) = run(dir, &format!("{base} --metric mrr --k 20 --format json"));
    assert_eq!(code, 0);
    assert_eq!(json(&out)["k"], 20);
    user_error(dir, &format!("{base} --samples 0"), &["--samples"]);
}

#[test]
fn bad_input_exits_2() {
    let s = Setup::new();
    let dir = s.path();
    let j = &s.judgements;
    user_error(
        dir,
        "compare --a weak.psm --b strong.psm --judgements missing.csv",
        &["missing.csv", "not found"],
    );
    user_error(
        dir,
        &format!("compare --a nope.psm --b strong.psm --judgements {j}"),
        &["nope.psm", "not found"],
    );
    // Judgements whose queries no model can score: only irrelevant grades,
    // and an item query naming an id neither model has.
    std::fs::write(
        dir.join("useless.csv"),
        "query_kind,query,item_id,grade\ntext,quickbooks,x,0\nitem,no-such-id,y,1\n",
    )
    .expect("write");
    user_error(
        dir,
        "compare --a weak.psm --b strong.psm --judgements useless.csv",
        &["useless.csv", "no query could be scored by both models"],
    );
    user_error(
        dir,
        &format!("compare --a @champion --b strong.psm --judgements {j}"),
        &["unknown model alias @champion", "no aliases yet"],
    );
}

#[test]
fn models_from_different_catalogues_warn_and_still_compare() {
    let s = Setup::new();
    // The same products in another order: another file, another fingerprint.
    let text = std::fs::read_to_string(fixture("catalog.csv")).expect("read");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].reverse();
    std::fs::write(s.path().join("reordered.csv"), lines.join("\n") + "\n").expect("write");
    ok(
        s.path(),
        &format!(
            "train --catalog reordered.csv --config {} --out other.psm",
            fixture("strong.toml")
        ),
    );
    let (code, out, err) = s.compare("strong.psm", "other.psm", "--min-gain -1");
    assert_eq!(code, 0, "{out}\n{err}");
    has(
        &err,
        &[
            "warning: A and B were trained on different catalogues",
            "compared by item id",
        ],
    );
    has(&out, &["catalogue catalog.csv", "catalogue reordered.csv"]);
}

impl Setup {
    /// Promotes `model` with a gate of `gain` on the fixture judgements.
    fn promote(&self, model: &str, gain: &str) -> (i32, String, String) {
        run(
            self.path(),
            &format!(
                "promote {model} --require-gain {gain} --judgements {} --samples 1000",
                self.judgements
            ),
        )
    }

    fn registry(&self) -> Value {
        json(
            &std::fs::read_to_string(self.path().join("models/registry.json"))
                .expect("registry.json"),
        )
    }
}

#[test]
fn promote_gates_and_a_refusal_leaves_the_champion() {
    let s = Setup::new();
    let dir = s.path();

    // No champion yet: passes, says so, and copies the model in.
    let (code, out, err) = s.promote("weak.psm", "0.01");
    assert_eq!(code, 0, "{out}\n{err}");
    has(
        &out,
        &[
            "copied weak.psm -> models/weak.psm",
            "no current @champion: the gate passes without a comparison",
        ],
    );
    assert!(dir.join("models/weak.psm").is_file());
    assert_eq!(s.registry()["aliases"]["champion"], "weak.psm");

    // The strong model beats it by more than 0.01.
    let (code, out, err) = s.promote("strong.psm", "0.01");
    assert_eq!(code, 0, "{out}\n{err}");
    has(
        &out,
        &[
            "PASS",
            "promoted: @champion -> strong.psm",
            "(was weak.psm)",
        ],
    );

    // The weak one again, by its file name inside the models directory
    // (the copy outside is gone): refused with exit 3, the champion stays.
    std::fs::remove_file(dir.join("weak.psm")).expect("remove");
    let before = std::fs::read(dir.join("models/registry.json")).expect("read");
    let (code, out, err) = s.promote("weak.psm", "0.01");
    assert_eq!(code, 3, "{out}\n{err}");
    has(&out, &["FAIL", "refused: @champion stays strong.psm"]);
    has(&err, &["gate failed", "not promoted to @champion"]);
    let reg = s.registry();
    assert_eq!(reg["aliases"]["champion"], "strong.psm");
    assert_ne!(
        std::fs::read(dir.join("models/registry.json")).expect("read"),
        before,
        "the refusal is recorded"
    );
    let h = reg["history"].as_array().expect("history");
    assert_eq!(h.len(), 3);
    let promoted: Vec<bool> = h.iter().map(|p| p["promoted"] == true).collect();
    assert_eq!(promoted, vec![true, true, false]);
    assert!(h[0]["gate"].is_null());
    let g = &h[1]["gate"];
    assert_eq!(g["metric"], "ndcg@10");
    assert!(num(&g["difference"]) > 0.01 && g["passed"] == true);
    assert!(num(&h[2]["gate"]["difference"]) < 0.0);
    assert_eq!(h[2]["previous"], "strong.psm");

    // `models` lists both, marks the alias and shows the history.
    let out = ok(dir, "models");
    has(
        &out,
        &[
            "models in models (2 files)",
            "strong.psm",
            "@champion",
            "weak.psm",
            "refused",
        ],
    );
    let v = json(&ok(dir, "models --format json"));
    let models = v["models"].as_array().expect("models");
    assert_eq!(models.len(), 2);
    assert_eq!(models[0]["file"], "strong.psm");
    assert_eq!(models[0]["aliases"][0], "champion");
    assert_eq!(models[0]["meta"]["items"], 800);
    assert!(models[1]["aliases"].as_array().expect("aliases").is_empty());
    assert_eq!(v["history"].as_array().expect("history").len(), 3);
}

#[test]
fn at_champion_works_wherever_a_model_is_taken() {
    let s = Setup::new();
    let dir = s.path();
    ok(dir, "promote strong.psm");
    let j = &s.judgements;

    let q = "--text quickbooks --k 3 --format json";
    let by_alias = json(&ok(dir, &format!("query --model @champion {q}")));
    let by_path = json(&ok(dir, &format!("query --model strong.psm {q}")));
    assert_eq!(by_alias["results"], by_path["results"]);
    assert_eq!(by_alias["results"].as_array().expect("results").len(), 3);

    let e1 = ok(
        dir,
        &format!("eval --model @champion --judgements {j} --format json"),
    );
    let e2 = ok(
        dir,
        &format!("eval --model strong.psm --judgements {j} --format json"),
    );
    assert_eq!(json(&e1)["metrics"], json(&e2)["metrics"]);

    has(&ok(dir, "info --model @champion"), &["models/strong.psm"]);
    ok(dir, "batch --model @champion --k 2 --out n.csv");
    assert!(
        std::fs::read_to_string(dir.join("n.csv"))
            .expect("batch output")
            .lines()
            .count()
            > 800
    );

    // compare with the champion as A: the same model, a zero difference.
    let (code, out, _) = run(
        dir,
        &format!("compare --a @champion --b strong.psm --judgements {j}"),
    );
    assert_eq!(code, 0);
    has(&out, &["mean B - A    +0.0000"]);

    // The explorer resolves the alias and loads the model before it asks
    // for a terminal (there is none here).
    let cat = fixture("catalog.csv");
    user_error(
        dir,
        &format!("tui --catalog {cat} --model @champion"),
        &["needs a terminal"],
    );
    user_error(
        dir,
        &format!("tui --catalog {cat} --model @best"),
        &["unknown model alias @best", "known aliases: @champion"],
    );
    user_error(
        dir,
        "query --model @best --text x",
        &["known aliases: @champion"],
    );
}

#[test]
fn models_dir_from_flag_or_environment() {
    let s = Setup::new();
    let dir = s.path();
    ok(
        dir,
        "promote weak.psm --models-dir elsewhere --alias staging",
    );
    assert!(dir.join("elsewhere/weak.psm").is_file());
    assert!(!dir.join("models").exists());
    // Through the environment.
    let (code, out, err) = run_env(
        dir,
        &["query", "--model", "@staging", "--text", "quickbooks"],
        &[("PRODSIM_MODELS", "elsewhere")],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    // The flag wins over the environment.
    let (code, _, err) = run_env(
        dir,
        &["info", "--model", "@staging", "--models-dir", "models"],
        &[("PRODSIM_MODELS", "elsewhere")],
    );
    assert_eq!(code, 2);
    has(&err, &["unknown model alias @staging in models"]);
    // A missing models directory is bad input for `models`.
    user_error(
        dir,
        "models --models-dir nowhere",
        &["nowhere", "not found"],
    );
    // Bad alias names and a gain without judgements are refused.
    user_error(dir, "promote weak.psm --alias a/b", &["alias \"a/b\""]);
    let (code, _, err) = run(dir, "promote weak.psm --require-gain 0.01");
    assert_eq!(code, 2);
    has(&err, &["--judgements"]);
}

#[test]
fn concurrent_gated_promotions_wait_for_the_lock_and_are_serialised() {
    use std::io::BufRead;
    use std::process::Stdio;
    // The test holds the registry lock while two gated promotions start on
    // an empty registry; both must report that they wait, and write nothing
    // meanwhile. Released, they run one after the other, so the strong
    // model ends as champion whichever goes first (weak first: strong then
    // beats it; strong first: weak is then refused). Without the lock both
    // would see no champion, both pass, and the last writer would win.
    let s = Setup::new();
    let dir = s.path();
    std::fs::create_dir_all(dir.join("models")).expect("mkdir");
    let lock = std::fs::File::create(dir.join("models/.registry.lock")).expect("lock file");
    lock.lock().expect("take the lock");
    let spawn = |model: &str| {
        Command::new(env!("CARGO_BIN_EXE_prodsim"))
            .args(["promote", model, "--require-gain", "0", "--judgements"])
            .arg(&s.judgements)
            .args(["--samples", "500"])
            .current_dir(dir)
            .env_remove("PRODSIM_MODELS")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn prodsim")
    };
    let mut children = [spawn("weak.psm"), spawn("strong.psm")];
    let mut stderr_rest = Vec::new();
    for child in &mut children {
        // Blocks until the line arrives; a promote that does not wait runs
        // to the end, and the read sees the end of its output instead.
        let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(
            first.starts_with("waiting for another promotion to finish"),
            "promote did not wait for the lock; stderr: {first:?}"
        );
        stderr_rest.push(lines);
    }
    assert!(
        !dir.join("models/registry.json").exists(),
        "nothing is written while another holds the lock"
    );
    lock.unlock().expect("unlock");
    let mut codes = Vec::new();
    for (child, rest) in children.into_iter().zip(stderr_rest) {
        let rest: Vec<String> = rest.map_while(Result::ok).collect();
        let out = child.wait_with_output().expect("wait");
        assert!(!rest.join("\n").contains("panicked"), "{rest:?}");
        codes.push(out.status.code());
    }
    assert!(
        codes == [Some(0), Some(0)] || codes == [Some(3), Some(0)],
        "weak/strong exit codes {codes:?}"
    );
    let reg = s.registry();
    assert_eq!(reg["aliases"]["champion"], "strong.psm");
    let h = reg["history"].as_array().expect("history");
    assert_eq!(h.len(), 2, "{reg}");
    // The second attempt was gated against the first one's result.
    assert!(h[0]["gate"].is_null());
    assert!(!h[1]["gate"].is_null());
}
