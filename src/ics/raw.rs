//! The lossless raw-line layer: every content line keeps its exact bytes (folds, line endings,
//! BOM), so a resource we edit comes back byte-identical except for the lines we change.
//!
//! The `icalendar` crate is used for the content-line grammar (name, parameters with quotes,
//! value); this layer does what it cannot: bytes instead of `&str`, folds that split a UTF-8
//! character, mixed CRLF/LF, a BOM, and line numbers that refer to the file the user has.

use std::borrow::Cow;
use std::ops::Range;

use super::IcsError;

/// One logical (unfolded) content line.
#[derive(Debug, Clone)]
pub(crate) struct ContentLine {
    /// The bytes of all its physical lines in the source, line endings included.
    pub span: Range<usize>,
    /// 1-based number of its first physical line in the source.
    pub line_no: usize,
    /// Upper-cased property name.
    pub name: String,
    /// Parameters as (upper-cased name, unquoted value); a valueless parameter has `None`.
    pub params: Vec<(String, Option<String>)>,
    /// The value: TEXT values unescaped, everything else verbatim.
    pub value: String,
    /// Length of the unfolded text before the colon that starts the value (see
    /// [`Document::head`]); kept as a length so reading allocates nothing for it.
    pub head_len: usize,
}

impl ContentLine {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// One component: BEGIN line, its own properties, its children, END line.
#[derive(Debug, Clone)]
pub(crate) struct Component {
    pub name: String,
    /// Index (into `Document::lines`) of the BEGIN line... and of the END line.
    pub begin: usize,
    pub end: usize,
    /// Indexes of its own property lines, in order.
    pub props: Vec<usize>,
    pub children: Vec<Component>,
}

impl Component {
    pub fn prop<'d>(&self, doc: &'d Document<'_>, name: &str) -> Option<&'d ContentLine> {
        self.props
            .iter()
            .map(|&i| &doc.lines[i])
            .find(|l| l.name == name)
    }

