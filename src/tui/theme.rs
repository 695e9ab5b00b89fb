//! Colours and glyphs for the terminal at hand: truecolor, 256 or 16
//! colours, none at all under `NO_COLOR`, and an ASCII fallback for
//! terminals without box-drawing or block characters.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    None,
    Basic,
    Ansi256,
    TrueColor,
}

impl ColorMode {
    /// From the environment: `NO_COLOR` (any value) wins, then `COLORTERM`,
    /// then `TERM`.
    pub fn detect(get: &dyn Fn(&str) -> Option<String>) -> ColorMode {
        if get("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return ColorMode::None;
        }
        let colorterm = get("COLORTERM").unwrap_or_default().to_lowercase();
        if colorterm.contains("truecolor") || colorterm.contains("24bit") {
            return ColorMode::TrueColor;
        }
        let term = get("TERM").unwrap_or_default();
        if term == "dumb" {
            ColorMode::None
        } else if term.contains("256") {
            ColorMode::Ansi256
        } else {
            ColorMode::Basic
        }
    }
}

/// Styles and glyphs used by every view.
#[derive(Debug, Clone)]
pub struct Theme {
    pub mode: ColorMode,
    pub ascii: bool,
}

impl Theme {
    pub fn new(mode: ColorMode, ascii: bool) -> Theme {
        Theme { mode, ascii }
    }

    /// From the process environment (`NO_COLOR`, `COLORTERM`, `TERM`,
    /// `PRODSIM_ASCII`, and the locale for Unicode support).
    pub fn from_env(force_ascii: bool) -> Theme {
        let get = |k: &str| std::env::var(k).ok();
        let locale = get("LC_ALL")
            .filter(|s| !s.is_empty())
            .or_else(|| get("LC_CTYPE").filter(|s| !s.is_empty()))
            .or_else(|| get("LANG"))
            .unwrap_or_default()
            .to_uppercase();
        let utf8 = locale.contains("UTF-8") || locale.contains("UTF8");
        let ascii = force_ascii || get("PRODSIM_ASCII").is_some_and(|v| v != "0") || !utf8;
        Theme::new(ColorMode::detect(&get), ascii)
    }

    fn pick(&self, truecolor: Color, c256: u8, basic: Color) -> Option<Color> {
        match self.mode {
            ColorMode::None => None,
            ColorMode::Basic => Some(basic),
            ColorMode::Ansi256 => Some(Color::Indexed(c256)),
            ColorMode::TrueColor => Some(truecolor),
        }
    }

    fn fg(&self, truecolor: Color, c256: u8, basic: Color) -> Style {
        match self.pick(truecolor, c256, basic) {
            Some(c) => Style::default().fg(c),
            None => Style::default(),
        }
    }

