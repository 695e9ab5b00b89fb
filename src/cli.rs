//! The command line: argument types and one function per subcommand, each
//! writing to any `Write` so tests can run them without a process.

use crate::catalog::{Catalog, parse_fields};
use crate::error::Error;
use crate::eval::evaluate;
use crate::jobs::NoProgress;
use crate::judgements::Judgements;
use crate::model::{Model, ModelConfig, format, train_to_file};
use crate::rank::{Query, Ranking, neighbours};
use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Explore, train and evaluate product-similarity models.
#[derive(Debug, Parser)]
#[command(name = "prodsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model from a catalogue CSV.
    Train(TrainArgs),
    /// Rank neighbours for a text, an item, or a file of queries.
    Query(QueryArgs),
    /// Evaluate a model against relevance judgements.
    Eval(EvalArgs),
    /// Show a model's metadata and configuration.
    Info(InfoArgs),
    /// Write a seeded synthetic catalogue (for benchmarks).
    Generate(GenerateArgs),
    /// Open the explorer on a catalogue and a model.
    Tui(TuiArgs),
    /// Top-k neighbours of every item (itself excluded), in shards if wanted.
    Batch(BatchArgs),
    /// Export judgements for evaluation, or import gold pairs as judgements.
    Labels(LabelsArgs),
    /// Compare model B (challenger) with model A (champion) on judgements;
    /// exit 0 if B gains at least --min-gain, 3 if not.
    Compare(CompareArgs),
    /// List the models in the models directory, with metadata and aliases.
    Models(ModelsArgs),
    /// Point an alias (default `champion`) at a model, optionally only if it
    /// beats the current one (exit 3 if not).
    Promote(PromoteArgs),
}

/// Where `@ALIAS` model names are looked up.
#[derive(Debug, Clone, Default, Args)]
pub struct ModelsDirArg {
    /// Models directory for `@ALIAS` model names (default: $PRODSIM_MODELS, else ./models).
    #[arg(long, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
}

impl ModelsDirArg {
    /// The directory this flag, the environment or the default names.
    pub fn dir(&self) -> PathBuf {
        crate::registry::models_dir(self.models_dir.as_deref())
    }

    /// A model argument as a file path (`@ALIAS` resolved).
    pub fn resolve(&self, model: &Path) -> Result<PathBuf> {
        Ok(crate::registry::resolve_model_path(model, &self.dir())?)
    }
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Model A, the champion: a file or @ALIAS.
    #[arg(long)]
    pub a: PathBuf,
    /// Model B, the challenger: a file or @ALIAS.
    #[arg(long)]
    pub b: PathBuf,
    /// Judgements CSV: `query_kind,query,item_id,grade`.
    #[arg(long)]
    pub judgements: PathBuf,
    /// Cut-off for hit@k, recall@k, p@k, ndcg@k (default: the metric's own, else 10).
    #[arg(long)]
    pub k: Option<usize>,
    /// The metric the gate decides on.
    #[arg(long, default_value = "ndcg@10")]
    pub metric: String,
    /// B passes when mean(B) - mean(A) on the metric is at least this.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub min_gain: f64,
    /// Also require the 95% confidence interval of the difference to lie above 0.
    #[arg(long)]
    pub require_significant: bool,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = crate::compare::DEFAULT_SEED)]
    pub seed: u64,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = crate::compare::DEFAULT_SAMPLES)]
    pub samples: usize,
    #[command(flatten)]
    pub models: ModelsDirArg,
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub models: ModelsDirArg,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The model: a path (copied into the models directory if elsewhere), a
    /// file name in the models directory, or @ALIAS.
    pub model: PathBuf,
    /// The alias to set.
    #[arg(long, default_value = crate::registry::DEFAULT_ALIAS)]
    pub alias: String,
    /// Promote only if the model beats the alias's current model by at least
    /// this on --metric (the `compare` gate, current model as A).
    #[arg(long, requires = "judgements", allow_negative_numbers = true)]
    pub require_gain: Option<f64>,
    /// Judgements for the gate.
    #[arg(long, requires = "require_gain")]
    pub judgements: Option<PathBuf>,
    /// The metric the gate decides on.
    #[arg(long, default_value = "ndcg@10")]
    pub metric: String,
    /// Cut-off (default: the metric's own, else 10).
    #[arg(long)]
    pub k: Option<usize>,
    /// Also require the 95% confidence interval of the gain to lie above 0.
    #[arg(long, requires = "require_gain")]
    pub require_significant: bool,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = crate::compare::DEFAULT_SEED)]
    pub seed: u64,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = crate::compare::DEFAULT_SAMPLES)]
    pub samples: usize,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub models: ModelsDirArg,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Model file or @ALIAS.
    #[arg(long)]
    pub model: PathBuf,
    /// Neighbours per item.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Output file, written atomically (temporary file, then rename).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = crate::batch::BatchFormat::Csv)]
    pub format: crate::batch::BatchFormat,
    /// Run shard I of N (1-based); the N outputs concatenated in order equal one full run.
    #[arg(long, default_value = "1/1")]
    pub shard: String,
    /// Leave out neighbours scoring below S.
    #[arg(long)]
    pub min_score: Option<f64>,
    #[command(flatten)]
    pub models: ModelsDirArg,
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Catalogue CSV (the one the model was trained on).
    #[arg(long)]
    pub catalog: PathBuf,
    /// Model file or @ALIAS (e.g. @champion).
    #[arg(long)]
    pub model: PathBuf,
    /// Judgements CSV to show and extend (created if missing; locked while open).
    #[arg(long)]
    pub judgements: Option<PathBuf>,
    /// Name recorded with every label (default: the user name).
    #[arg(long)]
    pub analyst: Option<String>,
    /// Names of the grades 0, 1, 2...: `irrelevant,related,substitute,same product` by default.
    #[arg(long, value_delimiter = ',')]
    pub grades: Option<Vec<String>>,
    /// Binary judging with y / n (grade 1 / 0).
    #[arg(long)]
    pub binary: bool,
    /// Queries to judge in turn: CSV `query_id,query_kind,query`.
    #[arg(long, conflicts_with = "sample")]
    pub queue: Option<PathBuf>,
    /// Judge N catalogue items picked at random (seeded) as item queries.
    #[arg(long)]
    pub sample: Option<usize>,
    /// Seed for --sample.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Neighbours to show.
    #[arg(long, default_value_t = 20)]
    pub k: usize,
    /// Plain ASCII borders and bars (also PRODSIM_ASCII=1; automatic without a UTF-8 locale).
    #[arg(long)]
    pub ascii: bool,
    #[command(flatten)]
    pub models: ModelsDirArg,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Catalogue CSV with a header row.
    #[arg(long)]
    pub catalog: PathBuf,
    /// Where to write the model.
    #[arg(long)]
    pub out: PathBuf,
    /// Id column (default: `id`, or the config's `id_column`).
    #[arg(long)]
    pub id_column: Option<String>,
    /// Text fields with optional weights: `name:3,manufacturer,description:0.5`.
    #[arg(long)]
    pub fields: Option<String>,
    /// TOML config file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override a config value: `--set preprocess.stemmer=english` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    Table,
    Json,
    Csv,
    Trec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Model file or @ALIAS (e.g. @champion).
    #[arg(long)]
    pub model: PathBuf,
    /// Free-text query.
    #[arg(long, group = "input")]
    pub text: Option<String>,
    /// Catalogue item id to find neighbours of.
    #[arg(long, group = "input")]
    pub item: Option<String>,
    /// CSV of queries with header `query_id,query_kind,query`.
    #[arg(long, group = "input")]
    pub queries: Option<PathBuf>,
    /// Number of neighbours.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,
    /// Include the per-token breakdown of every score.
    #[arg(long)]
    pub explain: bool,
    /// Include the query's preprocessing trace (each stage's output).
    #[arg(long)]
    pub trace: bool,
    #[command(flatten)]
    pub models: ModelsDirArg,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model file or @ALIAS.
    #[arg(long)]
    pub model: PathBuf,
    /// Judgements CSV: `query_kind,query,item_id,grade`.
    #[arg(long)]
    pub judgements: PathBuf,
    /// Cut-off for hit@k, recall@k, p@k, ndcg@k.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub models: ModelsDirArg,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Model file or @ALIAS.
    #[arg(long)]
    pub model: PathBuf,
    /// Check every section's checksum and every stored index (reads the
    /// whole file; opening alone checks only the small sections).
    #[arg(long)]
    pub verify: bool,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub models: ModelsDirArg,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of products.
    #[arg(long)]
    pub items: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output CSV.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs a parsed command line.