    pub fn props_named<'d, 's>(
        &'s self,
        doc: &'d Document<'_>,
        name: &'s str,
    ) -> impl Iterator<Item = &'d ContentLine> + 's
    where
        'd: 's,
    {
        self.props
            .iter()
            .map(move |&i| &doc.lines[i])
            .filter(move |l| l.name == name)
    }
}

/// A parsed resource: the source bytes, its content lines and the component tree.
#[derive(Debug)]
pub(crate) struct Document<'a> {
    pub src: &'a [u8],
    /// The line ending the file mostly uses; new lines are written with it.
    pub eol: &'static str,
    pub lines: Vec<ContentLine>,
    /// Top-level components (normally one VCALENDAR).
    pub roots: Vec<Component>,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Properties whose value is TEXT (RFC 5545 3.3.11) and so must be unescaped on read.
pub(crate) fn is_text_property(name: &str) -> bool {
    matches!(
        name,
        "SUMMARY"
            | "DESCRIPTION"
            | "LOCATION"
            | "COMMENT"
            | "CONTACT"
            | "STATUS"
            | "TRANSP"
            | "CLASS"
            | "UID"
            | "TZID"
            | "TZNAME"
            | "PRODID"
            | "METHOD"
            | "CALSCALE"
            | "VERSION"
            | "RELATED-TO"
            | "ACTION"
    )
}

/// Splits `input` into physical lines and joins folded ones. Works on bytes so a fold that
/// splits a multi-byte character is joined before decoding.
fn unfold(src: &[u8], start: usize) -> Vec<(Range<usize>, usize, Cow<'_, [u8]>)> {
    let mut out: Vec<(Range<usize>, usize, Cow<'_, [u8]>)> = Vec::new();
    let mut pos = start;
    let mut line_no = 0;
    while pos < src.len() {
        line_no += 1;
        let nl = memchr(b'\n', &src[pos..]).map_or(src.len(), |i| pos + i + 1);
        let mut content_end = nl;
        if content_end > pos && src[content_end - 1] == b'\n' {
            content_end -= 1;
        }
        if content_end > pos && src[content_end - 1] == b'\r' {
            content_end -= 1;
        }
        let content = &src[pos..content_end];
        let is_continuation = matches!(content.first(), Some(b' ' | b'\t'));
        // Each logical line keeps its line ending: the crate's parser then finds the end of
        // the value at once instead of failing (and allocating an error) on two alternatives.
        match out.last_mut() {
            Some((span, _, text)) if is_continuation => {
                span.end = nl;
                let t = text.to_mut();
                while matches!(t.last(), Some(b'\r' | b'\n')) {
                    t.pop();
                }
                t.extend_from_slice(&content[1..]);
                t.extend_from_slice(&src[content_end..nl]);
            }
            _ => out.push((pos..nl, line_no, Cow::Borrowed(&src[pos..nl]))),
        }
        pos = nl;
    }
    out
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// Index of the colon that ends name and parameters: the first one outside double quotes.
pub(crate) fn value_colon(text: &str) -> Option<usize> {
    value_colon_bytes(text.as_bytes())
}

/// [`value_colon`] on bytes (a line that is not valid UTF-8 is still split where it should be).
pub(crate) fn value_colon_bytes(text: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// `full` is the unfolded line with its line ending, if it had one.
fn parse_line(full: &str, span: Range<usize>, line_no: usize) -> Result<ContentLine, IcsError> {
    let text = full.trim_end_matches(['\r', '\n']);
    let malformed = |message: String| IcsError::Malformed {
        line: line_no,
        message,
    };
    let colon = value_colon(text)
        .ok_or_else(|| malformed(format!("no ':' in content line `{}`", excerpt(text))))?;
    // BEGIN/END are component delimiters, which the crate's property parser refuses.
    let name_part = &text[..colon];
    for delim in ["BEGIN", "END"] {
        if name_part.eq_ignore_ascii_case(delim) {
            return Ok(ContentLine {
                span,
                line_no,
                name: delim.to_string(),
                params: Vec::new(),
                value: text[colon + 1..].to_string(),
                head_len: colon,
            });
        }
    }
    if let Some(line) = simple_line(text, colon, span.clone(), line_no) {
        return Ok(line);
    }
    crate_line(full, colon, span, line_no)
}

/// A content line read with the `icalendar` crate's grammar (quoted parameters and the rest).
fn crate_line(
    full: &str,
    colon: usize,
    span: Range<usize>,
    line_no: usize,
) -> Result<ContentLine, IcsError> {
    let text = full.trim_end_matches(['\r', '\n']);
    let malformed = |message: String| IcsError::Malformed {
        line: line_no,
        message,
    };
    let parsed = icalendar::parser::Property::try_from(full).map_err(|e| {
        malformed(format!(
            "cannot parse `{}`: {}",
            excerpt(text),
            first_line(&e)
        ))
    })?;
    let name = parsed.name.as_str().to_ascii_uppercase();
    if name.is_empty() {
        return Err(malformed(format!(
            "content line without a name: `{}`",
            excerpt(text)
        )));
    }
    let params = parsed
        .params
        .iter()
        .map(|p| {
            (
                p.key.as_str().to_ascii_uppercase(),
                p.val.as_ref().map(|v| v.as_str().to_string()),
            )
        })
        .collect();
    // The crate unescapes TEXT only for the names it knows in upper case; do it for all
    // spellings, and never for X- properties (their values are opaque: JSON, HTML).
    let raw_value = &text[colon + 1..];
    let value = if is_text_property(&name) {
        icalendar::parser::ParseString::from(raw_value)
            .unescape_text()
            .as_str()
            .to_string()
    } else {
        raw_value.to_string()
    };
    Ok(ContentLine {
        span,
        line_no,
        name,
        params,
        value,
        head_len: colon,
    })
}

/// The common shape of a content line read without the crate's grammar: `NAME` or
/// `NAME;KEY=value;...` with no quotes, names of letters, digits and dashes, and every parameter
/// with a non-empty value. Nine lines in ten of real calendars have it, and reading them this way
/// costs a fraction of the general parser; anything else returns `None` and goes to the crate
/// (a test checks that both read every simple line alike).
fn simple_line(
    text: &str,
    colon: usize,
    span: Range<usize>,
    line_no: usize,
) -> Option<ContentLine> {
    let head = &text[..colon];
    let is_name =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let simple_value = |s: &str| {
        !s.is_empty()
            && !s
                .bytes()
                .any(|b| matches!(b, b'"' | b'=' | b',' | b':' | b';') || b.is_ascii_control())
    };
    let mut parts = head.split(';');
    let name = parts.next().filter(|n| is_name(n))?.to_ascii_uppercase();
    let mut params = Vec::new();
    for part in parts {
        let (key, val) = part.split_once('=')?;
        if !is_name(key) || !simple_value(val) {
            return None;
        }
        params.push((key.to_ascii_uppercase(), Some(val.to_string())));
    }
    let raw_value = &text[colon + 1..];
    if raw_value
        .bytes()
        .any(|b| b.is_ascii_control() && b != b'\t')
    {
        return None;
    }
    let value = if is_text_property(&name) {
        if raw_value.contains('\\') {
            icalendar::parser::ParseString::from(raw_value)
                .unescape_text()
                .as_str()
                .to_string()
        } else {
            raw_value.to_string()
        }
    } else {
        raw_value.to_string()
    };
    Some(ContentLine {
        span,
        line_no,
        name,
        params,
        value,
        head_len: colon,
    })
}

fn first_line(s: &str) -> &str {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or(s).trim()
}

pub(crate) fn excerpt(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}...")
    }
}

impl<'a> Document<'a> {
    /// Reads a resource. Structural errors (unbalanced BEGIN/END, a line without a name or
    /// colon) name the physical line where they are.
    pub fn parse(src: &'a [u8]) -> Result<Self, IcsError> {
        let bom = if src.starts_with(BOM) { BOM.len() } else { 0 };
        let physical = unfold(src, bom);
        let crlf = src.windows(2).filter(|w| w == b"\r\n").count();
        let lf = src.iter().filter(|&&b| b == b'\n').count();
        let eol = if lf > 0 && crlf * 2 < lf {
            "\n"
        } else {
            "\r\n"
        };

        let mut lines = Vec::with_capacity(physical.len());
        for (span, line_no, bytes) in physical {
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                continue; // blank lines: some producers emit them between components
            }
            // Invalid UTF-8 (old Latin-1 exports) is read with replacement characters; the
            // bytes themselves stay untouched for writing.
            let text = String::from_utf8_lossy(&bytes);
            lines.push(parse_line(&text, span, line_no)?);
        }

        let mut roots = Vec::new();
        let mut stack: Vec<Component> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            match line.name.as_str() {
                "BEGIN" => {
                    let name = line.value.trim().to_ascii_uppercase();
                    if name.is_empty() {
                        return Err(IcsError::Malformed {
                            line: line.line_no,
                            message: "BEGIN without a component name".into(),
                        });
                    }
                    stack.push(Component {
                        name,
                        begin: i,
                        end: i,
                        props: Vec::new(),
                        children: Vec::new(),
                    });
                }
                "END" => {
                    let name = line.value.trim().to_ascii_uppercase();
                    let Some(mut comp) = stack.pop() else {
                        return Err(IcsError::Malformed {
                            line: line.line_no,
                            message: format!("END:{name} without a matching BEGIN"),
                        });
                    };
                    if comp.name != name {
                        return Err(IcsError::Malformed {
                            line: line.line_no,
                            message: format!(
                                "END:{name} closes BEGIN:{} (line {})",
                                comp.name, lines[comp.begin].line_no
                            ),
                        });
                    }
                    comp.end = i;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(comp),
                        None => roots.push(comp),
                    }
                }
                _ => match stack.last_mut() {
                    Some(c) => c.props.push(i),
                    None => {
                        return Err(IcsError::Malformed {
                            line: line.line_no,
                            message: format!("property {} outside any component", line.name),
                        });
                    }
                },
            }
        }
        if let Some(open) = stack.first() {
            return Err(IcsError::Malformed {
                line: lines[open.begin].line_no,
                message: format!("BEGIN:{} is never closed", open.name),
            });
        }
        Ok(Self {
            src,
            eol,
            lines,
            roots,
        })
    }

    /// The unfolded text of a line up to (not including) the colon before its value: name and
    /// parameters exactly as written, which is what we keep when we rewrite only a value.
    pub fn head(&self, line: &ContentLine) -> String {
        let text = self.unfolded(line);
        let text = String::from_utf8_lossy(&text);
        text.get(..line.head_len).unwrap_or(&text).to_string()
    }

    /// The bytes of one logical line with its folds removed, without its line ending; unlike
    /// [`ContentLine::value`] nothing is decoded or unescaped.
    pub fn unfolded(&self, line: &ContentLine) -> Vec<u8> {
        let raw = &self.src[line.span.clone()];
        let mut text = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let fold = match raw[i..] {
                [b'\r', b'\n', b' ' | b'\t', ..] => 3,
                [b'\n', b' ' | b'\t', ..] => 2,
                _ => 0,
            };
            if fold > 0 {
                i += fold;
                continue;
            }
            text.push(raw[i]);
            i += 1;
        }
        while matches!(text.last(), Some(b'\r' | b'\n')) {
            text.pop();
        }
        text
    }

    /// The exact bytes of one content line, folds and line ending included.
    pub fn raw(&self, line: usize) -> &'a [u8] {
        &self.src[self.lines[line].span.clone()]
    }
}

