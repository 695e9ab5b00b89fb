//! Stopword lists: the built-in English list and user files.

use crate::error::{Error, Result};
use std::path::Path;

/// A short English list written for product text: function words only.
/// Words that carry product meaning in retail ("for", "with" excepted) such
/// as "pack", "set", "one", "all" are deliberately *not* on it.
pub const ENGLISH: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Reads a stopword file: one word per line, blank lines and `#` comments
/// ignored. Words are lower-cased so they match lower-cased tokens.
pub fn read_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            Error::input(format!(
                "{}: stopword file is not valid UTF-8; convert it, e.g. `iconv -f WINDOWS-1252 -t UTF-8`",
                path.display()
            ))
        } else {
            Error::io(path, "read the stopword file", e)
        }
    })?;
    let mut words: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    words.sort();
    words.dedup();
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_list_is_sorted_lowercase_and_unique() {
        let mut sorted = ENGLISH.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, ENGLISH);
        assert!(
            ENGLISH
                .iter()
                .all(|w| w.chars().all(|c| c.is_ascii_lowercase()))
        );
    }

    #[test]
    fn reads_file_with_comments() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("stop.txt");
        std::fs::write(&p, "# mine\nThe\n\nof # trailing\nthe\n").unwrap();
        assert_eq!(read_file(&p).unwrap(), vec!["of", "the"]);
    }

    #[test]
    fn missing_file_is_a_user_error() {
        let err = read_file(Path::new("/nonexistent/stop.txt")).unwrap_err();
        assert!(err.is_user_error());
        assert!(err.to_string().contains("/nonexistent/stop.txt"));
    }
}