pub fn run(command: Command, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    match command {
        Command::Train(a) => cmd_train(&a, out, err),
        Command::Query(a) => cmd_query(&a, out),
        Command::Eval(a) => cmd_eval(&a, out, err),
        Command::Info(a) => cmd_info(&a, out),
        Command::Generate(a) => cmd_generate(&a, out),
        Command::Tui(a) => cmd_tui(&a),
        Command::Batch(a) => cmd_batch(&a, out, err),
        Command::Labels(a) => cmd_labels(&a, out, err),
        Command::Compare(a) => cmd_compare(&a, out, err),
        Command::Models(a) => cmd_models(&a, out, err),
        Command::Promote(a) => cmd_promote(&a, out, err),
    }
}

/// Builds the effective config: file, then `--set`s, then explicit flags.
pub fn build_config(a: &TrainArgs) -> Result<ModelConfig> {
    let mut config = match &a.config {
        Some(p) => ModelConfig::from_file(p)?,
        None => ModelConfig::default(),
    };
    for s in &a.set {
        config.set(s)?;
    }
    if let Some(id) = &a.id_column {
        config.id_column = id.clone();
    }
    if let Some(f) = &a.fields {
        parse_fields(f)?;
        config.fields = f.clone();
    }
    config.check()?;
    Ok(config)
}

