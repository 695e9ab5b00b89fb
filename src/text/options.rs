//! `PreprocessOptions`: the serde-readable description of the text pipeline.

use serde::{Deserialize, Serialize};

/// How product text is turned into tokens. Read from the `[preprocess]`
/// table of a TOML config and from `--set preprocess.KEY=VALUE`.
///
/// The defaults (words and word pairs, character 2-4-grams at weight 0.7,
/// code joining, no stemming or stopwords) were chosen with
/// `scripts/quality.sh` on two real product-matching benchmarks, where they
/// beat every scikit-learn TF-IDF configuration tried; see README.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PreprocessOptions {
    /// Unicode compatibility normalisation (NFKC): full-width letters,
    /// ligatures and superscripts become their plain forms.
    pub nfkc: bool,
    /// Remove diacritics (é -> e) so spellings with and without accents meet.
    pub fold_accents: bool,
    /// Lower-case everything.
    pub lowercase: bool,
    /// `none`, `english`, or `file:PATH` (one word per line, `#` comments).
    /// A file's words are copied into the model at training time.
    pub stopwords: String,
    /// Words of a stopword file, filled in at training time; empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stopword_list: Vec<String>,
    /// `none` or a Snowball language (`english`, `french`, `german`, ...).
    /// Tokens that contain a digit are never stemmed.
    pub stemmer: String,
    /// Word n-gram range `[min, max]`; `[1, 1]` is single words.
    pub word_ngrams: [usize; 2],
    /// Character n-gram range inside word boundaries, `[0, 0]` = off.
    pub char_ngrams: [usize; 2],
    /// Weight of character n-grams relative to words in an item's vector.
    pub char_weight: f32,
    /// Product-code normalisation: `KX-TS3282B`, `KXTS3282B` and `kx ts3282b`
    /// all also yield the token `kxts3282b`.
    pub codes: bool,
    /// Tokens shorter than this (in characters) are dropped before n-grams.
    pub min_token_len: usize,
}

impl Default for PreprocessOptions {
    fn default() -> Self {
        PreprocessOptions {
            nfkc: true,
            fold_accents: true,
            lowercase: true,
            stopwords: "none".to_string(),
            stopword_list: Vec::new(),
            stemmer: "none".to_string(),
            word_ngrams: [1, 2],
            char_ngrams: [2, 4],
            char_weight: 0.7,
            codes: true,
            min_token_len: 1,
        }
    }
}
