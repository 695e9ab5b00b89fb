//! The model registry: a directory of model files (`*.psm`) and one small
//! file, `registry.json`, that names some of them by alias (`champion`) and
//! keeps the history of promotions.
//!
//! ```json
//! {"version": 1,
//!  "aliases": {"champion": "strong.psm"},
//!  "history": [{"time": "...", "alias": "champion", "file": "strong.psm",
//!               "model_id": "...", "previous": "weak.psm", "promoted": true,
//!               "gate": {"metric": "ndcg@10", "difference": 0.0178, ...}}]}
//! ```
//!
//! Alias targets are file names inside the directory, so the directory can
//! be moved or copied as a whole. `registry.json` is only ever replaced
//! atomically (temporary file, fsync, rename), so a reader sees the old or
//! the new registry, never a mix. Writers take an exclusive lock on
//! `.registry.lock` in the directory for the whole read-gate-write of a
//! promotion, so two promotions at once run one after the other and neither
//! update is lost; readers ([`resolve_model_path`]) need no lock.
//!
//! Where a model path is expected, `@NAME` stands for the file the alias
//! `NAME` points to ([`resolve_model_path`]).

use crate::compare::{Comparison, GateOptions, compare};
use crate::error::{Error, Result};
use crate::judgements::Judgements;
use crate::model::{ModelMeta, format, timestamp_now};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The registry file inside a models directory.
pub const REGISTRY_FILE: &str = "registry.json";
/// The lock file writers hold while they update the registry.
pub const LOCK_FILE: &str = ".registry.lock";
/// Environment variable naming the models directory.
pub const MODELS_DIR_ENV: &str = "PRODSIM_MODELS";
/// The models directory when neither `--models-dir` nor the environment name one.
pub const DEFAULT_MODELS_DIR: &str = "models";
/// The alias `promote` sets unless told otherwise.
pub const DEFAULT_ALIAS: &str = "champion";
/// Model files have this extension.
pub const MODEL_EXTENSION: &str = "psm";
/// Version of the registry file layout.
pub const REGISTRY_VERSION: u32 = 1;

/// The models directory: `flag` (`--models-dir`), else `$PRODSIM_MODELS`,
/// else `models` (relative to the current directory).
pub fn models_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    match std::env::var_os(MODELS_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_MODELS_DIR),
    }
}

/// The gate figures kept with a promotion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRecord {
    pub judgements: String,
    pub metric: String,
    pub k: usize,
    pub min_gain: f64,
    pub require_significant: bool,
    pub paired_queries: usize,
    /// The champion's (A) and the candidate's (B) mean on the metric.
    pub mean_a: f64,
    pub mean_b: f64,
    /// `mean_b − mean_a`, the gain held against `min_gain`.
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub wins: usize,
    pub losses: usize,
    pub ties: usize,
    pub passed: bool,
}

impl GateRecord {
    fn of(c: &Comparison) -> GateRecord {
        let g = &c.gate;
        GateRecord {
            judgements: c.judgements.clone(),
            metric: g.metric.clone(),
            k: g.k,
            min_gain: g.min_gain,
            require_significant: g.require_significant,
            paired_queries: g.paired_queries,
            mean_a: g.mean_a,
            mean_b: g.mean_b,
            difference: g.difference,
            ci_low: g.ci.low,
            ci_high: g.ci.high,
            p_value: g.sign_test.p_value,
            wins: g.sign_test.wins,
            losses: g.sign_test.losses,
            ties: g.sign_test.ties,
            passed: g.passed,
        }
    }
}

/// One attempt to point an alias at a model, passed or refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    /// RFC 3339 (from SOURCE_DATE_EPOCH when set).
    pub time: String,
    pub alias: String,
    /// The candidate's file name in the models directory.
    pub file: String,
    pub model_id: String,
    /// What the alias pointed to before (and still does if refused).
    pub previous: Option<String>,
    pub previous_model_id: Option<String>,
    /// True when the alias was set.
    pub promoted: bool,
    /// The gate's figures; `None` without `--require-gain` or without a
    /// previous model to compare with.
    pub gate: Option<GateRecord>,
    /// Why it was promoted or refused, in words.
    pub note: String,
}

