//! Character-level stages: cleaning, NFKC, accent folding, lower-casing.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Replaces control characters, no-break and other exotic spaces with a plain
/// space and deletes invisible characters (soft hyphen, zero-width marks), so
/// `Wi\u{AD}Fi` reads as `WiFi` and escape sequences never survive as text.
pub fn clean(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        // On ASCII only controls change (whitespace other than the space
        // is a control); nothing is deleted.
        out.extend(
            text.bytes()
                .map(|b| if b.is_ascii_control() { ' ' } else { b as char }),
        );
        return;
    }
    for c in text.chars() {
        match c {
            '\u{AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            c if c.is_control() || c.is_whitespace() => out.push(' '),
            c => out.push(c),
        }
    }
}

/// Unicode NFKC normalisation.
pub fn nfkc(text: &str, out: &mut String) {
    out.clear();
    out.extend(text.nfkc());
}

/// Removes diacritics by decomposing and dropping combining marks.
pub fn fold_accents(text: &str, out: &mut String) {
    out.clear();
    out.extend(text.nfd().filter(|c| !is_combining_mark(*c)).nfc());
}

/// Lower-cases the text.
pub fn lowercase(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        out.make_ascii_lowercase();
    } else {
        out.extend(text.chars().flat_map(char::to_lowercase));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: fn(&str, &mut String), s: &str) -> String {
        let mut out = String::new();
        f(s, &mut out);
        out
    }

    #[test]
    fn clean_removes_soft_hyphen_and_controls() {
        assert_eq!(run(clean, "Wi\u{AD}Fi\u{A0}6\x1b[31m\tx"), "WiFi 6 [31m x");
        assert_eq!(run(clean, "a\u{200B}b\u{FEFF}"), "ab");
    }

    #[test]
    fn clean_on_ascii_is_the_general_clean() {
        let ascii: String = (0u8..128).map(|b| b as char).collect();
        let mut general = String::new();
        for c in ascii.chars() {
            general.push(if c.is_control() || c.is_whitespace() {
                ' '
            } else {
                c
            });
        }
        assert_eq!(run(clean, &ascii), general);
    }

    #[test]
    fn nfkc_unfolds_compatibility_forms() {
        assert_eq!(run(nfkc, "ＳＯＮＹ ﬁ ²"), "SONY fi 2");
    }

    #[test]
    fn accents_are_folded() {
        assert_eq!(
            run(fold_accents, "Crème Brûlée Señor"),
            "Creme Brulee Senor"
        );
    }

    #[test]
    fn lowercase_handles_unicode() {
        assert_eq!(run(lowercase, "ÉCRAN Sony"), "écran sony");
        assert_eq!(run(lowercase, "ABC"), "abc");
    }
}
