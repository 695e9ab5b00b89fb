//! The preprocessing pipeline: text in, weighted tokens out, one stage a
//! file. [`Analyzer::trace`] records what every stage produced; it runs the
//! very same code as [`Analyzer::analyze`], so the trace cannot drift.

mod codes;
mod normalize;
mod options;
mod stopwords;
mod tokenize;

pub use options::PreprocessOptions;
pub use stopwords::ENGLISH as ENGLISH_STOPWORDS;

use crate::error::{Error, Result};
use rustc_hash::FxHashSet;
use serde::Serialize;
use std::borrow::Cow;
use std::path::Path;

/// What kind of feature a token is. The kind is the first byte of a token's
/// vocabulary key so kinds never collide (`w` word, `n` n-gram, `c` char).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// A single word, or a joined product code.
    Word,
    /// A word n-gram (n >= 2), words separated by a space.
    Ngram,
    /// A character n-gram inside a word; a space marks the word's edge.
    Char,
}

impl TokenKind {
    fn prefix(self) -> char {
        match self {
            TokenKind::Word => 'w',
            TokenKind::Ngram => 'n',
            TokenKind::Char => 'c',
        }
    }

    /// The kind of a vocabulary key.
    pub fn of_key(key: &str) -> TokenKind {
        match key.as_bytes().first() {
            Some(b'n') => TokenKind::Ngram,
            Some(b'c') => TokenKind::Char,
            _ => TokenKind::Word,
        }
    }

    /// Lower-case name, as used in JSON and tables.
    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Word => "word",
            TokenKind::Ngram => "ngram",
            TokenKind::Char => "char",
        }
    }
}

/// The token text of a vocabulary key (the key without its kind byte).
pub fn key_text(key: &str) -> &str {
    key.get(1..).unwrap_or("")
}

/// One stage of a trace: its name and the text or tokens it produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceStage {
    pub stage: String,
    pub output: Vec<String>,
}

/// What [`Analyzer::analyze_pieces`] reports: a finished key, or a word
/// whose character n-grams the caller expands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Key(&'a str),
    CharWord(&'a str),
}

/// A configured pipeline. Cheap to share between threads.
pub struct Analyzer {
    opts: PreprocessOptions,
    stemmer: Option<rust_stemmers::Stemmer>,
    stopwords: FxHashSet<String>,
}

/// Snowball languages accepted by `stemmer`.
pub const STEMMER_LANGUAGES: &[&str] = &[
    "arabic",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
];

fn stemmer_for(name: &str) -> Option<rust_stemmers::Algorithm> {
    use rust_stemmers::Algorithm::*;
    Some(match name {
        "arabic" => Arabic,
        "danish" => Danish,
        "dutch" => Dutch,
        "english" => English,
        "finnish" => Finnish,
        "french" => French,
        "german" => German,
        "greek" => Greek,
        "hungarian" => Hungarian,
        "italian" => Italian,
        "norwegian" => Norwegian,
        "portuguese" => Portuguese,
        "romanian" => Romanian,
        "russian" => Russian,
        "spanish" => Spanish,
        "swedish" => Swedish,
        "tamil" => Tamil,
        "turkish" => Turkish,
        _ => return None,
    })
}

impl PreprocessOptions {
    /// Checks every value and reads a stopword file into `stopword_list`,
    /// so a trained model never depends on the file again.
    pub fn resolve(&mut self) -> Result<()> {
        let bad = |key: &str, value: String, fix: &str| {
            Error::input(format!("preprocess.{key} = {value} is not valid: {fix}"))
        };
        match self.stopwords.as_str() {
            "none" | "english" => self.stopword_list.clear(),
            other => match other.strip_prefix("file:") {
                Some(path) => {
                    self.stopword_list = stopwords::read_file(Path::new(path))?;
                    self.stopwords = "custom".to_string();
                }
                None if other == "custom" => {}
                None => {
                    return Err(bad(
                        "stopwords",
                        format!("{other:?}"),
                        "use \"none\", \"english\" or \"file:PATH\"",
                    ));
                }
            },
        }
        if self.stemmer != "none" && stemmer_for(&self.stemmer).is_none() {
            return Err(bad(
                "stemmer",
                format!("{:?}", self.stemmer),
                &format!("use \"none\" or one of {}", STEMMER_LANGUAGES.join(", ")),
            ));
        }
        let [a, b] = self.word_ngrams;
        if a == 0 || a > b || b > 5 {
            return Err(bad(
                "word_ngrams",
                format!("[{a}, {b}]"),
                "use [min, max] with 1 <= min <= max <= 5, e.g. [1, 2]",
            ));
        }
        let [a, b] = self.char_ngrams;
        if !(a == 0 && b == 0) && (a == 0 || a > b || b > 10) {
            return Err(bad(
                "char_ngrams",
                format!("[{a}, {b}]"),
                "use [0, 0] for off or [min, max] with 1 <= min <= max <= 10, e.g. [3, 5]",
            ));
        }
        if !(self.char_weight.is_finite() && self.char_weight > 0.0) {
            return Err(bad(
                "char_weight",
                self.char_weight.to_string(),
                "use a positive number, e.g. 1.0",
            ));
        }
        Ok(())
    }
}