fn human_bytes(n: u64) -> String {
    let units = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

fn cmd_train(a: &TrainArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let config = build_config(a)?;
    let catalog = Catalog::load_text_only(&a.catalog, &config.catalog_options()?)?;
    for w in &catalog.warnings {
        writeln!(err, "warning: {w}")?;
    }
    let fields = catalog
        .field_specs()
        .iter()
        .map(|f| {
            if f.weight == 1.0 {
                f.name.clone()
            } else {
                format!("{}:{}", f.name, f.weight)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let fields_detected = catalog.fields_detected;
    // Straight to the file: the model is never whole in memory (and the
    // catalogue is freed once its ids and titles are written).
    let (saved, report) = train_to_file(catalog, &config, &a.out, &NoProgress)?;
    let bytes = saved.bytes;
    let m = &saved.meta;
    writeln!(out, "trained model {} -> {}", m.model_id, a.out.display())?;
    let skipped = if m.rows_skipped > 0 {
        format!(", {} rows without text left out", m.rows_skipped)
    } else {
        String::new()
    };
    writeln!(
        out,
        "  catalogue   {} ({} items{skipped})",
        a.catalog.display(),
        m.items
    )?;
    writeln!(
        out,
        "  fields      {fields}{}",
        if fields_detected {
            " (detected title column; choose with --fields)"
        } else {
            ""
        }
    )?;
    writeln!(out, "  title       {}", m.title_column)?;
    writeln!(
        out,
        "  vocabulary  {} terms ({} dropped by min_df/max_df/max_features)",
        m.terms, report.terms_dropped
    )?;
    writeln!(
        out,
        "  non-zeros   {} ({:.1} per item)",
        m.nonzeros,
        m.nonzeros as f64 / m.items.max(1) as f64
    )?;
    writeln!(out, "  weighting   {:?}", saved.config.weighting.scheme)?;
    writeln!(out, "  time        {:.2} s", report.seconds)?;
    let stages: Vec<String> = report
        .stages
        .iter()
        .map(|(name, s)| format!("{name} {s:.2}"))
        .collect();
    writeln!(out, "  stages (s)  {}", stages.join(", "))?;
    writeln!(out, "  model file  {}", human_bytes(bytes))?;
    Ok(())
}

/// Loads a model with the path in the error.
pub fn load_model(path: &Path) -> Result<Model> {
    Ok(format::load(path)?)
}

fn model_json(model: &Model) -> serde_json::Value {
    serde_json::json!({
        "model_id": model.meta.model_id,
        "catalog_file": model.meta.catalog_file,
        "scheme": model.config.weighting.scheme,
        "items": model.meta.items,
        "trained_at": model.meta.trained_at,
    })
}

/// One query of a `--queries` file.
struct NamedQuery {
    id: String,
    query: Query,
}

fn read_queries(path: &Path) -> Result<Vec<NamedQuery>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read the queries", e))?;
    let file = path.display();
    let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[..]);
    let headers = reader
        .headers()
        .map_err(|e| Error::input(format!("{file}: cannot parse CSV: {e}")))?
        .clone();
    let col = |name: &str| -> Result<usize> {
        headers.iter().position(|h| h.trim_start_matches('\u{feff}') == name).ok_or_else(|| {
            Error::input(format!(
                "{file}: line 1: missing column {name:?}; a queries file needs the header `query_id,query_kind,query`"
            ))
            .into()
        })
    };
    let (ci, ck, cq) = (col("query_id")?, col("query_kind")?, col("query")?);
    let mut out = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| Error::input(format!("{file}: {e}")))?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: usize| rec.get(i).unwrap_or("").to_string();
        let query = match get(ck).trim() {
            "text" => Query::Text(get(cq)),
            "item" => Query::Item(get(cq).trim().to_string()),
            other => {
                return Err(Error::input(format!(
                    "{file}: line {line}, column \"query_kind\": unknown kind {other:?}; use \"text\" or \"item\""
                ))
                .into());
            }
        };
        out.push(NamedQuery { id: get(ci), query });
    }
    Ok(out)
}

fn cmd_query(a: &QueryArgs, out: &mut dyn Write) -> Result<()> {
    let model = load_model(&a.models.resolve(&a.model)?)?;
    let queries: Vec<NamedQuery> = match (&a.text, &a.item, &a.queries) {
        (Some(t), _, _) => vec![NamedQuery {
            id: "1".into(),
            query: Query::Text(t.clone()),
        }],
        (_, Some(i), _) => vec![NamedQuery {
            id: "1".into(),
            query: Query::Item(i.clone()),
        }],
        (_, _, Some(p)) => read_queries(p)?,
        _ => {
            return Err(Error::input(
                "query needs one of --text TEXT, --item ID or --queries FILE",
            )
            .into());
        }
    };
    let batch = a.queries.is_some();
    let run_name = format!("prodsim-{}", model.meta.model_id);
    if a.format == QueryFormat::Csv {
        write!(out, "query_id,rank,item_id,title,score")?;
        if a.explain {
            write!(
                out,
                ",token,kind,fields,query_weight,item_weight,contribution"
            )?;
        }
        writeln!(out)?;
    }
    for q in &queries {
        let ranking = neighbours(&model, &q.query, a.k, a.explain)?;
        match a.format {
            QueryFormat::Json => {
                let mut v = serde_json::json!({
                    "model": model_json(&model),
                    "query": ranking.query,
                    "results": ranking.results,
                });
                if a.trace {
                    v["query"]["trace"] = serde_json::to_value(trace_of(&model, &q.query))?;
                }
                if batch {
                    v["query"]["query_id"] = serde_json::Value::String(q.id.clone());
                    writeln!(out, "{}", serde_json::to_string(&v)?)?;
                } else {
                    writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                }
            }
            QueryFormat::Trec => {
                for r in &ranking.results {
                    writeln!(
                        out,
                        "{} Q0 {} {} {:.6} {}",
                        q.id, r.item_id, r.rank, r.score, run_name
                    )?;
                }
            }
            QueryFormat::Csv => write_csv(out, &q.id, &ranking, a.explain)?,
            QueryFormat::Table => {
                if a.trace {
                    for stage in trace_of(&model, &q.query) {
                        let shown: Vec<String> = stage
                            .output
                            .iter()
                            .map(|t| format!("{:?}", printable(t)))
                            .collect();
                        writeln!(out, "  {:<13} {}", stage.stage, shown.join(" "))?;
                    }
                }
                write_table(out, &q.id, &ranking, batch)?
            }
        }
    }
    Ok(())
}

/// The preprocessing trace of a query: of its text, or of an item's title.
fn trace_of(model: &Model, query: &Query) -> Vec<crate::text::TraceStage> {
    let text = match query {
        Query::Text(t) => t.as_str(),
        Query::Item(id) => model.find_item(id).map_or("", |i| model.title(i)),
    };
    model.analyzer().trace(text)
}

