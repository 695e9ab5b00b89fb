//! The bundled sample: a real catalogue, its judgements and config in
//! `sample-data/`, and its model, built on first use (about 0.15 s) instead
//! of being committed as a 10 MB binary.

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::jobs::NoProgress;
use crate::model::{FORMAT_VERSION, Model, ModelConfig, effective_config, format, train};
use std::path::{Path, PathBuf};

/// Where the sample lives: `$PRODSIM_SAMPLE_DIR`, else `./sample-data` if it
/// exists, else the source tree's `sample-data` (for `cargo run`).
pub fn sample_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PRODSIM_SAMPLE_DIR") {
        return PathBuf::from(d);
    }
    let local = PathBuf::from("sample-data");
    if local.join("catalog.csv").is_file() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

/// Paths of the sample's files.
pub struct Sample {
    pub catalog: PathBuf,
    pub config: PathBuf,
    pub judgements: PathBuf,
    pub model: PathBuf,
    /// The analyst's labels on the sample (git-ignored), seeded from the
    /// gold judgements on first use so the evaluation screen has data.
    pub labels: PathBuf,
}

impl Sample {
    /// The sample in `dir`.
    pub fn at(dir: &Path) -> Sample {
        Sample {
            catalog: dir.join("catalog.csv"),
            config: dir.join("config.toml"),
            judgements: dir.join("judgements.csv"),
            model: dir.join("model.psm"),
            labels: dir.join("labels.csv"),
        }
    }
}

/// Opens the sample model, training it first when it is missing or no
/// longer matches the catalogue, the config or this prodsim's format.
/// Returns the model and whether it was (re)built.
pub fn ensure_model(sample: &Sample) -> Result<(Model, bool)> {
    if !sample.catalog.is_file() {
        return Err(Error::input(format!(
            "{}: sample catalogue not found; run from the prodsim repository or set PRODSIM_SAMPLE_DIR",
            sample.catalog.display()
        )));
    }
    let config = ModelConfig::from_file(&sample.config)?;
    let catalog = Catalog::load(&sample.catalog, &config.catalog_options()?)?;
    if let Ok(model) = format::load(&sample.model)
        && model.meta.format_version == FORMAT_VERSION
        && model.meta.catalog_fingerprint == catalog.fingerprint
        && model.meta.prodsim_version == env!("CARGO_PKG_VERSION")
        && effective_config(&catalog, &config).is_ok_and(|c| c == model.config)
    {
        return Ok((model, false));
    }
    let (model, _) = train(&catalog, &config, &NoProgress)?;
    format::save(&model, &sample.model)?;
    Ok((model, true))
}

/// Opens the sample's label file, creating it from the gold judgements the
/// first time (the committed judgements file itself is never modified).
pub fn open_labels(sample: &Sample, analyst: &str) -> Result<crate::labels::LabelStore> {
    if !sample.labels.exists() && sample.judgements.is_file() {
        let bytes = std::fs::read(&sample.judgements)
            .map_err(|e| Error::io(&sample.judgements, "read the sample judgements", e))?;
        format::write_atomic(&sample.labels, &bytes)?;
    }
    crate::labels::LabelStore::open(&sample.labels, analyst)
}
