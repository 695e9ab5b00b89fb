//! Product-code normalisation: joins the pieces of a model number so that
//! `KX-TS3282B`, `KXTS3282B` and `kx ts3282b` all produce `kxts3282b`.

use super::tokenize::Token;

/// Longest joined code we emit; longer joins are sentences, not codes.
const MAX_CODE_LEN: usize = 24;
/// A digit-free piece this short next to a coded piece is taken as part of
/// the code (`kx` in `kx ts3282b`); longer ones are ordinary words.
const MAX_PREFIX_LEN: usize = 4;

/// Emits joined code tokens for `tokens`:
/// - all pieces of one punctuation-joined group (`kx-ts3282b`) if any piece
///   has a digit;
/// - adjacent pairs across a space that look like a split code: one side
///   has a digit and the other has one too or is a short prefix
///   (`kx ts3282b`, `920 009294`, `windows 7`); `ts3282b phone` is not.
///
/// Joins equal to a token already present are skipped: they add nothing.
pub fn join_codes(tokens: &[Token<'_>], out: &mut Vec<String>) {
    out.clear();
    // A set, not a scan: a 1 MB field has ~100k tokens and as many joins.
    let mut seen: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
    let mut exists = |s: &str| {
        if seen.is_empty() {
            seen.extend(tokens.iter().map(|t| t.text.to_string()));
        }
        !seen.insert(s.to_string())
    };
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i + 1;
        while j < tokens.len() && tokens[j].group == tokens[i].group {
            j += 1;
        }
        if j - i >= 2 && tokens[i..j].iter().any(|t| t.has_digit) {
            let joined: String = tokens[i..j].iter().map(|t| t.text).collect();
            if joined.len() <= MAX_CODE_LEN && !exists(&joined) {
                out.push(joined);
            }
        }
        i = j;
    }
    for pair in tokens.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let short = |t: &Token<'_>| t.text.chars().count() <= MAX_PREFIX_LEN;
        let code_like = (a.has_digit && (b.has_digit || short(&b))) || (b.has_digit && short(&a));
        if a.group == b.group || !code_like {
            continue;
        }
        if a.text.len() + b.text.len() > MAX_CODE_LEN {
            continue;
        }
        let joined = format!("{}{}", a.text, b.text);
        if !exists(&joined) {
            out.push(joined);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tokenize::tokenize;
    use super::*;

    fn codes(s: &str) -> Vec<String> {
        let mut toks = Vec::new();
        tokenize(s, &mut toks);
        let mut out = Vec::new();
        join_codes(&toks, &mut out);
        out
    }

    #[test]
    fn the_three_spellings_meet() {
        assert_eq!(codes("kx-ts3282b"), vec!["kxts3282b"]);
        assert_eq!(codes("kxts3282b"), Vec::<String>::new());
        assert_eq!(codes("kx ts3282b"), vec!["kxts3282b"]);
    }

    #[test]
    fn words_without_digits_are_not_joined() {
        assert!(codes("wi-fi black case").is_empty());
    }

    #[test]
    fn groups_and_pairs() {
        assert_eq!(codes("sony wh-1000xm4 v2"), vec!["wh1000xm4", "1000xm4v2"]);
    }

    #[test]
    fn long_joins_are_dropped() {
        assert!(codes("abcdefghijklmnop 1234567890123").is_empty());
    }
}