fn write_csv(out: &mut dyn Write, qid: &str, ranking: &Ranking, explain: bool) -> Result<()> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out);
    for r in &ranking.results {
        let base = [
            qid.to_string(),
            r.rank.to_string(),
            r.item_id.clone(),
            r.title.clone(),
            format!("{:.6}", r.score),
        ];
        match (&r.breakdown, explain) {
            (Some(rows), true) => {
                for t in rows {
                    let mut rec: Vec<String> = base.to_vec();
                    rec.extend([
                        t.token.clone(),
                        t.kind.name().to_string(),
                        t.fields.join("|"),
                        format!("{:.6}", t.query_weight),
                        format!("{:.6}", t.item_weight),
                        format!("{:.6}", t.contribution),
                    ]);
                    w.write_record(&rec)?;
                }
            }
            _ => w.write_record(&base)?,
        }
    }
    w.flush()?;
    Ok(())
}

/// Replaces control characters so catalogue text cannot drive the terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Breakdown rows a table shows per result; JSON and CSV show all.
const TABLE_TOKENS: usize = 12;

fn write_table(out: &mut dyn Write, qid: &str, ranking: &Ranking, batch: bool) -> Result<()> {
    let q = &ranking.query;
    if batch {
        write!(out, "[{}] ", printable(qid))?;
    }
    writeln!(out, "{} query: {}", q.kind, printable(&q.query))?;
    // Unknown character n-grams are many and say little; name only words.
    let unmatched: Vec<&str> = q
        .tokens
        .iter()
        .filter(|t| !t.matched && t.kind != crate::text::TokenKind::Char)
        .map(|t| t.token.as_str())
        .collect();
    if !unmatched.is_empty() {
        writeln!(
            out,
            "  not in vocabulary: {}",
            printable(&unmatched.join(" | "))
        )?;
    }
    if ranking.results.is_empty() {
        writeln!(out, "  no neighbours (no query token is in the vocabulary)")?;
        return Ok(());
    }
    let idw = ranking
        .results
        .iter()
        .map(|r| r.item_id.chars().count())
        .max()
        .unwrap_or(2)
        .clamp(2, 40);
    writeln!(out, "{:>4}  {:>7}  {:<idw$}  title", "rank", "score", "id")?;
    for r in &ranking.results {
        // Long ids (URLs) differ at the end: keep the tail.
        let full = printable(&r.item_id);
        let len = full.chars().count();
        let id: String = if len > 40 {
            format!("...{}", full.chars().skip(len - 37).collect::<String>())
        } else {
            full
        };
        writeln!(
            out,
            "{:>4}  {:>7.4}  {:<idw$}  {}",
            r.rank,
            r.score,
            id,
            printable(&r.title)
        )?;
        if let Some(rows) = &r.breakdown {
            writeln!(
                out,
                "{:>15}{:<24} {:<6} {:>8} {:>8} {:>9}  fields",
                "", "token", "kind", "q.weight", "i.weight", "contrib."
            )?;
            for t in rows.iter().take(TABLE_TOKENS) {
                writeln!(
                    out,
                    "{:>15}{:<24} {:<6} {:>8.4} {:>8.4} {:>9.5}  {}",
                    "",
                    format!("{:?}", printable(&t.token)),
                    t.kind.name(),
                    t.query_weight,
                    t.item_weight,
                    t.contribution,
                    t.fields.join(",")
                )?;
            }
            if rows.len() > TABLE_TOKENS {
                let rest: f64 = rows[TABLE_TOKENS..].iter().map(|t| t.contribution).sum();
                writeln!(
                    out,
                    "{:>15}... {} more tokens contribute {:.5} (all of them: --format json)",
                    "",
                    rows.len() - TABLE_TOKENS,
                    rest
                )?;
            }
        }
    }
    Ok(())
}

fn cmd_eval(a: &EvalArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    if a.k == 0 {
        return Err(Error::input("--k must be at least 1").into());
    }
    let model = format::load_verified(&a.models.resolve(&a.model)?)?;
    let judgements = Judgements::load(&a.judgements)?;
    let report = evaluate(&model, &judgements, a.k)?;
    for w in &report.warnings {
        writeln!(err, "warning: {w}")?;
    }
    match a.format {
        ReportFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        ReportFormat::Table => {
            writeln!(
                out,
                "model {} on {} ({} queries, k = {})",
                model.meta.model_id,
                a.judgements.display(),
                report.queries,
                report.k
            )?;
            for (name, v) in &report.metrics.0 {
                writeln!(out, "  {name:<10} {v:.4}")?;
            }
        }
    }
    Ok(())
}