/// The contents of `registry.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    pub version: u32,
    /// Alias -> model file name inside the directory.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Every promotion attempt, oldest first.
    #[serde(default)]
    pub history: Vec<Promotion>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            version: REGISTRY_VERSION,
            aliases: BTreeMap::new(),
            history: Vec::new(),
        }
    }
}

impl Registry {
    /// Reads `dir/registry.json`; a missing file is an empty registry.
    pub fn load(dir: &Path) -> Result<Registry> {
        let path = dir.join(REGISTRY_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Registry::default()),
            Err(e) => return Err(Error::io(&path, "read the registry", e)),
        };
        let reg: Registry = serde_json::from_slice(&bytes).map_err(|e| {
            Error::input(format!(
                "{}: line {}, column {}: not a valid registry: {e}; fix the file, or move it \
                 away to start an empty registry (aliases and history would be lost)",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        if reg.version != REGISTRY_VERSION {
            return Err(Error::input(format!(
                "{}: registry version {}, but this prodsim reads version {REGISTRY_VERSION}",
                path.display(),
                reg.version
            )));
        }
        Ok(reg)
    }

    /// Replaces `dir/registry.json` atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::input(format!("cannot encode the registry: {e}")))?;
        bytes.push(b'\n');
        format::write_atomic(&dir.join(REGISTRY_FILE), &bytes)
    }

    /// Aliases pointing at `file`, sorted.
    pub fn aliases_of(&self, file: &str) -> Vec<String> {
        self.aliases
            .iter()
            .filter(|(_, f)| f.as_str() == file)
            .map(|(a, _)| a.clone())
            .collect()
    }
}

/// An exclusive hold on a models directory's registry; released on drop.
#[derive(Debug)]
pub struct RegistryLock {
    _file: File,
}

/// Takes the registry lock of `dir` (creating the directory and the lock
/// file if needed), waiting for another holder to finish; `waiting` is
/// called once if it has to wait.
pub fn lock(dir: &Path, waiting: &mut dyn FnMut()) -> Result<RegistryLock> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create the models directory", e))?;
    let path = dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, "open the registry lock", e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            waiting();
            file.lock()
                .map_err(|e| Error::io(&path, "lock the registry", e))?;
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(Error::io(&path, "lock the registry", e));
        }
    }
    Ok(RegistryLock { _file: file })
}

/// Locks `dir`, loads its registry, lets `f` change it and saves it
/// atomically, all under the lock. Nothing is written when `f` fails.
pub fn update<T>(dir: &Path, f: impl FnOnce(&mut Registry) -> Result<T>) -> Result<T> {
    let _lock = lock(dir, &mut || {})?;
    let mut reg = Registry::load(dir)?;
    let out = f(&mut reg)?;
    reg.save(dir)?;
    Ok(out)
}

/// Checks an alias name: letters, digits, `-`, `_`, `.`; not empty.
pub fn check_alias(alias: &str) -> Result<()> {
    let ok = !alias.is_empty()
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::input(format!(
            "alias {alias:?}: use letters, digits, '-', '_' or '.', e.g. `champion`"
        )))
    }
}

/// The alias named by a model argument `@NAME`, if it is one.
pub fn alias_of(arg: &Path) -> Option<&str> {
    arg.to_str()?.strip_prefix('@')
}

