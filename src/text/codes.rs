//! Product-code normalisation: joins the pieces of a model number so that
//! `KX-TS3282B`, `KXTS3282B` and `kx ts3282b` all produce `kxts3282b`.

use super::tokenize::Token;

/// Longest joined code we emit; longer joins are sentences, not codes.
const MAX_CODE_LEN: usize = 24;
/// A digit-free piece this short next to a coded piece is taken as part of
/// the code (`kx` in `kx ts3282b`); longer ones are ordinary words.
const MAX_PREFIX_LEN: usize = 4;
/// Up to this many tokens and joins, looking one up is a scan, not a set.
const SCAN_LIMIT: usize = 64;

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
    // What exists is the tokens and the joins already emitted. A scan for
    // a title's few tokens (no allocation); a set once there are many: a
    // 1 MB field has ~100k tokens and as many joins.
    let mut seen: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
    let mut exists = |s: &str, out: &[String]| {
        if tokens.len() + out.len() <= SCAN_LIMIT && seen.is_empty() {
            return tokens.iter().any(|t| t.text == s) || out.iter().any(|o| o == s);
        }
        if seen.is_empty() {
            seen.extend(tokens.iter().map(|t| t.text.to_string()));
            seen.extend(out.iter().cloned());
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
            if joined.len() <= MAX_CODE_LEN && !exists(&joined, out) {
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
        if !exists(&joined, out) {
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
    fn a_join_is_emitted_once_with_few_or_many_tokens() {
        // "ab-12" and "ab 12" both join to ab12; "ab12" itself is a token.
        assert_eq!(codes("ab-12 x ab-12"), vec!["ab12", "12x"]);
        assert_eq!(codes("ab12 ab-12"), vec!["ab12ab"]);
        // The same past the scan limit, where a set answers.
        let many = "ab-12 ".repeat(SCAN_LIMIT) + "cd-34 ab12";
        assert_eq!(codes(&many), vec!["cd34", "12ab", "12cd", "34ab12"]);
    }

    #[test]
    fn long_joins_are_dropped() {
        assert!(codes("abcdefghijklmnop 1234567890123").is_empty());
    }
}