fn cmd_info(a: &InfoArgs, out: &mut dyn Write) -> Result<()> {
    let path = a.models.resolve(&a.model)?;
    let model = if a.verify {
        format::load_verified(&path)?
    } else {
        load_model(&path)?
    };
    let size = std::fs::metadata(&path)
        .map(|m| m.len())
        .with_context(|| format!("{}: cannot stat", path.display()))?;
    match a.format {
        ReportFormat::Json => {
            let v = serde_json::json!({
                "meta": model.meta,
                "config": model.config,
                "file_bytes": size,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        ReportFormat::Table => {
            let m = &model.meta;
            writeln!(out, "model        {}", m.model_id)?;
            writeln!(
                out,
                "file         {} ({})",
                path.display(),
                human_bytes(size)
            )?;
            writeln!(
                out,
                "format       version {} (prodsim {})",
                m.format_version, m.prodsim_version
            )?;
            writeln!(out, "trained at   {}", m.trained_at)?;
            writeln!(
                out,
                "catalogue    {} (sha256 {})",
                m.catalog_file, m.catalog_fingerprint
            )?;
            writeln!(out, "items        {}", m.items)?;
            writeln!(out, "terms        {}", m.terms)?;
            writeln!(out, "non-zeros    {}", m.nonzeros)?;
            writeln!(out, "fields       {}", model.config.fields)?;
            writeln!(out, "config hash  {}", m.config_hash)?;
            writeln!(out, "config:")?;
            let toml = toml::to_string(&model.config).unwrap_or_default();
            for line in toml.lines() {
                writeln!(out, "  {line}")?;
            }
        }
    }
    Ok(())
}

fn cmd_generate(a: &GenerateArgs, out: &mut dyn Write) -> Result<()> {
    let opts = crate::synth::SynthOptions {
        items: a.items,
        seed: a.seed,
    };
    format::write_atomic_with(&a.out, &mut |w| crate::synth::write_catalog(&opts, w))?;
    writeln!(out, "wrote {} items to {}", a.items, a.out.display())?;
    Ok(())
}

fn cmd_tui(a: &TuiArgs) -> Result<()> {
    let model_path = a.models.resolve(&a.model)?;
    let model = load_model(&model_path)?;
    let catalog_options = model.config.catalog_options()?;
    // The explorer reads the catalogue after its first frame; a file that
    // cannot even be opened is still refused here, before the terminal
    // changes, with the same message `Catalog::load` gives.
    let file = std::fs::File::open(&a.catalog)
        .map_err(|e| Error::io(&a.catalog, "read the catalogue", e))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(Error::input(format!(
            "{}: is a directory, expected a file (read the catalogue)",
            a.catalog.display()
        ))
        .into());
    }
    let analyst = a
        .analyst
        .clone()
        .unwrap_or_else(crate::labels::default_analyst);
    let store = match &a.judgements {
        Some(p) => Some(crate::labels::LabelStore::open(p, &analyst)?),
        None => None,
    };
    let scale = if a.binary {
        crate::tui::app::GradeScale::binary()
    } else if let Some(names) = &a.grades {
        if names.len() < 2 || names.len() > 10 {
            return Err(Error::input(format!(
                "--grades needs 2 to 10 names (grades 0..9), got {}",
                names.len()
            ))
            .into());
        }
        crate::tui::app::GradeScale {
            names: names.iter().map(|n| n.trim().to_string()).collect(),
            binary: false,
        }
    } else {
        crate::tui::app::GradeScale::default()
    };
    let queue = match (&a.queue, a.sample) {
        (Some(p), _) => read_queries(p)?.into_iter().map(|q| q.query).collect(),
        (None, Some(n)) => sample_item_queries(&model, n, a.seed),
        (None, None) => Vec::new(),
    };
    open_explorer(crate::tui::Options {
        catalog: a.catalog.clone(),
        catalog_options,
        model,
        model_path: Some(model_path),
        store,
        scale,
        analyst,
        queue,
        ascii: a.ascii,
        k: a.k,
    })
}

/// `n` distinct items picked with a seeded generator, as item queries.
pub fn sample_item_queries(model: &Model, n: usize, seed: u64) -> Vec<Query> {
    let len = model.len() as u64;
    if len == 0 {
        return Vec::new();
    }
    // SplitMix64: a fixed, documented sequence for a seed.
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    while out.len() < n.min(len as usize) {
        let item = (next() % len) as u32;
        if seen.insert(item) {
            out.push(Query::Item(model.item_id(item).to_string()));
        }
    }
    out
}

fn open_explorer(opts: crate::tui::Options) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Error::input(
            "the explorer needs a terminal (stdin and stdout); for scripts use `prodsim query`",
        )
        .into());
    }
    crate::tui::run(opts)
}

/// `prodsim` without a command: the explorer on the bundled sample (its
/// model built on first use); without a terminal, one explained query as text.
pub fn run_default(out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        let sample = crate::sample::Sample::at(&crate::sample::sample_dir());
        let (model, _) = crate::sample::ensure_model(&sample)?;
        let catalog_options = model.config.catalog_options()?;
        let analyst = crate::labels::default_analyst();
        let store = crate::sample::open_labels(&sample, &analyst)?;
        return open_explorer(crate::tui::Options {
            catalog: sample.catalog.clone(),
            catalog_options,
            model,
            model_path: Some(sample.model.clone()),
            store: Some(store),
            scale: crate::tui::app::GradeScale::default(),
            analyst,
            queue: Vec::new(),
            ascii: false,
            k: 20,
        });
    }
    run_sample_text(out, err)
}

/// The sample as text: one explained query and what to try next.
pub fn run_sample_text(out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let dir = crate::sample::sample_dir();
    let sample = crate::sample::Sample::at(&dir);
    let started = std::time::Instant::now();
    let (model, built) = crate::sample::ensure_model(&sample)?;
    if built {
        writeln!(
            err,
            "built the sample model {} in {:.2} s",
            sample.model.display(),
            started.elapsed().as_secs_f64()
        )?;
    }
    let text = "clickart 950 000 - premier image pack (dvd-rom)";
    let ranking = neighbours(&model, &Query::Text(text.into()), 3, true)?;
    writeln!(
        out,
        "prodsim sample: {} products from {}, model {}\n",
        model.len(),
        sample.catalog.display(),
        model.meta.model_id
    )?;
    write_table(out, "1", &ranking, false)?;
    let m = sample.model.display();
    writeln!(out, "\nnext:")?;
    writeln!(
        out,
        "  prodsim query --model {m} --text \"sony headphones\" --explain"
    )?;
    writeln!(
        out,
        "  prodsim eval --model {m} --judgements {}",
        sample.judgements.display()
    )?;
    writeln!(out, "  prodsim --help")?;
    Ok(())
}