/// Turns a model argument into a file path. `@NAME` is the file the alias
/// `NAME` of the registry in `models_dir` points to; anything else is
/// returned unchanged (to name a file that really starts with `@`, write
/// `./@file`). Errors (exit 2): an unknown alias (the message lists the
/// known ones and the directory), an alias whose file is gone, an unreadable
/// registry.
///
/// This is the one resolver every command and the explorer use; its
/// signature is stable.
pub fn resolve_model_path(arg: &Path, models_dir: &Path) -> Result<PathBuf> {
    let Some(alias) = alias_of(arg) else {
        return Ok(arg.to_path_buf());
    };
    check_alias(alias)?;
    let reg = Registry::load(models_dir)?;
    let Some(file) = reg.aliases.get(alias) else {
        let known = if reg.aliases.is_empty() {
            "there are no aliases yet; set one with `prodsim promote MODEL`".to_string()
        } else {
            format!(
                "known aliases: {}",
                reg.aliases
                    .keys()
                    .map(|a| format!("@{a}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(Error::input(format!(
            "unknown model alias @{alias} in {} ({known}; choose the directory with \
             --models-dir or {MODELS_DIR_ENV})",
            models_dir.display()
        )));
    };
    let path = models_dir.join(file);
    if !path.is_file() {
        return Err(Error::input(format!(
            "@{alias} points to {}, which does not exist; promote another model to @{alias}",
            path.display()
        )));
    }
    Ok(path)
}

/// One model file of the directory, with its metadata.
#[derive(Debug, Clone, Serialize)]
pub struct ModelEntry {
    /// File name inside the directory.
    pub file: String,
    pub bytes: u64,
    /// Aliases pointing at it.
    pub aliases: Vec<String>,
    /// `None` when the file cannot be read as a model (see `error`).
    pub meta: Option<ModelMeta>,
    pub error: Option<String>,
}

/// Every `*.psm` file in `dir` (sorted by name) with its metadata, and the
/// registry. A file that is not a readable model is listed with its error.
pub fn list(dir: &Path) -> Result<(Registry, Vec<ModelEntry>)> {
    if !dir.is_dir() {
        return Err(Error::input(format!(
            "{}: models directory not found; create it, promote a model into it \
             (`prodsim promote MODEL`), or choose another with --models-dir or {MODELS_DIR_ENV}",
            dir.display()
        )));
    }
    let reg = Registry::load(dir)?;
    let read = std::fs::read_dir(dir).map_err(|e| Error::io(dir, "list the directory", e))?;
    let mut entries = Vec::new();
    for e in read {
        let e = e.map_err(|e| Error::io(dir, "list the directory", e))?;
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            || path.extension().and_then(|x| x.to_str()) != Some(MODEL_EXTENSION)
            || !path.is_file()
        {
            continue;
        }
        let bytes = e.metadata().map(|m| m.len()).unwrap_or(0);
        // The whole file is read to check it; a header-only reader in
        // model::format would make this cheaper for very large models.
        let (meta, error) = match format::load(&path) {
            Ok(m) => (Some(m.meta), None),
            Err(err) => (None, Some(err.to_string())),
        };
        entries.push(ModelEntry {
            aliases: reg.aliases_of(&name),
            file: name,
            bytes,
            meta,
            error,
        });
    }
    entries.sort_by(|a, b| a.file.cmp(&b.file));
    Ok((reg, entries))
}

/// True when `a` and `b` hold the same bytes.
fn same_contents(a: &Path, b: &Path) -> std::io::Result<bool> {
    if std::fs::metadata(a)?.len() != std::fs::metadata(b)?.len() {
        return Ok(false);
    }
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = fa.read(&mut ba)?;
        if n == 0 {
            return Ok(true);
        }
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

/// Where a candidate model ended up in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// File name inside the directory.
    pub file: String,
    /// True when it was copied in now.
    pub copied: bool,
}

/// Makes sure the model at `src` is in `dir`: a file directly in `dir` stays
/// where it is; any other is copied in under its file name (atomically).
/// A different file of that name already in `dir` is an error (nothing is
/// overwritten); an identical one is reused.
pub fn import_model(src: &Path, dir: &Path) -> Result<Imported> {
    let name = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::input(format!("{}: not a model file", src.display())))?;
    let canon = |p: &Path, what: &str| std::fs::canonicalize(p).map_err(|e| Error::io(p, what, e));
    let src_dir = canon(src, "find the model")?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if src_dir == canon(dir, "find the models directory")? {
        return Ok(Imported {
            file: name,
            copied: false,
        });
    }
    let dest = dir.join(&name);
    if dest.exists() {
        let same = same_contents(src, &dest).map_err(|e| Error::io(&dest, "compare", e))?;
        if same {
            return Ok(Imported {
                file: name,
                copied: false,
            });
        }
        return Err(Error::input(format!(
            "{} already exists and differs from {}; rename the new model file \
             (e.g. after its model id) before promoting it",
            dest.display(),
            src.display()
        )));
    }
    let mut input = File::open(src).map_err(|e| Error::io(src, "read the model", e))?;
    format::write_atomic_with(&dest, &mut |w| std::io::copy(&mut input, w).map(|_| ()))?;
    Ok(Imported {
        file: name,
        copied: true,
    })
}

