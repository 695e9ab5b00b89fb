//! Tokenisation: runs of letters and digits. Punctuation splits tokens but
//! keeps them in one *group* (what stood between two spaces), so the code
//! stage can join `kx-ts3282b` back together.

/// One token: a slice of the normalised text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    /// Index of the whitespace-delimited chunk the token came from.
    pub group: u32,
    pub has_digit: bool,
}

/// Splits `text` into tokens. A `.` between two digits stays inside the
/// token so decimals such as `15.6` remain one token.
pub fn tokenize<'a>(text: &'a str, out: &mut Vec<Token<'a>>) {
    out.clear();
    if text.is_ascii() {
        return tokenize_ascii(text, out);
    }
    let bytes = text.as_bytes();
    let mut group = 0u32;
    let mut start: Option<usize> = None;
    let mut has_digit = false;
    let mut prev: Option<char> = None;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let next = iter.peek().map(|&(_, n)| n);
        let keep = c.is_alphanumeric()
            || (c == '.'
                && start.is_some()
                && prev.is_some_and(|p| p.is_ascii_digit())
                && next.is_some_and(|n| n.is_ascii_digit()));
        if keep {
            if start.is_none() {
                start = Some(i);
                has_digit = false;
            }
            has_digit |= c.is_numeric();
        } else {
            if let Some(s) = start.take() {
                out.push(Token {
                    text: &text[s..i],
                    group,
                    has_digit,
                });
            }
            if c.is_whitespace() {
                group += 1;
            }
        }
        prev = Some(c);
    }
    if let Some(s) = start {
        out.push(Token {
            text: &text[s..bytes.len()],
            group,
            has_digit,
        });
    }
}

/// [`tokenize`] for ASCII text, byte by byte: on ASCII, `is_alphanumeric`,
/// `is_numeric` and `is_whitespace` are the ASCII tests below.
fn tokenize_ascii<'a>(text: &'a str, out: &mut Vec<Token<'a>>) {
    let bytes = text.as_bytes();
    let mut group = 0u32;
    let mut start: Option<usize> = None;
    let mut has_digit = false;
    for (i, &c) in bytes.iter().enumerate() {
        let keep = c.is_ascii_alphanumeric()
            || (c == b'.'
                && start.is_some()
                && i > 0
                && bytes[i - 1].is_ascii_digit()
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if keep {
            if start.is_none() {
                start = Some(i);
                has_digit = false;
            }
            has_digit |= c.is_ascii_digit();
        } else {
            if let Some(s) = start.take() {
                out.push(Token {
                    text: &text[s..i],
                    group,
                    has_digit,
                });
            }
            if matches!(c, b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r' | b' ') {
                group += 1;
            }
        }
    }
    if let Some(s) = start {
        out.push(Token {
            text: &text[s..],
            group,
            has_digit,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<(String, u32, bool)> {
        let mut v = Vec::new();
        tokenize(s, &mut v);
        v.iter()
            .map(|t| (t.text.to_string(), t.group, t.has_digit))
            .collect()
    }

    #[test]
    fn splits_on_punctuation_and_tracks_groups() {
        assert_eq!(
            toks("kx-ts3282b phone, black"),
            vec![
                ("kx".into(), 0, false),
                ("ts3282b".into(), 0, true),
                ("phone".into(), 1, false),
                ("black".into(), 2, false),
            ]
        );
    }

    #[test]
    fn keeps_decimals_together() {
        let t: Vec<String> = toks("15.6-inch 2.5. end.")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(t, vec!["15.6", "inch", "2.5", "end"]);
    }

    #[test]
    fn unicode_letters_are_tokens() {
        let t: Vec<String> = toks("écran 4k — niño").into_iter().map(|t| t.0).collect();
        assert_eq!(t, vec!["écran", "4k", "niño"]);
    }

    #[test]
    fn ascii_fast_path_matches_the_general_one() {
        // Every ASCII character in odd company; the general path runs on
        // the same text with one non-ASCII letter appended (a token of its own).
        let mut text = String::new();
        for c in 0u8..128 {
            text.push(c as char);
            text.push_str(if c % 3 == 0 { "1.5" } else { "a" });
            text.push(if c % 2 == 0 { ' ' } else { '.' });
        }
        text.push_str("9.\x0b.7 .8 x. 3..4 -5.6.7");
        let mut fast = Vec::new();
        tokenize(&text, &mut fast);
        let mut general = Vec::new();
        let longer = format!("{text} \u{e9}");
        tokenize(&longer, &mut general);
        let last = general.pop().unwrap();
        assert_eq!(last.text, "\u{e9}");
        assert_eq!(fast, general);
    }

    #[test]
    fn empty_and_punctuation_only() {
        assert!(toks("").is_empty());
        assert!(toks(" - / ").is_empty());
    }
}