/// Escapes a TEXT value (RFC 5545 3.3.11). Line breaks of any kind become `\n`.
pub(crate) fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            c => out.push(c),
        }
    }
    out
}

/// Folds one logical line at 75 octets without splitting a UTF-8 character, ending every
/// physical line with `eol`. Works on bytes so that a line read from a file that is not valid
/// UTF-8 can be written back with its bytes unchanged (a fold only goes before a byte that does
/// not continue a character).
pub(crate) fn fold(line: &[u8], eol: &str) -> Vec<u8> {
    const LIMIT: usize = 75;
    let mut out = Vec::with_capacity(line.len() + line.len() / 70 * 3 + eol.len());
    let mut width = 0;
    for (i, &b) in line.iter().enumerate() {
        let starts_char = b & 0xC0 != 0x80;
        if starts_char {
            let len = 1 + line[i + 1..]
                .iter()
                .take_while(|&&c| c & 0xC0 == 0x80)
                .count();
            if width > 0 && width + len > LIMIT {
                out.extend_from_slice(eol.as_bytes());
                out.push(b' ');
                width = 1;
            }
        }
        out.push(b);
        width += 1;
    }
    out.extend_from_slice(eol.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_never_exceeds_75_octets_nor_splits_characters() {
        let line = format!("DESCRIPTION:{}", "ä€😀x".repeat(40));
        let folded = String::from_utf8(fold(line.as_bytes(), "\r\n")).unwrap();
        for l in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = folded.replace("\r\n ", "").replace("\r\n", "");
        assert_eq!(unfolded, line);
    }

    #[test]
    fn unfold_joins_a_fold_that_splits_a_utf8_character() {
        // "é" is C3 A9; the fold falls between the two bytes.
        let src = b"BEGIN:VCALENDAR\r\nSUMMARY:caf\xC3\r\n \xA9\r\nEND:VCALENDAR\r\n";
        let doc = Document::parse(src).unwrap();
        assert_eq!(doc.lines[1].value, "café");
        assert_eq!(doc.raw(1), b"SUMMARY:caf\xC3\r\n \xA9\r\n");
        let src = b"BEGIN:VCALENDAR\r\nDTSTART;TZID=Eu\r\n rope/Berlin:20260101T000000\r\nEND:VCALENDAR\r\n";
        let doc = Document::parse(src).unwrap();
        assert_eq!(doc.head(&doc.lines[1]), "DTSTART;TZID=Europe/Berlin");
    }

    #[test]
    fn quoted_parameter_keeps_colon_and_semicolon() {
        let src =
            b"BEGIN:VCALENDAR\nATTENDEE;CN=\"Smith, Ann; PhD: Dr\":mailto:a@x.org\nEND:VCALENDAR\n";
        let doc = Document::parse(src).unwrap();
        let l = &doc.lines[1];
        assert_eq!(l.param("CN"), Some("Smith, Ann; PhD: Dr"));
        assert_eq!(l.value, "mailto:a@x.org");
        assert_eq!(doc.eol, "\n");
    }

    #[test]
    fn unbalanced_end_names_the_line() {
        let src = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
        match Document::parse(src) {
            Err(IcsError::Malformed { line, .. }) => assert_eq!(line, 4),
            other => panic!("{other:?}"),
        }
    }

    proptest::proptest! {
        /// Every line the fast path reads, it reads as the crate's grammar does.
        #[test]
        fn simple_lines_read_as_the_crate_reads_them(
            name in "(SUMMARY|DTSTART|UID|ATTENDEE|X-[A-Z]{1,3}|[a-zA-Z][a-zA-Z0-9-]{0,5})",
            params in proptest::collection::vec(("[a-zA-Z-][a-zA-Z0-9-]{0,4}", "[ -~\u{e9}]{0,6}"), 0..3),
            value in "[ -~\t\u{e9}\u{1F600}\\\\]{0,20}",
        ) {
            let head: String = std::iter::once(name)
                .chain(params.iter().map(|(k, v)| format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join(";");
            let full = format!("{head}:{value}\r\n");
            let text = full.trim_end_matches(['\r', '\n']);
            let Some(colon) = value_colon(text) else { return Ok(()) };
            if let Some(fast) = simple_line(text, colon, 0..full.len(), 1) {
                let slow = crate_line(&full, colon, 0..full.len(), 1)
                    .map(|l| (l.name, l.params, l.value))
                    .ok();
                proptest::prop_assert_eq!(Some((fast.name, fast.params, fast.value)), slow, "{}", full);
            }
        }
    }

    #[test]
    fn the_fast_path_takes_plain_lines_and_leaves_quotes_to_the_crate() {
        let text = "DTSTART;TZID=Europe/Berlin:20260101T100000";
        let line = simple_line(text, value_colon(text).unwrap(), 0..text.len(), 1).unwrap();
        assert_eq!(line.param("TZID"), Some("Europe/Berlin"));
        assert_eq!(line.value, "20260101T100000");
        let text = "SUMMARY:a\\, b\\nc";
        let line = simple_line(text, value_colon(text).unwrap(), 0..text.len(), 1).unwrap();
        assert_eq!(line.value, "a, b\nc");
        for other in [
            "ATTENDEE;CN=\"A, B\":mailto:a@x",
            "X;RSVP:y",
            "A B:c",
            ";X=1:y",
        ] {
            let colon = value_colon(other).unwrap();
            assert!(
                simple_line(other, colon, 0..other.len(), 1).is_none(),
                "{other}"
            );
        }
    }

    #[test]
    fn escape_round_trips_through_the_crate_unescaper() {
        let text = "a\\b;c,d\ne\r\nf";
        let back = icalendar::parser::ParseString::from(escape_text(text))
            .unescape_text()
            .as_str()
            .to_string();
        assert_eq!(back, "a\\b;c,d\ne\nf");
    }
}