/// What `promote` is asked to check.
#[derive(Debug, Clone)]
pub struct GateSpec {
    pub judgements: PathBuf,
    pub options: GateOptions,
}

/// The result of [`promote`].
#[derive(Debug, Clone)]
pub struct PromoteOutcome {
    pub alias: String,
    /// The candidate's file name in the directory.
    pub file: String,
    pub model_id: String,
    /// True when the candidate was copied into the directory.
    pub copied: bool,
    /// The file the alias pointed to before.
    pub previous: Option<String>,
    /// The comparison with the previous model, when a gate ran one.
    pub comparison: Option<Comparison>,
    /// True when the alias now points at the candidate.
    pub promoted: bool,
    /// True when nothing changed because the alias already pointed there.
    pub unchanged: bool,
    pub note: String,
}

/// Finds the candidate: `@ALIAS`, an existing path, or a file name in `dir`.
fn candidate_path(model: &Path, dir: &Path) -> Result<PathBuf> {
    if alias_of(model).is_some() {
        return resolve_model_path(model, dir);
    }
    if model.exists() {
        return Ok(model.to_path_buf());
    }
    let inside = dir.join(model);
    if model.components().count() == 1 && inside.exists() {
        return Ok(inside);
    }
    Err(Error::input(format!(
        "{}: model file not found (neither as a path nor in {})",
        model.display(),
        dir.display()
    )))
}

