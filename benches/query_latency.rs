//! Query latency benchmark: opens a model, runs realistic text queries and
//! item queries with full explanation, prints open time and latency
//! percentiles. Driven by `scripts/bench.sh`, which trains the model first.
//!
//! The queries run twice, as the explorer meets them: first as right after
//! the model opens (`first_*` lines), then once the search table the
//! explorer builds in the background is ready (`query_*` lines, the steady
//! state; `search_table_ms` is how long that build took, on one thread as
//! in the explorer). Models without a table run the same path twice.
//!
//! Environment: PRODSIM_BENCH_MODEL (model file), PRODSIM_BENCH_ITEMS and
//! PRODSIM_BENCH_SEED (the synthetic catalogue it was trained on, so the
//! queries describe its products), PRODSIM_BENCH_QUERIES (default 2000).

use prodsim::model::format;
use prodsim::rank::{Query, neighbours};
use std::time::Instant;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let Ok(model_path) = std::env::var("PRODSIM_BENCH_MODEL") else {
        println!("query_latency: set PRODSIM_BENCH_MODEL (scripts/bench.sh does); skipping");
        return;
    };
    let items: usize = env_or("PRODSIM_BENCH_ITEMS", "100000")
        .parse()
        .unwrap_or(100_000);
    let seed: u64 = env_or("PRODSIM_BENCH_SEED", "42").parse().unwrap_or(42);
    let n: usize = env_or("PRODSIM_BENCH_QUERIES", "2000")
        .parse()
        .unwrap_or(2000);

    let t = Instant::now();
    let model = match format::load(std::path::Path::new(&model_path)) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("query_latency: {e}");
            std::process::exit(2);
        }
    };
    let open_ms = t.elapsed().as_secs_f64() * 1e3;

    let opts = prodsim::synth::SynthOptions { items, seed };
    let texts = prodsim::synth::sample_queries(&opts, n, seed ^ 0x5eed);
    let mut queries: Vec<Query> = texts.into_iter().map(Query::Text).collect();
    // Item queries too: every (items / n)-th product.
    let step = (model.len() / n.max(1)).max(1);
    queries.extend(
        (0..model.len())
            .step_by(step)
            .take(n)
            .map(|i| Query::Item(model.item_id(i as u32).to_string())),
    );
    // Warm up caches and the accumulator.
    for q in queries.iter().take(50) {
        let _ = neighbours(&model, q, 10, true);
    }
    let run = |prefix: &str| {
        for kind in ["text", "item"] {
            let mut ms: Vec<f64> = Vec::new();
            for q in queries.iter().filter(|q| q.kind() == kind) {
                let t = Instant::now();
                let r = neighbours(&model, q, 10, true);
                ms.push(t.elapsed().as_secs_f64() * 1e3);
                std::hint::black_box(r.ok());
            }
            ms.sort_by(f64::total_cmp);
            println!(
                "{prefix}_{kind}_k10_explain  n={}  p50_ms={:.3}  p99_ms={:.3}  max_ms={:.3}",
                ms.len(),
                percentile(&ms, 0.5),
                percentile(&ms, 0.99),
                ms.last().copied().unwrap_or(f64::NAN)
            );
        }
    };
    run("first");
    // As the explorer does it: one thread, so queries keep the other core.
    let t = Instant::now();
    let table = model.prepare_searches_on_one_thread();
    let table_ms = t.elapsed().as_secs_f64() * 1e3;
    run("query");
    println!("model_open_ms={open_ms:.1}");
    println!(
        "search_table={}  search_table_ms={table_ms:.1}",
        if table { "yes" } else { "no" }
    );
}