impl Analyzer {
    /// Builds the pipeline; fails on invalid options.
    pub fn new(opts: &PreprocessOptions) -> Result<Self> {
        let mut opts = opts.clone();
        opts.resolve()?;
        let stemmer = stemmer_for(&opts.stemmer).map(rust_stemmers::Stemmer::create);
        let stopwords: FxHashSet<String> = match opts.stopwords.as_str() {
            "english" => ENGLISH_STOPWORDS.iter().map(|s| s.to_string()).collect(),
            "custom" => opts.stopword_list.iter().cloned().collect(),
            _ => FxHashSet::default(),
        };
        Ok(Analyzer {
            opts,
            stemmer,
            stopwords,
        })
    }

    /// The options this analyzer runs with (stopword files resolved).
    pub fn options(&self) -> &PreprocessOptions {
        &self.opts
    }

    /// Runs the pipeline and calls `emit(key)` for every token occurrence.
    /// Keys carry their kind byte (see [`TokenKind`]).
    pub fn analyze(&self, text: &str, emit: &mut dyn FnMut(&str)) {
        self.run(text, None, &mut |piece| match piece {
            Piece::Key(k) => emit(k),
            Piece::CharWord(w) => self.char_grams(w, emit),
        });
    }

    /// [`Analyzer::analyze`], except that each word's character n-grams
    /// come as one [`Piece::CharWord`] for the caller to expand with
    /// [`Analyzer::char_grams`] (or from a cache: a catalogue repeats its
    /// words, and a word's n-grams never change). The keys are the same.
    pub fn analyze_pieces(&self, text: &str, emit: &mut dyn FnMut(Piece<'_>)) {
        self.run(text, None, emit);
    }

    /// The character n-gram keys of one word (as the char stage emits them).
    pub fn char_grams(&self, word: &str, emit: &mut dyn FnMut(&str)) {
        let [cmin, cmax] = self.opts.char_ngrams;
        if cmin == 0 {
            return;
        }
        let mut padded: Vec<char> = Vec::with_capacity(word.len() + 2);
        padded.push(' ');
        padded.extend(word.chars());
        padded.push(' ');
        let mut key = String::new();
        for n in cmin..=cmax {
            if padded.len() < n {
                // Like scikit-learn's char_wb: a short word counts once, whole.
                key.clear();
                key.push(TokenKind::Char.prefix());
                key.extend(padded.iter());
                emit(&key);
                break;
            }
            for window in padded.windows(n) {
                key.clear();
                key.push(TokenKind::Char.prefix());
                key.extend(window.iter());
                emit(&key);
            }
        }
    }

    /// Weight of a token kind in an item's vector (`char_weight` for
    /// character n-grams, 1 otherwise).
    pub fn kind_weight(&self, kind: TokenKind) -> f32 {
        match kind {
            TokenKind::Char => self.opts.char_weight,
            _ => 1.0,
        }
    }

    /// Every stage's output for `text`, ending with the final tokens.
    pub fn trace(&self, text: &str) -> Vec<TraceStage> {
        let mut stages = Vec::new();
        let mut finals = Vec::new();
        let mut push = |key: &str| {
            finals.push(format!(
                "{}:{}",
                TokenKind::of_key(key).name(),
                key_text(key)
            ))
        };
        self.run(text, Some(&mut stages), &mut |piece| match piece {
            Piece::Key(k) => push(k),
            Piece::CharWord(w) => self.char_grams(w, &mut push),
        });
        stages.push(TraceStage {
            stage: "tokens".into(),
            output: finals,
        });
        stages
    }

    /// Normalises `text` into `a` (`b` is scratch space).
    fn normalise(
        &self,
        text: &str,
        trace: &mut Option<&mut Vec<TraceStage>>,
        mut a: String,
        mut b: String,
    ) -> (String, String) {
        let mut record = |name: &str, s: &str| {
            if let Some(t) = trace.as_deref_mut() {
                t.push(TraceStage {
                    stage: name.into(),
                    output: vec![s.to_string()],
                });
            }
        };
        record("input", text);
        normalize::clean(text, &mut a);
        record("clean", &a);
        // NFKC and accent folding are identities on ASCII: skip the work.
        if !a.is_ascii() {
            if self.opts.nfkc {
                normalize::nfkc(&a, &mut b);
                std::mem::swap(&mut a, &mut b);
                record("nfkc", &a);
            }
            if self.opts.fold_accents {
                normalize::fold_accents(&a, &mut b);
                std::mem::swap(&mut a, &mut b);
                record("fold_accents", &a);
            }
        }
        if self.opts.lowercase {
            normalize::lowercase(&a, &mut b);
            std::mem::swap(&mut a, &mut b);
            record("lowercase", &a);
        }
        (a, b)
    }

    fn run(
        &self,
        text: &str,
        mut trace: Option<&mut Vec<TraceStage>>,
        emit: &mut dyn FnMut(Piece<'_>),
    ) {
        // Buffers of earlier calls on this thread (a nested call, from
        // `emit`, starts with empty ones).
        let mut scratch = SCRATCH.take().unwrap_or_default();
        let (norm, spare) = self.normalise(
            text,
            &mut trace,
            std::mem::take(&mut scratch.norm),
            std::mem::take(&mut scratch.spare),
        );
        let mut tokens = recycle_tokens(std::mem::take(&mut scratch.tokens));
        let mut words = recycle(std::mem::take(&mut scratch.words));
        let mut codes = std::mem::take(&mut scratch.codes);
        let mut key = std::mem::take(&mut scratch.key);
        let mut record = |name: &str, items: &mut dyn Iterator<Item = &str>| {
            if let Some(t) = trace.as_deref_mut() {
                t.push(TraceStage {
                    stage: name.into(),
                    output: items.map(str::to_string).collect(),
                });
            }
        };
        tokenize::tokenize(&norm, &mut tokens);
        record("tokenize", &mut tokens.iter().map(|t| t.text));

        codes.clear();
        if self.opts.codes {
            codes::join_codes(&tokens, &mut codes);
            record("codes", &mut codes.iter().map(String::as_str));
        }

        let min_len = self.opts.min_token_len;
        words.extend(
            tokens
                .iter()
                .map(|t| t.text)
                .filter(|w| min_len <= 1 || w.chars().count() >= min_len)
                .filter(|w| !self.stopwords.contains(*w)),
        );
        if min_len > 1 || !self.stopwords.is_empty() {
            record("stopwords", &mut words.iter().copied());
        }

        // Without a stemmer the words are the stems: no copies.
        let stems: Vec<Cow<str>> = match &self.stemmer {
            Some(st) => words
                .iter()
                .map(|w| {
                    if w.chars().any(char::is_numeric) {
                        Cow::Borrowed(*w)
                    } else {
                        st.stem(w)
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        if self.stemmer.is_some() {
            record("stem", &mut stems.iter().map(|s| s.as_ref()));
        }

        let mut put = |kind: TokenKind, parts: &[&str]| {
            key.clear();
            key.push(kind.prefix());
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    key.push(' ');
                }
                key.push_str(p);
            }
            emit(Piece::Key(&key));
        };

        let [nmin, nmax] = self.opts.word_ngrams;
        let stem_refs: Cow<[&str]> = match &self.stemmer {
            Some(_) => Cow::Owned(stems.iter().map(|s| s.as_ref()).collect()),
            None => Cow::Borrowed(&words),
        };
        for n in nmin..=nmax {
            let kind = if n == 1 {
                TokenKind::Word
            } else {
                TokenKind::Ngram
            };
            for window in stem_refs.windows(n) {
                put(kind, window);
            }
        }
        if nmin == 1 {
            for c in &codes {
                put(TokenKind::Word, &[c.as_str()]);
            }
        }

        if self.opts.char_ngrams[0] > 0 {
            for word in &words {
                emit(Piece::CharWord(word));
            }
        }
        drop(stem_refs);
        scratch.tokens = recycle_tokens(tokens);
        scratch.words = recycle(words);
        scratch.codes = codes;
        scratch.key = key;
        scratch.norm = norm;
        scratch.spare = spare;
        scratch.drop_big_buffers();
        SCRATCH.set(Some(scratch));
    }
}

/// [`Analyzer::run`]'s buffers, kept between calls on a thread: a title's
/// analysis allocated six of them, and training analyses millions.
#[derive(Default)]
struct Scratch {
    norm: String,
    spare: String,
    tokens: Vec<tokenize::Token<'static>>,
    words: Vec<&'static str>,
    codes: Vec<String>,
    key: String,
}

/// Buffers above this many bytes are not kept: one long field (up to
/// `MAX_FIELD_BYTES`) must not leave megabytes on every thread.
const SCRATCH_KEEP_BYTES: usize = 64 << 10;

impl Scratch {
    fn drop_big_buffers(&mut self) {
        fn bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        for s in [&mut self.norm, &mut self.spare, &mut self.key] {
            if s.capacity() > SCRATCH_KEEP_BYTES {
                *s = String::new();
            }
        }
        if bytes(&self.tokens) > SCRATCH_KEEP_BYTES {
            self.tokens = Vec::new();
        }
        if bytes(&self.words) > SCRATCH_KEEP_BYTES {
            self.words = Vec::new();
        }
        if bytes(&self.codes) > SCRATCH_KEEP_BYTES {
            self.codes = Vec::new();
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::Cell<Option<Box<Scratch>>> = const { std::cell::Cell::new(None) };
}

/// An emptied vector of borrowed values, as one of another lifetime: the
/// allocation is kept (the element types have the same layout, and
/// collecting a vector's own iterator reuses its buffer).
fn recycle<'b, T: ?Sized>(mut v: Vec<&T>) -> Vec<&'b T> {
    v.clear();
    v.into_iter().map(|_| -> &'b T { unreachable!() }).collect()
}

/// [`recycle`] for tokens.
fn recycle_tokens<'b>(mut v: Vec<tokenize::Token<'_>>) -> Vec<tokenize::Token<'b>> {
    v.clear();
    v.into_iter()
        .map(|_| -> tokenize::Token<'b> { unreachable!() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(opts: &PreprocessOptions, text: &str) -> Vec<String> {
        let a = Analyzer::new(opts).unwrap();
        let mut out = Vec::new();
        a.analyze(text, &mut |k| out.push(k.to_string()));
        out
    }

    #[test]
    fn recycled_buffers_keep_their_allocation() {
        let text = String::from("a b");
        let mut v: Vec<&str> = Vec::with_capacity(64);
        v.extend(text.split(' '));
        let (ptr, cap) = (v.as_ptr() as usize, v.capacity());
        let w: Vec<&'static str> = recycle(v);
        assert!(w.is_empty());
        assert_eq!((w.as_ptr() as usize, w.capacity()), (ptr, cap));
        let mut t = Vec::with_capacity(16);
        tokenize::tokenize(&text, &mut t);
        let (ptr, cap) = (t.as_ptr() as usize, t.capacity());
        let u = recycle_tokens(t);
        assert!(u.is_empty());
        assert_eq!((u.as_ptr() as usize, u.capacity()), (ptr, cap));
    }

    #[test]
    fn a_long_text_leaves_no_big_buffers_on_the_thread() {
        let a = Analyzer::new(&PreprocessOptions::default()).unwrap();
        let long = "word ".repeat(100_000);
        let mut n = 0;
        a.analyze(&long, &mut |_| n += 1);
        assert!(n >= 100_000);
        let kept = SCRATCH.take().expect("the run put its buffers back");
        assert!(kept.norm.capacity() <= SCRATCH_KEEP_BYTES);
        assert!(
            kept.tokens.capacity() * std::mem::size_of::<tokenize::Token<'_>>()
                <= SCRATCH_KEEP_BYTES
        );
        // A short text's buffers are kept for the next call.
        SCRATCH.set(Some(kept));
        a.analyze("Sony WH-1000XM4 Headphones", &mut |_| {});
        let kept = SCRATCH.take().expect("the run put its buffers back");
        assert!(kept.norm.capacity() > 0 && kept.tokens.capacity() > 0);
    }

    #[test]
    fn nested_and_repeated_runs_give_the_same_keys() {
        // The second run on a thread reuses the first's buffers; a run
        // started from inside another's `emit` gets fresh ones.
        let a = Analyzer::new(&PreprocessOptions::default()).unwrap();
        let texts = [
            "Sony WH-1000XM4 Headphones, Black",
            "ÉCRAN 24\" Samsung",
            "",
            "x",
        ];
        let alone: Vec<Vec<String>> = texts
            .iter()
            .map(|t| {
                let mut out = Vec::new();
                a.analyze(t, &mut |k| out.push(k.to_string()));
                out
            })
            .collect();
        for (i, t) in texts.iter().enumerate() {
            let mut outer = Vec::new();
            let mut inner = Vec::new();
            a.analyze(t, &mut |k| {
                outer.push(k.to_string());
                if outer.len() == 1 {
                    let next = texts[(i + 1) % texts.len()];
                    a.analyze(next, &mut |k| inner.push(k.to_string()));
                }
            });
            assert_eq!(outer, alone[i], "{t}");
            if !alone[i].is_empty() {
                assert_eq!(inner, alone[(i + 1) % texts.len()], "{t}");
            }
        }
    }

    #[test]
    fn default_pipeline_words_and_codes() {
        let o = PreprocessOptions {
            word_ngrams: [1, 1],
            char_ngrams: [0, 0],
            ..PreprocessOptions::default()
        };
        assert_eq!(
            keys(&o, "Panasonic KX-TS3282B Phone"),
            vec!["wpanasonic", "wkx", "wts3282b", "wphone", "wkxts3282b"]
        );
    }

    #[test]
    fn product_codes_meet_in_all_spellings() {
        let o = PreprocessOptions::default();
        for text in ["KX-TS3282B", "KXTS3282B", "kx ts3282b"] {
            assert!(keys(&o, text).contains(&"wkxts3282b".to_string()), "{text}");
        }
    }

    #[test]
    fn stopwords_stemming_and_ngrams() {
        let o = PreprocessOptions {
            stopwords: "english".into(),
            stemmer: "english".into(),
            word_ngrams: [1, 2],
            char_ngrams: [0, 0],
            ..PreprocessOptions::default()
        };
        assert_eq!(
            keys(&o, "Cases for the Phones 2"),
            vec!["wcase", "wphone", "w2", "ncase phone", "nphone 2"]
        );
    }

    #[test]
    fn char_ngrams_inside_word_boundaries() {
        let o = PreprocessOptions {
            char_ngrams: [3, 4],
            word_ngrams: [1, 1],
            codes: false,
            ..PreprocessOptions::default()
        };
        let k = keys(&o, "ab tv");
        let chars: Vec<&str> = k
            .iter()
            .filter(|k| k.starts_with('c'))
            .map(|k| &k[1..])
            .collect();
        assert_eq!(chars, vec![" ab", "ab ", " ab ", " tv", "tv ", " tv "]);
        let k = keys(&o, "a");
        assert!(k.contains(&"c a ".to_string()));
    }

    #[test]
    fn accents_and_invisibles_do_not_split_matches() {
        let o = PreprocessOptions::default();
        assert_eq!(keys(&o, "Cafe\u{AD}tière"), keys(&o, "CAFETIERE"));
        assert_eq!(keys(&o, "ＳＯＮＹ\u{A0}TV"), keys(&o, "sony tv"));
    }

    #[test]
    fn trace_ends_with_the_analyzed_tokens() {
        let o = PreprocessOptions {
            word_ngrams: [1, 1],
            char_ngrams: [0, 0],
            stopwords: "english".into(),
            stemmer: "english".into(),
            ..PreprocessOptions::default()
        };
        let a = Analyzer::new(&o).unwrap();
        let trace = a.trace("Crème for Phones");
        let names: Vec<&str> = trace.iter().map(|s| s.stage.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "input",
                "clean",
                "nfkc",
                "fold_accents",
                "lowercase",
                "tokenize",
                "codes",
                "stopwords",
                "stem",
                "tokens"
            ]
        );
        assert_eq!(trace[4].output, vec!["creme for phones"]);
        assert_eq!(
            trace.last().unwrap().output,
            vec!["word:creme", "word:phone"]
        );
    }

    #[test]
    fn invalid_options_are_rejected_with_the_key() {
        for (o, key) in [
            (
                PreprocessOptions {
                    stemmer: "klingon".into(),
                    ..Default::default()
                },
                "stemmer",
            ),
            (
                PreprocessOptions {
                    word_ngrams: [2, 1],
                    ..Default::default()
                },
                "word_ngrams",
            ),
            (
                PreprocessOptions {
                    char_ngrams: [0, 3],
                    ..Default::default()
                },
                "char_ngrams",
            ),
            (
                PreprocessOptions {
                    stopwords: "german".into(),
                    ..Default::default()
                },
                "stopwords",
            ),
        ] {
            let err = Analyzer::new(&o).err().unwrap();
            assert!(err.to_string().contains(key), "{err}");
            assert!(err.is_user_error());
        }
    }
}
