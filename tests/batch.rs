//! `prodsim batch`: every item's neighbours, itself excluded; shards
//! concatenate to the single run byte for byte; formats and bad input.

mod common;

use std::path::{Path, PathBuf};

fn prodsim(dir: &Path, args: &[&str]) -> (i32, String, String) {
    common::run_env(dir, args, &[])
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/products.csv");
    std::fs::copy(f, dir.path().join("products.csv")).unwrap();
    common::train_fixture(dir.path(), "m.psm");
    dir
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

#[test]
fn shards_concatenate_to_the_single_run() {
    let dir = setup();
    for format in ["csv", "trec", "jsonl"] {
        let (code, _, err) = prodsim(
            dir.path(),
            &[
                "batch", "--model", "m.psm", "--k", "4", "--format", format, "--out", "all.out",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let all = read(dir.path(), "all.out");
        for n in [2usize, 3, 4, 15, 16] {
            let mut joined = Vec::new();
            for i in 1..=n {
                let shard = format!("{i}/{n}");
                let out = format!("s{i}.out");
                let (code, _, err) = prodsim(
                    dir.path(),
                    &[
                        "batch", "--model", "m.psm", "--k", "4", "--format", format, "--shard",
                        &shard, "--out", &out,
                    ],
                );
                assert_eq!(code, 0, "{err}");
                joined.extend(read(dir.path(), &out));
            }
            assert_eq!(joined, all, "{format}: {n} shards differ from one run");
        }
    }
}

#[test]
fn neighbours_exclude_the_item_and_respect_k_and_min_score() {
    let dir = setup();
    let (code, _, err) = prodsim(
        dir.path(),
        &["batch", "--model", "m.psm", "--k", "3", "--out", "n.csv"],
    );
    assert_eq!(code, 0, "{err}");
    let mut r = csv::Reader::from_path(dir.path().join("n.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap(),
        vec!["item_id", "rank", "neighbour_id", "score"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let mut per_item = std::collections::HashMap::new();
    for row in &rows {
        assert_ne!(&row[0], &row[2], "an item is not its own neighbour");
        *per_item.entry(row[0].to_string()).or_insert(0) += 1;
    }
    assert_eq!(per_item.len(), 15);
    assert!(per_item.values().all(|&n| n <= 3));
    // The same neighbours as `query --item`.
    let (_, q, _) = prodsim(
        dir.path(),
        &[
            "query", "--model", "m.psm", "--item", "p001", "--k", "3", "--format", "csv",
        ],
    );
    let expected: Vec<String> = q
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().to_string())
        .collect();
    let got: Vec<String> = rows
        .iter()
        .filter(|r| &r[0] == "p001")
        .map(|r| r[2].to_string())
        .collect();
    assert_eq!(got, expected);
    // --min-score drops weak neighbours.
    let (code, _, _) = prodsim(
        dir.path(),
        &[
            "batch",
            "--model",
            "m.psm",
            "--k",
            "3",
            "--min-score",
            "0.2",
            "--out",
            "m.csv",
        ],
    );
    assert_eq!(code, 0);
    let mut r = csv::Reader::from_path(dir.path().join("m.csv")).unwrap();
    let kept: Vec<f64> = r
        .records()
        .map(|x| x.unwrap()[3].parse().unwrap())
        .collect();
    assert!(!kept.is_empty() && kept.len() < rows.len());
    assert!(kept.iter().all(|&s| s >= 0.2));
}

#[test]
fn bad_shards_are_usage_errors_and_write_nothing() {
    let dir = setup();
    for bad in ["0/3", "4/3", "x", "1/0"] {
        let (code, _, err) = prodsim(
            dir.path(),
            &[
                "batch", "--model", "m.psm", "--shard", bad, "--out", "b.csv",
            ],
        );
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("--shard"), "{err}");
        assert!(!dir.path().join("b.csv").exists());
    }
}
