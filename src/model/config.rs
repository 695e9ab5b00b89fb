//! `ModelConfig`: everything that decides a model, read from TOML and
//! `--set key=value`, hashed into the model's identity.

use crate::catalog::{CatalogOptions, FieldSpec, parse_fields};
use crate::error::{Error, Result};
use crate::text::PreprocessOptions;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How token weights are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// tf x smooth idf, L2-normalised; score = cosine.
    Tfidf,
    /// Okapi BM25 with `k1` and `b`; query tokens weigh 1.
    Bm25,
}

/// Which tokens make it into the vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VocabularyOptions {
    /// Drop tokens found in fewer than this many items.
    pub min_df: u32,
    /// Drop tokens found in more than this share of items (0-1].
    pub max_df: f64,
    /// Keep only the most frequent tokens (by item count); 0 = no limit.
    pub max_features: usize,
}

impl Default for VocabularyOptions {
    fn default() -> Self {
        VocabularyOptions {
            min_df: 1,
            max_df: 1.0,
            max_features: 0,
        }
    }
}

/// Weighting scheme and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeightingOptions {
    pub scheme: Scheme,
    /// tfidf: use 1 + ln(tf) instead of tf.
    pub sublinear_tf: bool,
    /// bm25: term-frequency saturation.
    pub k1: f32,
    /// bm25: length normalisation.
    pub b: f32,
}

impl Default for WeightingOptions {
    fn default() -> Self {
        WeightingOptions {
            scheme: Scheme::Tfidf,
            sublinear_tf: true,
            k1: 1.2,
            b: 0.75,
        }
    }
}

/// The whole training configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Id column of the catalogue.
    pub id_column: String,
    /// Text fields with weights, `name:3,brand`; empty = detect the title.
    pub fields: String,
    pub preprocess: PreprocessOptions,
    pub vocabulary: VocabularyOptions,
    pub weighting: WeightingOptions,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            id_column: "id".into(),
            fields: String::new(),
            preprocess: PreprocessOptions::default(),
            vocabulary: VocabularyOptions::default(),
            weighting: WeightingOptions::default(),
        }
    }
}