    /// Titles and the focused pane's border.
    pub fn accent(&self) -> Style {
        self.fg(Color::Rgb(95, 175, 255), 75, Color::Cyan)
            .add_modifier(Modifier::BOLD)
    }
    /// Borders of panes without focus, secondary text.
    pub fn dim(&self) -> Style {
        match self.mode {
            ColorMode::None => Style::default().add_modifier(Modifier::DIM),
            _ => self.fg(Color::Rgb(128, 128, 128), 244, Color::DarkGray),
        }
    }
    /// Matched characters and shared tokens.
    pub fn matched(&self) -> Style {
        self.fg(Color::Rgb(255, 200, 60), 220, Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
    /// Text that only partly matched (character n-grams).
    pub fn partial(&self) -> Style {
        self.fg(Color::Rgb(200, 170, 90), 179, Color::Yellow)
    }
    /// Score bars.
    pub fn bar(&self) -> Style {
        self.fg(Color::Rgb(80, 200, 120), 78, Color::Green)
    }
    /// Query-side weight bars in the breakdown.
    pub fn bar_query(&self) -> Style {
        self.fg(Color::Rgb(95, 175, 255), 75, Color::Blue)
    }
    /// The selected row.
    pub fn selected(&self) -> Style {
        match self.mode {
            ColorMode::None | ColorMode::Basic => Style::default().add_modifier(Modifier::REVERSED),
            ColorMode::Ansi256 => Style::default()
                .bg(Color::Indexed(237))
                .add_modifier(Modifier::BOLD),
            ColorMode::TrueColor => Style::default()
                .bg(Color::Rgb(50, 55, 70))
                .add_modifier(Modifier::BOLD),
        }
    }
    /// Relevant / irrelevant labels.
    pub fn good(&self) -> Style {
        self.fg(Color::Rgb(80, 200, 120), 78, Color::Green)
    }
    pub fn bad(&self) -> Style {
        self.fg(Color::Rgb(230, 90, 90), 167, Color::Red)
    }
    /// Warnings and errors in the status line.
    pub fn warn(&self) -> Style {
        self.fg(Color::Rgb(255, 170, 60), 214, Color::Yellow)
            .add_modifier(Modifier::BOLD)
    }

    /// Border glyphs.
    pub fn border(&self) -> border::Set<'static> {
        if self.ascii {
            border::Set {
                top_left: "+",
                top_right: "+",
                bottom_left: "+",
                bottom_right: "+",
                vertical_left: "|",
                vertical_right: "|",
                horizontal_top: "-",
                horizontal_bottom: "-",
            }
        } else {
            border::ROUNDED
        }
    }

    /// A horizontal bar of `fraction` (0-1) of `width` cells.
    pub fn bar_text(&self, fraction: f64, width: usize) -> String {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if self.ascii {
            let n = (fraction * width as f64).round() as usize;
            return "#".repeat(n);
        }
        const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
        let eighths = (fraction * width as f64 * 8.0).round() as usize;
        let mut s = "█".repeat(eighths / 8);
        s.push_str(PARTS[eighths % 8]);
        s
    }

    /// Marker of the selected row.
    pub fn pointer(&self) -> &'static str {
        if self.ascii { ">" } else { "▶" }
    }

    /// Separator between figures on one line.
    pub fn sep(&self) -> &'static str {
        if self.ascii { " | " } else { " · " }
    }

    /// "From -> to".
    pub fn arrow(&self) -> &'static str {
        if self.ascii { "->" } else { "→" }
    }

    /// The sign of a difference.
    pub fn delta(&self) -> &'static str {
        if self.ascii { "d" } else { "Δ" }
    }

    /// Filled and empty parts of a line gauge.
    pub fn gauge_symbols(&self) -> (&'static str, &'static str) {
        if self.ascii {
            ("#", "-")
        } else {
            (
                ratatui::symbols::line::THICK_HORIZONTAL,
                ratatui::symbols::line::HORIZONTAL,
            )
        }
    }

    /// Style of a rank movement: up green, down red, new in the accent
    /// colour, dropped dimmed.
    pub fn movement(&self, m: crate::ab::Movement) -> Style {
        use crate::ab::Movement;
        match m {
            Movement::Up(_) => self.good().add_modifier(Modifier::BOLD),
            Movement::Down(_) => self.bad().add_modifier(Modifier::BOLD),
            Movement::New => self.accent(),
            Movement::Dropped => self.dim(),
            Movement::Same => Style::default(),
        }
    }
}

/// Catalogue text is untrusted: control characters (escape sequences) and
/// bidirectional overrides never reach the terminal.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_detection() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            ColorMode::detect(&env(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")])),
            ColorMode::None
        );
        assert_eq!(
            ColorMode::detect(&env(&[("COLORTERM", "truecolor")])),
            ColorMode::TrueColor
        );
        assert_eq!(
            ColorMode::detect(&env(&[("TERM", "xterm-256color")])),
            ColorMode::Ansi256
        );
        assert_eq!(
            ColorMode::detect(&env(&[("TERM", "xterm")])),
            ColorMode::Basic
        );
        assert_eq!(
            ColorMode::detect(&env(&[("TERM", "dumb")])),
            ColorMode::None
        );
    }

    #[test]
    fn sanitize_strips_escapes() {
        assert_eq!(sanitize("a\x1b[2Jb\u{202E}c\r\n"), "a [2Jb c  ");
    }

    #[test]
    fn bars() {
        let t = Theme::new(ColorMode::None, true);
        assert_eq!(t.bar_text(0.5, 10), "#####");
        let t = Theme::new(ColorMode::None, false);
        assert_eq!(t.bar_text(1.0, 3), "███");
        assert_eq!(t.bar_text(0.5, 3), "█▌");
        assert_eq!(t.bar_text(f64::NAN, 3), "");
    }
}