/// Points `alias` at `model` (a path, a file name in `dir`, or `@OTHER`),
/// copying it into `dir` first if it lives elsewhere. With a `gate`, the
/// candidate (B) is compared with the alias's current model (A) and the
/// alias is set only if the gate passes; with no current model the gate
/// passes and the note says so. Every attempt, passed or refused, is added
/// to the history. The registry is locked for the whole operation, so
/// concurrent promotions are serialised and each one gates against the
/// champion of the moment. `waiting` is called if another holds the lock.
pub fn promote(
    model: &Path,
    dir: &Path,
    alias: &str,
    gate: Option<&GateSpec>,
    waiting: &mut dyn FnMut(),
) -> Result<PromoteOutcome> {
    check_alias(alias)?;
    // Bad judgements are reported before anything is copied or locked.
    let gate = match gate {
        Some(g) => {
            g.options.check()?;
            Some((g, Judgements::load(&g.judgements)?))
        }
        None => None,
    };
    let _lock = lock(dir, waiting)?;
    let src = candidate_path(model, dir)?;
    let candidate = format::load_verified(&src)?;
    let imported = import_model(&src, dir)?;
    let mut reg = Registry::load(dir)?;
    let previous = reg.aliases.get(alias).cloned();
    let mut outcome = PromoteOutcome {
        alias: alias.to_string(),
        file: imported.file.clone(),
        model_id: candidate.meta.model_id.clone(),
        copied: imported.copied,
        previous: previous.clone(),
        comparison: None,
        promoted: false,
        unchanged: false,
        note: String::new(),
    };
    if previous.as_deref() == Some(imported.file.as_str()) {
        outcome.unchanged = true;
        outcome.promoted = true;
        outcome.note = format!("@{alias} already points to {}", imported.file);
        return Ok(outcome);
    }
    // The current model is needed to gate against it; without a gate only
    // its id is recorded, best effort (a rollback must work even if the
    // current file is damaged).
    let champion = match (&previous, &gate) {
        (Some(f), Some(_)) => {
            let path = dir.join(f);
            let model = format::load(&path).map_err(|e| {
                Error::input(format!(
                    "cannot gate against the current @{alias}: {e}; promote without \
                     --require-gain to replace it"
                ))
            })?;
            Some((model, path))
        }
        _ => None,
    };
    let previous_model_id = match (&champion, &previous) {
        (Some((m, _)), _) => Some(m.meta.model_id.clone()),
        (None, Some(f)) => format::load(&dir.join(f)).ok().map(|m| m.meta.model_id),
        (None, None) => None,
    };
    let (passed, note, record) = match (&gate, &champion) {
        (None, _) => (
            true,
            "no gate was asked for (--require-gain)".to_string(),
            None,
        ),
        (Some(_), None) => (
            true,
            format!("no current @{alias}: the gate passes without a comparison"),
            None,
        ),
        (Some((g, judgements)), Some((champion, champion_path))) => {
            let c = compare(
                (champion, champion_path),
                (&candidate, &dir.join(&imported.file)),
                judgements,
                &g.options,
            )?;
            let record = GateRecord::of(&c);
            let passed = c.gate.passed;
            let note = c.gate.reason.clone();
            outcome.comparison = Some(c);
            (passed, note, Some(record))
        }
    };
    reg.history.push(Promotion {
        time: timestamp_now(),
        alias: alias.to_string(),
        file: imported.file.clone(),
        model_id: candidate.meta.model_id.clone(),
        previous,
        previous_model_id,
        promoted: passed,
        gate: record,
        note: note.clone(),
    });
    if passed {
        reg.aliases.insert(alias.to_string(), imported.file.clone());
    }
    reg.save(dir)?;
    outcome.promoted = passed;
    outcome.note = note;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, CatalogOptions};
    use crate::jobs::NoProgress;
    use crate::model::{ModelConfig, train};

    // Distractors come first, so ties broken by catalogue order never help.
    const CATALOG: &str = "id,title\n\
        2,Panasonic KX-TG6512B cordless phone\n\
        1,Panasonic KX-TS3282B corded phone\n\
        4,Sony WH1000XM4/B over-ear headphones black\n\
        3,Sony WH-1000XM4 wireless headphones\n\
        6,Canon PIXMA TS3320 inkjet printer\n\
        5,Canon PIXMA TR4520 wireless printer\n";

    /// Judgements on which character n-grams help: the queries are
    /// spelled differently from the titles.
    const JUDGEMENTS: &str = "query_kind,query,item_id,grade\n\
        text,wh1000xm4 headphone,3,1\n\
        text,wh1000xm4 headphone,4,1\n\
        text,pixma tr-4520,5,1\n\
        text,kxts3282 phone,1,1\n";

    fn save_model(dir: &Path, name: &str, sets: &[&str]) -> PathBuf {
        let catalog = Catalog::from_bytes(
            Path::new("shop.csv"),
            CATALOG.as_bytes(),
            &CatalogOptions::default(),
        )
        .unwrap();
        let mut config = ModelConfig::default();
        for s in sets {
            config.set(s).unwrap();
        }
        let (model, _) = train(&catalog, &config, &NoProgress).unwrap();
        let path = dir.join(name);
        format::save(&model, &path).unwrap();
        path
    }

    fn strong_weak(dir: &Path) -> (PathBuf, PathBuf) {
        (
            save_model(dir, "strong.psm", &[]),
            save_model(
                dir,
                "weak.psm",
                &["word_ngrams=[1, 1]", "char_ngrams=[0, 0]", "codes=false"],
            ),
        )
    }

    fn gate(dir: &Path, min_gain: f64) -> GateSpec {
        let j = dir.join("j.csv");
        std::fs::write(&j, JUDGEMENTS).unwrap();
        let mut options = GateOptions::new("map", None, min_gain).unwrap();
        options.samples = 500;
        GateSpec {
            judgements: j,
            options,
        }
    }

    #[test]
    fn save_is_atomic_and_round_trips() {
        let t = tempfile::tempdir().unwrap();
        let mut reg = Registry::default();
        reg.aliases.insert("champion".into(), "a.psm".into());
        reg.save(t.path()).unwrap();
        assert_eq!(Registry::load(t.path()).unwrap(), reg);
        // Only the registry itself is left: the temporary file was renamed.
        let names: Vec<String> = std::fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![REGISTRY_FILE.to_string()]);
        // A failed update writes nothing.
        let before = std::fs::read(t.path().join(REGISTRY_FILE)).unwrap();
        let r: Result<()> = update(t.path(), |r| {
            r.aliases.clear();
            Err(Error::input("no"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(t.path().join(REGISTRY_FILE)).unwrap(), before);
    }

    #[test]
    fn concurrent_updates_lose_nothing() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().to_path_buf();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    for j in 0..5 {
                        update(&dir, |r| {
                            r.aliases.insert(format!("t{i}-{j}"), format!("{i}.psm"));
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(Registry::load(&dir).unwrap().aliases.len(), 40);
    }

    #[test]
    fn corrupt_registry_is_named() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(REGISTRY_FILE), "{\"aliases\": [").unwrap();
        let e = Registry::load(t.path()).unwrap_err();
        assert!(e.is_user_error());
        let e = e.to_string();
        assert!(e.contains("registry.json") && e.contains("line 1"), "{e}");
    }

    #[test]
    fn resolve_aliases_and_plain_paths() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let plain = resolve_model_path(Path::new("x/m.psm"), dir).unwrap();
        assert_eq!(plain, PathBuf::from("x/m.psm"));
        let e = resolve_model_path(Path::new("@champion"), dir)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("@champion") && e.contains("no aliases yet"),
            "{e}"
        );
        std::fs::write(dir.join("a.psm"), "x").unwrap();
        update(dir, |r| {
            r.aliases.insert("champion".into(), "a.psm".into());
            r.aliases.insert("staging".into(), "gone.psm".into());
            Ok(())
        })
        .unwrap();
        assert_eq!(
            resolve_model_path(Path::new("@champion"), dir).unwrap(),
            dir.join("a.psm")
        );
        let e = resolve_model_path(Path::new("@best"), dir).unwrap_err();
        assert!(e.is_user_error());
        let e = e.to_string();
        assert!(
            e.contains("unknown model alias @best") && e.contains("@champion, @staging"),
            "{e}"
        );
        let e = resolve_model_path(Path::new("@staging"), dir)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("gone.psm") && e.contains("does not exist"),
            "{e}"
        );
        assert!(resolve_model_path(Path::new("@bad/alias"), dir).is_err());
    }

    #[test]
    fn promote_gates_records_history_and_refusal_leaves_the_alias() {
        let t = tempfile::tempdir().unwrap();
        let work = t.path().join("work");
        let dir = t.path().join("models");
        std::fs::create_dir_all(&work).unwrap();
        let (strong, weak) = strong_weak(&work);
        let g = gate(&work, 0.0);

        // No champion yet: the gate passes without a comparison; the model is
        // copied into the directory.
        let o = promote(&weak, &dir, "champion", Some(&g), &mut || {}).unwrap();
        assert!(o.promoted && o.copied && o.comparison.is_none(), "{o:?}");
        assert!(o.note.contains("no current @champion"), "{}", o.note);
        assert!(dir.join("weak.psm").is_file());

        // The strong model beats the weak one: promoted.
        let o = promote(&strong, &dir, "champion", Some(&g), &mut || {}).unwrap();
        let c = o.comparison.as_ref().unwrap();
        assert!(c.gate.difference > 0.0 && o.promoted, "{}", o.note);
        assert_eq!(o.previous.as_deref(), Some("weak.psm"));

        // The weak one does not beat the strong one: refused, alias unchanged.
        let o = promote(
            Path::new("weak.psm"),
            &dir,
            "champion",
            Some(&g),
            &mut || {},
        )
        .unwrap();
        assert!(!o.promoted && !o.copied, "{o:?}");
        let reg = Registry::load(&dir).unwrap();
        assert_eq!(reg.aliases["champion"], "strong.psm");
        assert_eq!(
            resolve_model_path(Path::new("@champion"), &dir).unwrap(),
            dir.join("strong.psm")
        );

        // History: three attempts, the last refused with its gate figures.
        let h = &reg.history;
        assert_eq!(h.len(), 3);
        assert_eq!(
            h.iter().map(|p| p.promoted).collect::<Vec<_>>(),
            vec![true, true, false]
        );
        let last = h[2].gate.as_ref().unwrap();
        assert!(!last.passed && last.difference < 0.0 && last.metric == "map");
        assert_eq!(h[2].previous.as_deref(), Some("strong.psm"));
        assert!(h[0].gate.is_none());

        // Promoting the champion again changes nothing and records nothing.
        let o = promote(
            Path::new("@champion"),
            &dir,
            "champion",
            Some(&g),
            &mut || {},
        )
        .unwrap();
        assert!(o.unchanged);
        assert_eq!(Registry::load(&dir).unwrap().history.len(), 3);

        // Without a gate, any model can be set (a rollback).
        let o = promote(Path::new("weak.psm"), &dir, "champion", None, &mut || {}).unwrap();
        assert!(o.promoted);
        assert_eq!(
            Registry::load(&dir).unwrap().aliases["champion"],
            "weak.psm"
        );
    }

    #[test]
    fn import_refuses_to_overwrite_a_different_file() {
        let t = tempfile::tempdir().unwrap();
        let work = t.path().join("work");
        let dir = t.path().join("models");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        let (strong, _) = strong_weak(&work);
        assert!(import_model(&strong, &dir).unwrap().copied);
        assert_eq!(
            std::fs::read(&strong).unwrap(),
            std::fs::read(dir.join("strong.psm")).unwrap()
        );
        // The same bytes again: reused.
        assert!(!import_model(&strong, &dir).unwrap().copied);
        // Another model under the same name: refused, the old file kept.
        let other = save_model(&work, "other.psm", &["char_ngrams=[0, 0]"]);
        std::fs::rename(&other, &strong).unwrap();
        let e = import_model(&strong, &dir).unwrap_err().to_string();
        assert!(e.contains("already exists and differs"), "{e}");
        assert_ne!(
            std::fs::read(&strong).unwrap(),
            std::fs::read(dir.join("strong.psm")).unwrap()
        );
    }

    #[test]
    fn bad_alias_and_missing_model_are_input_errors() {
        let t = tempfile::tempdir().unwrap();
        let e = promote(
            Path::new("nope.psm"),
            t.path(),
            "champion",
            None,
            &mut || {},
        )
        .unwrap_err();
        assert!(
            e.is_user_error() && e.to_string().contains("nope.psm"),
            "{e}"
        );
        let e = promote(Path::new("nope.psm"), t.path(), "a b", None, &mut || {}).unwrap_err();
        assert!(e.to_string().contains("alias \"a b\""), "{e}");
    }
}