// ---------------------------------------------------------------------------
// prodsim labels

#[derive(Debug, Args)]
pub struct LabelsArgs {
    #[command(subcommand)]
    pub command: LabelsCommand,
}

#[derive(Debug, Subcommand)]
pub enum LabelsCommand {
    /// Write judgements for evaluation: compacted CSV, JSON Lines or TREC qrels.
    Export(LabelsExportArgs),
    /// Turn a CSV of gold pairs (two id columns) into a judgements file.
    Import(LabelsImportArgs),
}

#[derive(Debug, Args)]
pub struct LabelsExportArgs {
    /// Judgements (labels) CSV to export; read without locking.
    #[arg(long)]
    pub judgements: PathBuf,
    #[arg(long, value_enum)]
    pub format: crate::labels::ExportFormat,
    /// Output file (written atomically).
    #[arg(long)]
    pub out: PathBuf,
    /// With --format qrels: also write the qid mapping `qid,query_kind,query`.
    #[arg(long)]
    pub topics: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LabelsImportArgs {
    /// CSV of gold pairs with a header row.
    #[arg(long)]
    pub pairs: PathBuf,
    /// Column of the left (query) id.
    #[arg(long)]
    pub left: String,
    /// Column of the right (judged item) id.
    #[arg(long)]
    pub right: String,
    /// Judgements CSV to write (atomically).
    #[arg(long)]
    pub out: PathBuf,
    /// Catalogue of the left ids: the query becomes the left item's --left-text.
    #[arg(long, requires = "left_text")]
    pub left_catalog: Option<PathBuf>,
    /// Text column of --left-catalog that becomes the query.
    #[arg(long, requires = "left_catalog")]
    pub left_text: Option<String>,
    /// Id column of --left-catalog.
    #[arg(long, default_value = "id")]
    pub left_id: String,
    /// Grade of every imported pair.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub grade: i32,
    /// Analyst recorded in the provenance columns (default: $USER).
    #[arg(long)]
    pub analyst: Option<String>,
    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,
}

fn cmd_labels(a: &LabelsArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    match &a.command {
        LabelsCommand::Export(e) => cmd_labels_export(e, out, err),
        LabelsCommand::Import(i) => cmd_labels_import(i, out, err),
    }
}

fn cmd_labels_export(a: &LabelsExportArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let (judgements, warnings) = crate::labels::read_labels(&a.judgements)?;
    for w in &warnings {
        writeln!(err, "warning: {w}")?;
    }
    let s = crate::labels::export(&judgements, a.format, &a.out, a.topics.as_deref())?;
    for w in &s.warnings {
        writeln!(err, "warning: {w}")?;
    }
    let format = match s.format {
        crate::labels::ExportFormat::Csv => "csv",
        crate::labels::ExportFormat::Jsonl => "jsonl",
        crate::labels::ExportFormat::Qrels => "qrels",
    };
    writeln!(
        out,
        "exported {} judged pairs ({} queries, {} relevant) as {format} -> {}",
        s.pairs,
        s.queries,
        s.relevant,
        s.out.display()
    )?;
    if let Some(t) = &s.topics {
        writeln!(out, "  topics (qid,query_kind,query) -> {}", t.display())?;
    }
    Ok(())
}

fn cmd_labels_import(a: &LabelsImportArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let opts = crate::labels::ImportOptions {
        pairs: a.pairs.clone(),
        left: a.left.clone(),
        right: a.right.clone(),
        out: a.out.clone(),
        left_catalog: a.left_catalog.clone(),
        left_id: a.left_id.clone(),
        left_text: a.left_text.clone(),
        grade: a.grade,
        analyst: a.analyst.clone().unwrap_or_default(),
        force: a.force,
    };
    let s = crate::labels::import_pairs(&opts)?;
    for w in &s.warnings {
        writeln!(err, "warning: {w}")?;
    }
    let dup = if s.duplicates > 0 {
        format!(", {} repeated pairs written once", s.duplicates)
    } else {
        String::new()
    };
    writeln!(
        out,
        "imported {} judgements ({} queries) from {} pairs{dup} -> {}",
        s.judgements,
        s.queries,
        s.pairs,
        a.out.display()
    )?;
    Ok(())
}

/// Progress on stderr: a self-rewriting line with items/s and ETA when
/// stderr is a terminal, nothing otherwise (logs stay clean).
struct StderrProgress {
    started: std::time::Instant,
    last: std::sync::Mutex<std::time::Instant>,
    tty: bool,
}

impl crate::jobs::Progress for StderrProgress {
    fn update(&self, stage: &str, done: u64, total: u64) {
        if !self.tty {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.elapsed().as_millis() < 200 && done < total {
            return;
        }
        *last = std::time::Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let rate = done as f64 / secs;
        let eta = if rate > 0.0 {
            (total.saturating_sub(done)) as f64 / rate
        } else {
            0.0
        };
        eprint!("\r{stage}: {done}/{total} items, {rate:.0} items/s, ETA {eta:.0} s   ");
    }
}

fn cmd_batch(a: &BatchArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    use std::io::IsTerminal;
    if a.k == 0 {
        return Err(Error::input("--k must be at least 1").into());
    }
    let shard = crate::batch::Shard::parse(&a.shard)?;
    let model = format::load_verified(&a.models.resolve(&a.model)?)?;
    let opts = crate::batch::BatchOptions {
        k: a.k,
        format: a.format,
        shard,
        min_score: a.min_score,
    };
    let progress = StderrProgress {
        started: std::time::Instant::now(),
        last: std::sync::Mutex::new(std::time::Instant::now()),
        tty: std::io::stderr().is_terminal(),
    };
    let mut items = 0;
    let mut failure = None;
    format::write_atomic_with(
        &a.out,
        &mut |w| match crate::batch::run(&model, &opts, w, &progress) {
            Ok(n) => {
                items = n;
                Ok(())
            }
            Err(crate::error::Error::Io { source, .. }) => Err(source),
            Err(e) => {
                failure = Some(e);
                Err(std::io::Error::other("batch failed"))
            }
        },
    )
    .map_err(|e| failure.take().unwrap_or(e))?;
    if progress.tty {
        writeln!(err)?;
    }
    let secs = progress.started.elapsed().as_secs_f64();
    writeln!(
        out,
        "wrote the top-{} neighbours of {items} items (shard {}/{}) to {} in {secs:.2} s ({:.0} items/s)",
        a.k,
        shard.index + 1,
        shard.count,
        a.out.display(),
        items as f64 / secs.max(1e-9)
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------
// prodsim compare, models, promote: the champion/challenger gate and registry

/// Per-query changes a `compare` table shows; JSON shows all.
const TABLE_MOVERS: usize = 10;

fn cmd_compare(a: &CompareArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    use crate::compare::{GateOptions, compare, resolve_metric};
    let (metric, k) = resolve_metric(&a.metric, a.k)?;
    let opts = GateOptions {
        metric,
        k,
        min_gain: a.min_gain,
        require_significant: a.require_significant,
        samples: a.samples,
        seed: a.seed,
    };
    let path_a = a.models.resolve(&a.a)?;
    let path_b = a.models.resolve(&a.b)?;
    let model_a = format::load_verified(&path_a)?;
    let model_b = format::load_verified(&path_b)?;
    let judgements = Judgements::load(&a.judgements)?;
    let c = compare((&model_a, &path_a), (&model_b, &path_b), &judgements, &opts)?;
    for w in &c.warnings {
        writeln!(err, "warning: {w}")?;
    }
    match a.format {
        ReportFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&c)?)?,
        ReportFormat::Table => write_comparison(out, &c)?,
    }
    if !c.gate.passed {
        return Err(Error::GateFailed(c.gate.reason.clone()).into());
    }
    Ok(())
}

/// The `compare` table: who A and B are, every metric of both and the
/// difference, the gate's figures, and the largest per-query changes.
pub fn write_comparison(out: &mut dyn Write, c: &crate::compare::Comparison) -> Result<()> {
    use crate::compare::short;
    for (name, s) in [("A", &c.a), ("B", &c.b)] {
        writeln!(
            out,
            "{name}  model {}  config {}  {}  (catalogue {})",
            s.model_id,
            short(&s.config_hash),
            s.path,
            s.catalog_file
        )?;
    }
    let g = &c.gate;
    let scored = if c.a.queries == c.b.queries {
        format!("{} queries", c.a.queries)
    } else {
        format!("A scored {} queries, B {}", c.a.queries, c.b.queries)
    };
    writeln!(out, "on {} ({scored}, k = {})\n", c.judgements, c.k)?;
    writeln!(out, "  {:<10} {:>8} {:>8} {:>8}", "metric", "A", "B", "B-A")?;
    for (name, va) in &c.a.metrics.0 {
        let vb = c.b.metrics.get(name).unwrap_or(f64::NAN);
        let mark = if *name == g.metric { "  <- gate" } else { "" };
        writeln!(
            out,
            "  {name:<10} {va:>8.4} {vb:>8.4} {:>+8.4}{mark}",
            vb - va
        )?;
    }
    let s = &g.sign_test;
    writeln!(
        out,
        "\ngate on {} over the {} queries both models scored:",
        g.metric, g.paired_queries
    )?;
    writeln!(
        out,
        "  mean B - A    {:+.4}  (A {:.4}, B {:.4})",
        g.difference, g.mean_a, g.mean_b
    )?;
    writeln!(
        out,
        "  {:.0}% CI        [{:+.4}, {:+.4}]  paired bootstrap, {} resamples, seed {}",
        g.ci.level * 100.0,
        g.ci.low,
        g.ci.high,
        g.ci.samples,
        g.ci.seed
    )?;
    writeln!(
        out,
        "  per query     {} wins, {} losses, {} ties",
        s.wins, s.losses, s.ties
    )?;
    let p = if s.p_value < 1e-4 {
        format!("{:.1e}", s.p_value)
    } else {
        format!("{:.4}", s.p_value)
    };
    writeln!(
        out,
        "  sign test     p = {p}  (exact, two-sided, over the {} non-tied queries)",
        s.wins + s.losses
    )?;
    writeln!(
        out,
        "  min gain      {:.4}{}",
        g.min_gain,
        if g.require_significant {
            ", and the CI above 0 (--require-significant)"
        } else {
            ""
        }
    )?;
    writeln!(
        out,
        "  result        {}: {}",
        if g.passed { "PASS" } else { "FAIL" },
        g.reason
    )?;
    let movers = c.top_movers(TABLE_MOVERS);
    if !movers.is_empty() {
        writeln!(
            out,
            "\nlargest per-query changes on {} ({} of {}; all: --format json):",
            g.metric,
            movers.len(),
            s.wins + s.losses
        )?;
        writeln!(out, "  {:>8} {:>7} {:>7}  query", "B-A", "A", "B")?;
        for i in movers {
            let q = &c.per_query[i];
            let text = printable(&q.query);
            let text: String = if text.chars().count() > 70 {
                format!("{}...", text.chars().take(67).collect::<String>())
            } else {
                text
            };
            writeln!(
                out,
                "  {:>+8.4} {:>7.4} {:>7.4}  {}: {text}",
                q.delta, q.a, q.b, q.query_kind
            )?;
        }
    }
    Ok(())
}

fn cmd_models(a: &ModelsArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let dir = a.models.dir();
    let (reg, entries) = crate::registry::list(&dir)?;
    for e in &entries {
        if let Some(msg) = &e.error {
            writeln!(err, "warning: {msg}")?;
        }
    }
    for (alias, file) in &reg.aliases {
        if !entries.iter().any(|e| &e.file == file) {
            writeln!(
                err,
                "warning: @{alias} points to {file}, which is not in {}",
                dir.display()
            )?;
        }
    }
    if a.format == ReportFormat::Json {
        let v = serde_json::json!({
            "models_dir": dir.display().to_string(),
            "aliases": reg.aliases,
            "models": entries,
            "history": reg.history,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    writeln!(out, "models in {} ({} files)", dir.display(), entries.len())?;
    if entries.is_empty() {
        return Ok(());
    }
    let fw = entries
        .iter()
        .map(|e| e.file.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let aliases: Vec<String> = entries
        .iter()
        .map(|e| {
            e.aliases
                .iter()
                .map(|a| format!("@{a}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let aw = aliases.iter().map(String::len).max().unwrap_or(0).max(7);
    writeln!(
        out,
        "  {:<fw$}  {:<aw$}  {:<16}  {:<20}  {:>7}  {:>8}  {:>9}  {:<12}  {:>9}  catalogue",
        "file", "aliases", "model", "trained at", "items", "terms", "non-zeros", "config", "size"
    )?;
    for (e, al) in entries.iter().zip(&aliases) {
        let size = human_bytes(e.bytes);
        match &e.meta {
            Some(m) => writeln!(
                out,
                "  {:<fw$}  {al:<aw$}  {:<16}  {:<20}  {:>7}  {:>8}  {:>9}  {:<12}  {size:>9}  {}",
                printable(&e.file),
                m.model_id,
                m.trained_at,
                m.items,
                m.terms,
                m.nonzeros,
                crate::compare::short(&m.config_hash),
                printable(&m.catalog_file)
            )?,
            None => writeln!(
                out,
                "  {:<fw$}  {al:<aw$}  (not a readable model; see the warning)  {size:>9}",
                printable(&e.file)
            )?,
        }
    }
    let h = &reg.history;
    if !h.is_empty() {
        let shown = h.len().min(5);
        writeln!(
            out,
            "\nhistory (last {shown} of {}; all: --format json):",
            h.len()
        )?;
        let recent = &h[h.len() - shown..];
        let hw = recent
            .iter()
            .map(|p| p.alias.chars().count() + p.file.chars().count() + 5)
            .max()
            .unwrap_or(0);
        for p in recent {
            writeln!(
                out,
                "  {}  {:<hw$}  {}  {}",
                p.time,
                format!("@{} <- {}", p.alias, printable(&p.file)),
                if p.promoted { "promoted" } else { "refused " },
                printable(&p.note)
            )?;
        }
    }
    Ok(())
}

fn cmd_promote(a: &PromoteArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    use crate::registry::{GateSpec, LOCK_FILE, promote};
    let dir = a.models.dir();
    let gate = match (a.require_gain, &a.judgements) {
        (Some(gain), Some(judgements)) => {
            let mut options = crate::compare::GateOptions::new(&a.metric, a.k, gain)?;
            options.require_significant = a.require_significant;
            options.samples = a.samples;
            options.seed = a.seed;
            Some(GateSpec {
                judgements: judgements.clone(),
                options,
            })
        }
        _ => None,
    };
    let lock = dir.join(LOCK_FILE);
    let o = promote(&a.model, &dir, &a.alias, gate.as_ref(), &mut || {
        let _ = writeln!(
            err,
            "waiting for another promotion to finish (lock {})",
            lock.display()
        );
    })?;
    if let Some(c) = &o.comparison {
        for w in &c.warnings {
            writeln!(err, "warning: {w}")?;
        }
    }
    let target = dir.join(&o.file);
    match a.format {
        ReportFormat::Json => {
            let v = serde_json::json!({
                "alias": o.alias,
                "file": o.file,
                "path": target.display().to_string(),
                "model_id": o.model_id,
                "copied": o.copied,
                "previous": o.previous,
                "promoted": o.promoted,
                "unchanged": o.unchanged,
                "note": o.note,
                "comparison": o.comparison,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        ReportFormat::Table => {
            if o.copied {
                writeln!(out, "copied {} -> {}", a.model.display(), target.display())?;
            }
            if let Some(c) = &o.comparison {
                write_comparison(out, c)?;
                writeln!(out)?;
            }
            let was = o
                .previous
                .as_deref()
                .map_or(String::new(), |p| format!(" (was {p})"));
            if o.unchanged {
                writeln!(out, "unchanged: {}", o.note)?;
            } else if o.promoted {
                writeln!(
                    out,
                    "promoted: @{} -> {} (model {}){was}; {}",
                    o.alias, o.file, o.model_id, o.note
                )?;
            } else {
                writeln!(
                    out,
                    "refused: @{} stays {}; {}",
                    o.alias,
                    o.previous.as_deref().unwrap_or("unset"),
                    o.note
                )?;
            }
        }
    }
    if !o.promoted {
        return Err(Error::GateFailed(format!(
            "{} not promoted to @{}: {}",
            o.file, o.alias, o.note
        ))
        .into());
    }
    Ok(())
}
