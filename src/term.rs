//! What the commands print for people goes through here: calendar text (titles, names, items,
//! notes, server errors) comes from other people, and a terminal obeys control characters in it
//! (`ESC[2J` clears the screen, an OSC sequence retitles the window or writes a hyperlink, BEL
//! rings). [`clean`] makes every such character visible instead; the `out!`/`outln!`/`errln!`
//! macros print through it. JSON output does not need it: serde escapes control characters.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether a terminal may act on `c`: C0 controls but newline and tab, DEL, C1 controls (a lone
/// U+009B is a CSI for some terminals), and the bidirectional overrides and isolates that make a
/// line read differently from what it holds.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` as it is safe to print on a terminal: each control character is written as its escape
/// (`\u{1b}`, `\r`), so the reader sees that it is there and the terminal does nothing with it.
/// Newlines and tabs stay: the output's own layout uses them.
pub(crate) fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Prints `text` on stdout, cleaned. `print!` keeps its behaviour on a closed pipe (see `cli`).
pub(crate) fn print_out(text: &str) {
    print!("{}", clean(text));
}

/// Prints `text` on stderr, cleaned.
pub(crate) fn print_err(text: &str) {
    eprint!("{}", clean(text));
}

/// `print!` for human output: the text goes through [`clean`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::term::print_out(&::std::format!($($arg)*))
    };
}
pub(crate) use out;

/// `println!` for human output: the text goes through [`clean`].
macro_rules! outln {
    () => {
        $crate::term::print_out("\n")
    };
    ($($arg:tt)*) => {
        $crate::term::print_out(&::std::format!("{}\n", ::std::format_args!($($arg)*)))
    };
}
pub(crate) use outln;

/// `eprintln!` for human output: the text goes through [`clean`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::term::print_err(&::std::format!("{}\n", ::std::format_args!($($arg)*)))
    };
}
pub(crate) use errln;

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn control_characters_are_shown_escaped_and_layout_stays() {
        let hostile = "1:1 Eve\x1b[2J\x1b]0;owned\x07 \u{9b}31m\r\u{202e}gpj.exe\x7f";
        let shown = clean(hostile);
        assert!(
            !shown
                .chars()
                .any(|c| c.is_control() || ('\u{2066}'..='\u{2069}').contains(&c)),
            "{shown:?}"
        );
        assert!(!shown.contains('\u{202e}'));
        assert_eq!(
            shown,
            "1:1 Eve\\u{1b}[2J\\u{1b}]0;owned\\u{7} \\u{9b}31m\\r\\u{202e}gpj.exe\\u{7f}"
        );
        assert_eq!(clean("a\tb\nc — ü 日本"), "a\tb\nc — ü 日本");
        assert!(matches!(clean("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
