//! Splits a description into logical lines (what a person sees as lines) with the raw byte span of
//! each line's visible text, for plain text and for the HTML Google stores after a web edit.
//!
//! A hand-written lexer rather than an HTML parser crate: we need byte offsets into the raw input
//! (to splice without re-encoding the user's text), and only line structure and text matter.
//! Entities are resolved with quick-xml's HTML5 table.

use std::ops::Range;

use super::types::Format;

/// One logical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawLine {
    /// The visible text, entities decoded, not yet normalized.
    pub text: String,
    /// Raw bytes from the first to the end of the last non-blank visible character (an empty
    /// range where the line starts when the line is blank).
    pub span: Range<usize>,
    /// The line is an HTML list item (`<li>`): it reads as a `- ` bullet.
    pub list_item: bool,
    /// The line is indented: it starts with blanks, or is an item of a nested HTML list. People
    /// indent a line to put it under the one above (an answer under a question).
    pub indented: bool,
}

pub(crate) fn split(s: &str, format: Format) -> Vec<RawLine> {
    match format {
        Format::Plain => plain_lines(s),
        Format::GoogleHtml => html_lines(s),
    }
}

fn plain_lines(s: &str) -> Vec<RawLine> {
    let mut out = Vec::new();
    let mut start = 0;
    for piece in s.split('\n') {
        let end = start + piece.len();
        let text = piece.strip_suffix('\r').unwrap_or(piece);
        let lead = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        let span = (start + lead)..(start + lead + trimmed.len());
        out.push(RawLine {
            text: text.to_string(),
            span,
            list_item: false,
            indented: lead > 0 && !trimmed.is_empty(),
        });
        start = end + 1;
    }
    out
}

/// Tags that end the current line when they open or close.
fn is_block_tag(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "ul"
            | "ol"
            | "li"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "tr"
            | "table"
            | "blockquote"
            | "pre"
            | "hr"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "dl"
            | "dt"
            | "dd"
    )
}

#[derive(Default)]
struct LineBuilder {
    text: String,
    first: Option<usize>,
    last_end: usize,
    start: usize,
    list_item: bool,
    /// Open `<ul>`/`<ol>` elements: a list item at depth 2 or more is nested.
    depth: usize,
    nested: bool,
}

impl LineBuilder {
    fn push(&mut self, text: &str, raw: Range<usize>) {
        self.text.push_str(text);
        if text.chars().any(|c| !is_blank(c)) {
            self.first.get_or_insert(raw.start);
            self.last_end = raw.end;
        }
    }

    fn has_text(&self) -> bool {
        self.first.is_some()
    }

    fn flush(&mut self, out: &mut Vec<RawLine>, next_start: usize) {
        let span = match self.first {
            Some(f) => f..self.last_end,
            None => self.start..self.start,
        };
        let indented = (self.nested || self.text.starts_with(is_blank)) && self.first.is_some();
        out.push(RawLine {
            text: std::mem::take(&mut self.text),
            span,
            list_item: self.list_item,
            indented,
        });
        self.first = None;
        self.list_item = false;
        self.nested = false;
        self.start = next_start;
    }
}

/// Whitespace as a reader sees it, including NBSP and zero-width characters editors insert.
pub(crate) fn is_blank(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}')
}

fn html_lines(s: &str) -> Vec<RawLine> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut cur = LineBuilder::default();
    let mut i = 0;
    while i < s.len() {
        match bytes[i] {
            b'<' => {
                if let Some(tag) = lex_tag(s, i) {
                    let end = tag.end;
                    match tag.kind {
                        TagKind::Comment => {}
                        TagKind::Element { ref name, closing } => {
                            if name == "br" {
                                cur.flush(&mut out, end);
                            } else if (name == "script" || name == "style") && !closing {
                                // Content of these is never visible text: skip to the closing tag.
                                let close = format!("</{name}");
                                let skip_to = find_ascii_ci(&s[end..], &close)
                                    .and_then(|p| s[end + p..].find('>').map(|q| end + p + q + 1))
                                    .unwrap_or(s.len());
                                i = skip_to;
                                continue;
                            } else if is_block_tag(name) {
                                if cur.has_text() {
                                    cur.flush(&mut out, end);
                                } else {
                                    // Source indentation before a block is not the line's.
                                    cur.text.clear();
                                    cur.start = end;
                                }
                                if name == "li" && !closing {
                                    cur.list_item = true;
                                    cur.nested = cur.depth > 1;
                                }
                                if name == "ul" || name == "ol" {
                                    cur.depth = if closing {
                                        cur.depth.saturating_sub(1)
                                    } else {
                                        cur.depth + 1
                                    };
                                }
                            }
                        }
                    }
                    i = end;
                } else {
                    cur.push("<", i..i + 1);
                    i += 1;
                }
            }
            b'&' => {
                if let Some((end, decoded)) = lex_entity(s, i) {
                    cur.push(&decoded, i..end);
                    i = end;
                } else {
                    cur.push("&", i..i + 1);
                    i += 1;
                }
            }
            // Google renders newlines in a description as line breaks, HTML or not.
            b'\n' => {
                cur.flush(&mut out, i + 1);
                i += 1;
            }
            b'\r' => i += 1,
            _ => {
                let c = s[i..].chars().next().unwrap_or('\u{FFFD}');
                let n = c.len_utf8();
                let text = if c == '\u{A0}' { " " } else { &s[i..i + n] };
                cur.push(text, i..i + n);
                i += n;
            }
        }
    }
    if cur.has_text() || !cur.text.is_empty() {
        cur.flush(&mut out, s.len());
    }
    out
}