impl ModelConfig {
    /// Reads a TOML config file; unknown keys are errors.
    pub fn from_file(path: &Path) -> Result<ModelConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(path, "read the config file", e))?;
        toml::from_str(&text).map_err(|e| {
            Error::input(format!(
                "{}: invalid config: {}",
                path.display(),
                e.to_string().trim()
            ))
        })
    }

    /// Every settable key, dotted, for messages and docs.
    pub fn keys() -> Vec<String> {
        let value = match toml::Value::try_from(ModelConfig::default()) {
            Ok(v) => v,
            Err(_) => return Vec::new(),
        };
        let mut out = Vec::new();
        if let toml::Value::Table(t) = value {
            for (k, v) in t {
                match v {
                    toml::Value::Table(inner) => {
                        out.extend(inner.keys().map(|ik| format!("{k}.{ik}")))
                    }
                    _ => out.push(k),
                }
            }
        }
        out.push("preprocess.stopword_list".into());
        out.sort();
        out
    }

    /// Applies `key=value`. The key is dotted (`preprocess.stemmer`) or a
    /// unique leaf name (`stemmer`); the value is a TOML literal or a bare
    /// string (`english`, `[1, 2]`, `0.5`, `true`).
    pub fn set(&mut self, assignment: &str) -> Result<()> {
        let (key, raw) = assignment.split_once('=').ok_or_else(|| {
            Error::input(format!(
                "--set {assignment:?}: expected KEY=VALUE, e.g. --set preprocess.stemmer=english"
            ))
        })?;
        let key = key.trim();
        let keys = Self::keys();
        let full = if keys.iter().any(|k| k == key) {
            key.to_string()
        } else {
            let matches: Vec<&String> = keys
                .iter()
                .filter(|k| k.rsplit('.').next() == Some(key))
                .collect();
            match matches.as_slice() {
                [one] => (*one).clone(),
                _ => {
                    return Err(Error::input(format!(
                        "--set {assignment:?}: unknown key {key:?}; known keys: {}",
                        keys.join(", ")
                    )));
                }
            }
        };
        let raw = raw.trim();
        let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_string()));
        let mut root = toml::Value::try_from(&*self)
            .map_err(|e| Error::input(format!("cannot apply --set: {e}")))?;
        let mut slot = &mut root;
        for part in full.split('.') {
            let table = slot.as_table_mut().ok_or_else(|| {
                Error::input(format!("--set {assignment:?}: {full} is not a table"))
            })?;
            slot = table
                .entry(part.to_string())
                .or_insert(toml::Value::String(String::new()));
        }
        *slot = value;
        let updated: ModelConfig = root.try_into().map_err(|e: toml::de::Error| {
            Error::input(format!(
                "--set {assignment:?}: bad value for {full}: {}",
                e.message().trim()
            ))
        })?;
        updated
            .check()
            .map_err(|e| Error::input(format!("--set {assignment:?}: {e}")))?;
        *self = updated;
        Ok(())
    }

    /// Checks values that serde's types alone cannot.
    pub fn check(&self) -> Result<()> {
        let v = &self.vocabulary;
        if v.min_df == 0 {
            return Err(Error::input(
                "vocabulary.min_df must be at least 1 (a count of items)",
            ));
        }
        if !(v.max_df > 0.0 && v.max_df <= 1.0) {
            return Err(Error::input(format!(
                "vocabulary.max_df = {} must be a share of items in (0, 1]",
                v.max_df
            )));
        }
        let w = &self.weighting;
        if !(w.k1.is_finite() && w.k1 >= 0.0) {
            return Err(Error::input(format!(
                "weighting.k1 = {} must be a number >= 0 (typical 1.2)",
                w.k1
            )));
        }
        if !(0.0..=1.0).contains(&w.b) {
            return Err(Error::input(format!(
                "weighting.b = {} must be between 0 and 1 (typical 0.75)",
                w.b
            )));
        }
        if !self.fields.trim().is_empty() {
            parse_fields(&self.fields)?;
        }
        self.preprocess.clone().resolve()?;
        Ok(())
    }

    /// The fields as specs; `None` when they are to be detected.
    pub fn field_specs(&self) -> Result<Option<Vec<FieldSpec>>> {
        if self.fields.trim().is_empty() {
            Ok(None)
        } else {
            parse_fields(&self.fields).map(Some)
        }
    }

    /// How to read a catalogue for this config.
    pub fn catalog_options(&self) -> Result<CatalogOptions> {
        Ok(CatalogOptions {
            id_column: Some(self.id_column.clone()),
            fields: self.field_specs()?,
        })
    }

    /// Canonical JSON, the input of the config hash.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_dotted_and_leaf_keys() {
        let mut c = ModelConfig::default();
        c.set("preprocess.stemmer=english").unwrap();
        c.set("word_ngrams=[1, 2]").unwrap();
        c.set("scheme=bm25").unwrap();
        c.set("k1=1.5").unwrap();
        c.set("vocabulary.min_df=2").unwrap();
        assert_eq!(c.preprocess.stemmer, "english");
        assert_eq!(c.preprocess.word_ngrams, [1, 2]);
        assert_eq!(c.weighting.scheme, Scheme::Bm25);
        assert_eq!(c.weighting.k1, 1.5);
        assert_eq!(c.vocabulary.min_df, 2);
    }

    #[test]
    fn set_rejects_unknown_keys_and_bad_values() {
        let mut c = ModelConfig::default();
        let e = c.set("stemer=english").unwrap_err().to_string();
        assert!(
            e.contains("unknown key \"stemer\"") && e.contains("preprocess.stemmer"),
            "{e}"
        );
        let e = c.set("scheme=cosine").unwrap_err().to_string();
        assert!(e.contains("weighting.scheme"), "{e}");
        let e = c.set("min_df=0").unwrap_err().to_string();
        assert!(e.contains("min_df"), "{e}");
        let e = c.set("stemmer=klingon").unwrap_err().to_string();
        assert!(e.contains("stemmer"), "{e}");
        assert!(c.set("novalue").is_err());
        assert_eq!(
            c,
            ModelConfig::default(),
            "failed sets leave the config alone"
        );
    }

    #[test]
    fn toml_round_trip_and_unknown_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "fields = \"name:2\"\n[preprocess]\nstemmer = \"english\"\n",
        )
        .unwrap();
        let c = ModelConfig::from_file(&p).unwrap();
        assert_eq!(c.fields, "name:2");
        assert_eq!(c.preprocess.stemmer, "english");
        std::fs::write(&p, "[preprocess]\nstemming = true\n").unwrap();
        let e = ModelConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("c.toml") && e.contains("stemming"), "{e}");
    }
}
