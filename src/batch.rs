//! Batch inference: the top-k neighbours of every item (itself excluded),
//! in shards whose outputs concatenate to exactly a single run's output.

use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::model::{Model, Representation};
use crate::rank::ranked;
use rayon::prelude::*;
use std::io::Write;

/// Output formats of `prodsim batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BatchFormat {
    /// `item_id,rank,neighbour_id,score` with a header (in shard 0 only).
    Csv,
    /// TREC run lines `item_id Q0 neighbour_id rank score run_name`.
    Trec,
    /// One object per item: `{"item_id", "neighbours": [{"rank", "item_id", "score"}]}`.
    Jsonl,
}

/// Which part of the items a run covers: shard `index` of `count`
/// contiguous, near-equal ranges (0-based `index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` (1-based on the command line: `1/4` .. `4/4`).
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || {
            Error::input(format!(
                "--shard {s:?}: expected I/N with 1 <= I <= N, e.g. --shard 2/8"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if n == 0 || i == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard {
            index: i - 1,
            count: n,
        })
    }

    /// The item range of this shard among `items`.
    pub fn range(&self, items: usize) -> std::ops::Range<usize> {
        let start = items * self.index / self.count;
        let end = items * (self.index + 1) / self.count;
        start..end
    }
}

/// Settings of a batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub k: usize,
    pub format: BatchFormat,
    pub shard: Shard,
    pub min_score: Option<f64>,
}

/// Items per block: written out, with progress and a check for
/// cancellation, between blocks.
const BLOCK: usize = 8192;
/// Items per parallel unit; output is written in item order regardless.
/// Small, so both cores stay busy to the end of each block however the
/// search times vary (with 2,048-item units, a 100k run used 1.85 cores).
const UNIT: usize = 16;

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Shards of at least this many items build the search tables for batch
/// runs first ([`Model::prepare_searches`]).
const PREPARE_FROM: usize = 4096;

/// Writes the neighbours of the shard's items; returns the items written.
pub fn run(
    model: &Model,
    opts: &BatchOptions,
    out: &mut dyn Write,
    progress: &dyn Progress,
) -> Result<usize> {
    let io = |e: std::io::Error| Error::Io {
        context: "cannot write the batch output".into(),
        source: e,
    };
    let range = opts.shard.range(model.len());
    let total = range.len() as u64;
    // The pass over the forward index took 0.2-0.3 s at 100k items and
    // 2.0-3.3 s at 1M (default config, model in the page cache); a whole
    // 100k default run gains 3-4 s. (The break-even shard size at 1M was
    // not measured.)
    if range.len() >= PREPARE_FROM {
        model.prepare_searches();
    }
    if opts.format == BatchFormat::Csv && opts.shard.index == 0 {
        out.write_all(b"item_id,rank,neighbour_id,score\n")
            .map_err(io)?;
    }
    let run_name = format!("prodsim-{}", model.meta.model_id);
    let mut done = 0u64;
    let items: Vec<u32> = (range.start as u32..range.end as u32).collect();
    for block in items.chunks(BLOCK) {
        if progress.cancelled() {
            return Err(Error::Cancelled);
        }
        let texts: Vec<String> = block
            .par_chunks(UNIT)
            .map(|chunk| {
                let mut s = String::new();
                for &item in chunk {
                    let qv = model.encode_item(item);
                    let top = ranked(model, &qv, opts.k, Some(item));
                    let top = top
                        .into_iter()
                        .filter(|x| opts.min_score.is_none_or(|m| x.1 >= m));
                    let id = model.item_id(item);
                    match opts.format {
                        BatchFormat::Csv => {
                            let qid = csv_field(id);
                            for (r, (n, score)) in top.enumerate() {
                                s.push_str(&format!(
                                    "{qid},{},{},{score:.6}\n",
                                    r + 1,
                                    csv_field(model.item_id(n))
                                ));
                            }
                        }
                        BatchFormat::Trec => {
                            for (r, (n, score)) in top.enumerate() {
                                s.push_str(&format!(
                                    "{id} Q0 {} {} {score:.6} {run_name}\n",
                                    model.item_id(n),
                                    r + 1
                                ));
                            }
                        }
                        BatchFormat::Jsonl => {
                            let neighbours: Vec<serde_json::Value> = top
                                .enumerate()
                                .map(|(r, (n, score))| {
                                    serde_json::json!({
                                        "rank": r + 1,
                                        "item_id": model.item_id(n),
                                        "score": (score * 1e6).round() / 1e6,
                                    })
                                })
                                .collect();
                            let line = serde_json::json!({"item_id": id, "neighbours": neighbours});
                            s.push_str(&line.to_string());
                            s.push('\n');
                        }
                    }
                }
                s
            })
            .collect();
        for t in texts {
            out.write_all(t.as_bytes()).map_err(io)?;
        }
        done += block.len() as u64;
        progress.update("batch", done, total);
    }
    #[cfg(feature = "stats")]
    eprintln!("{}", crate::rank::stats::report());
    Ok(items.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_items() {
        for n in 1..9 {
            let mut next = 0;
            for i in 0..n {
                let r = Shard { index: i, count: n }.range(103);
                assert_eq!(r.start, next);
                next = r.end;
            }
            assert_eq!(next, 103);
        }
        assert_eq!(Shard::parse("2/8").unwrap(), Shard { index: 1, count: 8 });
        for bad in ["0/4", "5/4", "x/4", "4", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