enum TagKind {
    Comment,
    Element { name: String, closing: bool },
}

struct Tag {
    end: usize,
    kind: TagKind,
}

/// Case-insensitive search for an ASCII needle, without allocating.
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Longest tag we read as a tag; anything longer is text. Bounds the work on hostile input
/// (`<a "` repeated would otherwise rescan the rest of the description at every `<`).
const MAX_TAG: usize = 4096;

/// A tag starting at `i` (which holds `<`), or `None` when the `<` is literal text (`a < b`).
fn lex_tag(s: &str, i: usize) -> Option<Tag> {
    let rest = &s[i + 1..];
    if let Some(body) = rest.strip_prefix("!--") {
        // An unterminated comment hides the rest, as in a browser.
        let end = body.find("-->").map_or(s.len(), |p| i + 4 + p + 3);
        return Some(Tag {
            end,
            kind: TagKind::Comment,
        });
    }
    let (closing, name_start) = match rest.as_bytes().first()? {
        b'/' => (true, 1),
        b'!' | b'?' => {
            let end = rest.find('>').map(|p| i + 1 + p + 1)?;
            return Some(Tag {
                end,
                kind: TagKind::Comment,
            });
        }
        _ => (false, 0),
    };
    let name: String = rest[name_start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    if name.is_empty() || !name.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    // Find the closing '>' outside quoted attribute values.
    let mut quote: Option<u8> = None;
    for (off, &b) in rest
        .as_bytes()
        .iter()
        .enumerate()
        .take(MAX_TAG)
        .skip(name_start + name.len())
    {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => {
                return Some(Tag {
                    end: i + 1 + off + 1,
                    kind: TagKind::Element {
                        name: name.to_ascii_lowercase(),
                        closing,
                    },
                });
            }
            (None, b'<') => return None,
            _ => {}
        }
    }
    None
}

/// A character reference starting at `i` (which holds `&`): `&amp;`, `&#39;`, `&#x2610;`.
fn lex_entity(s: &str, i: usize) -> Option<(usize, String)> {
    let rest = &s[i + 1..];
    let semi = rest.bytes().take(40).position(|b| b == b';')?;
    let name = &rest[..semi];
    let end = i + 1 + semi + 1;
    if let Some(num) = name.strip_prefix('#') {
        let code = if let Some(hex) = num.strip_prefix(['x', 'X']) {
            u32::from_str_radix(hex, 16).ok()?
        } else {
            num.parse::<u32>().ok()?
        };
        let c = char::from_u32(code)
            .filter(|c| *c != '\0')
            .unwrap_or('\u{FFFD}');
        let c = if c == '\u{A0}' { ' ' } else { c };
        return Some((end, c.to_string()));
    }
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let value = quick_xml::escape::resolve_html5_entity(name)?;
    let value = if value == "\u{A0}" { " " } else { value };
    Some((end, value.to_string()))
}

/// Collapses every run of blanks (NBSP, tabs, zero-width characters) to one space and trims;
/// drops control characters. The form lines are compared and stored in.
pub(crate) fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if is_blank(c) {
            pending_space = !out.is_empty();
        } else if c.is_control() {
            continue;
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str, f: Format) -> Vec<String> {
        split(s, f)
            .into_iter()
            .map(|l| collapse(&l.text))
            .filter(|t| !t.is_empty())
            .collect()
    }

    #[test]
    fn html_breaks_lists_and_entities_become_lines() {
        let s = "<b>Title</b><br>a&nbsp;&amp;&nbsp;b<ul><li>[ ] one</li><li>two &#x2610;</li></ul><div>x &lt; y</div>";
        assert_eq!(
            texts(s, Format::GoogleHtml),
            ["Title", "a & b", "[ ] one", "two ☐", "x < y"]
        );
        let lines = split(s, Format::GoogleHtml);
        assert!(lines.iter().any(|l| l.list_item && l.text == "[ ] one"));
    }

    #[test]
    fn html_literal_angle_and_unknown_entity_stay_text() {
        assert_eq!(
            texts("a < b &bogus; c &amp", Format::GoogleHtml),
            ["a < b &bogus; c &amp"]
        );
    }

    #[test]
    fn spans_cover_visible_text_only() {
        let s = "<div><b>  hello&nbsp;</b></div>";
        let l = &split(s, Format::GoogleHtml)[0];
        assert_eq!(&s[l.span.clone()], "hello");
        let p = "  x y \r\nz";
        let l = &split(p, Format::Plain)[0];
        assert_eq!(&p[l.span.clone()], "x y");
    }

    #[test]
    fn hostile_html_is_read_in_bounded_time() {
        let s = "<a \"".repeat(16_000) + &"<script>".repeat(4000);
        let t = std::time::Instant::now();
        let lines = split(&s, Format::GoogleHtml);
        assert!(!lines.is_empty());
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn script_content_and_comments_are_not_text() {
        assert_eq!(
            texts(
                "a<SCRIPT>x<br>y</Script >b<!-- c<br>d -->e",
                Format::GoogleHtml
            ),
            ["abe"]
        );
    }

    #[test]
    fn collapse_normalizes_blanks_and_controls() {
        assert_eq!(collapse(" a\u{A0}\u{200B} b\t\u{7}c "), "a b c");
    }
}
