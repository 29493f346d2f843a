//! The lossless raw-line layer: every content line keeps its exact bytes (folds, line endings,
//! BOM), so a resource we edit comes back byte-identical except for the lines we change.
//!
//! The `icalendar` crate is used for the content-line grammar (name, parameters with quotes,
//! value); this layer does what it cannot: bytes instead of `&str`, folds that split a UTF-8
//! character, mixed CRLF/LF, a BOM, and line numbers that refer to the file the user has.

use std::borrow::Cow;
use std::ops::Range;

use super::error::IcsError;

/// One logical (unfolded) content line. Its parts borrow from the source wherever they can: a
/// line that is neither folded, escaped, lower-cased nor invalid UTF-8 (nearly all of them) is
/// read without an allocation of its own.
#[derive(Debug, Clone)]
pub(crate) struct ContentLine<'a> {
    /// The bytes of all its physical lines in the source, line endings included.
    pub span: Range<usize>,
    /// 1-based number of its first physical line in the source.
    pub line_no: usize,
    /// Upper-cased property name.
    pub name: Cow<'a, str>,
    /// Parameters as (upper-cased name, unquoted value); a valueless parameter has `None`.
    pub params: Vec<(Cow<'a, str>, Option<Cow<'a, str>>)>,
    /// The value: TEXT values unescaped, everything else verbatim.
    pub value: Cow<'a, str>,
    /// Length of the unfolded text before the colon that starts the value (see
    /// [`Document::head`]); kept as a length so reading allocates nothing for it.
    pub head_len: usize,
}

impl ContentLine<'_> {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
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
    pub(crate) fn prop<'d, 'a>(
        &self,
        doc: &'d Document<'a>,
        name: &str,
    ) -> Option<&'d ContentLine<'a>> {
        self.props
            .iter()
            .map(|&i| &doc.lines[i])
            .find(|l| l.name == name)
    }

    pub(crate) fn props_named<'d, 's, 'a>(
        &'s self,
        doc: &'d Document<'a>,
        name: &'s str,
    ) -> impl Iterator<Item = &'d ContentLine<'a>> + 's
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
    pub lines: Vec<ContentLine<'a>>,
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

/// The logical lines of a source: `(span, first line number, unfolded bytes)`, a folded line
/// joined (and so copied) on bytes, so a fold that splits a multi-byte character is joined
/// before decoding; every other line is a slice of the source. Counts the line endings as it
/// goes, for [`Document::eol`].
struct Lines<'a> {
    src: &'a [u8],
    pos: usize,
    line_no: usize,
    crlf: usize,
    lf: usize,
}

impl<'a> Lines<'a> {
    /// The end (after its `\n`) of the physical line that starts at `pos`.
    fn physical_end(&mut self, pos: usize) -> usize {
        self.line_no += 1;
        match memchr::memchr(b'\n', &self.src[pos..]) {
            Some(i) => {
                self.lf += 1;
                if i > 0 && self.src[pos + i - 1] == b'\r' {
                    self.crlf += 1;
                }
                pos + i + 1
            }
            None => self.src.len(),
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (Range<usize>, usize, Cow<'a, [u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.pos;
        if start >= self.src.len() {
            return None;
        }
        let mut end = self.physical_end(start);
        let line_no = self.line_no;
        let mut joined: Option<Vec<u8>> = None;
        // Each logical line keeps its line ending: the crate's parser then finds the end of the
        // value at once instead of failing (and allocating an error) on two alternatives.
        while matches!(self.src.get(end), Some(b' ' | b'\t')) {
            let next = self.physical_end(end);
            let text = joined.get_or_insert_with(|| self.src[start..end].to_vec());
            while matches!(text.last(), Some(b'\r' | b'\n')) {
                text.pop();
            }
            text.extend_from_slice(&self.src[end + 1..next]);
            end = next;
        }
        self.pos = end;
        let text = match joined {
            Some(text) => Cow::Owned(text),
            None => Cow::Borrowed(&self.src[start..end]),
        };
        Some((start..end, line_no, text))
    }
}

/// `s` upper-cased, borrowed when it already is (property names nearly always are).
fn upper(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(s.to_ascii_uppercase())
    } else {
        Cow::Borrowed(s)
    }
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

/// Whether a skim keeps the line named `name` (see [`Document::skim`]): component delimiters,
/// the calendar's own properties, and the VEVENT properties named in `keep`.
fn kept(name: &str, open: &[String], keep: &[&str]) -> bool {
    let is = |k: &str| k.len() == name.len() && k.eq_ignore_ascii_case(name);
    if is("BEGIN") || is("END") {
        return true;
    }
    match open {
        [cal] => cal == "VCALENDAR",
        [cal, event] => cal == "VCALENDAR" && event == "VEVENT" && keep.iter().any(|k| is(k)),
        _ => false,
    }
}

/// `full` is the unfolded line with its line ending, if it had one.
fn parse_line(full: &str, span: Range<usize>, line_no: usize) -> Result<ContentLine<'_>, IcsError> {
    let text = full.trim_end_matches(['\r', '\n']);
    if let Some(line) = simple_line(text, span.clone(), line_no) {
        // BEGIN/END are component delimiters, which the crate's property parser refuses.
        return Ok(match delimiter(&line.name) {
            Some(delim) => ContentLine {
                name: Cow::Borrowed(delim),
                params: Vec::new(),
                ..line
            },
            None => line,
        });
    }
    let colon = value_colon(text).ok_or_else(|| IcsError::Malformed {
        line: line_no,
        message: format!("no ':' in content line `{}`", excerpt(text)),
    })?;
    if let Some(delim) = delimiter(&text[..colon]) {
        return Ok(ContentLine {
            span,
            line_no,
            name: Cow::Borrowed(delim),
            params: Vec::new(),
            value: Cow::Borrowed(&text[colon + 1..]),
            head_len: colon,
        });
    }
    crate_line(full, colon, span, line_no)
}

/// `BEGIN` or `END` when the head of a line (everything before its colon) is one of them.
fn delimiter(head: &str) -> Option<&'static str> {
    ["BEGIN", "END"]
        .into_iter()
        .find(|d| d.len() == head.len() && d.eq_ignore_ascii_case(head))
}

/// A content line read with the `icalendar` crate's grammar (quoted parameters and the rest).
fn crate_line(
    full: &str,
    colon: usize,
    span: Range<usize>,
    line_no: usize,
) -> Result<ContentLine<'static>, IcsError> {
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
                Cow::Owned(p.key.as_str().to_ascii_uppercase()),
                p.val.as_ref().map(|v| Cow::Owned(v.as_str().to_string())),
            )
        })
        .collect();
    // The crate unescapes TEXT only for the names it knows in upper case; do it for all
    // spellings, and never for X- properties (their values are opaque: JSON, HTML).
    let raw_value = &text[colon + 1..];
    let value = if is_text_property(&name) {
        unescape(raw_value)
    } else {
        raw_value.to_string()
    };
    Ok(ContentLine {
        span,
        line_no,
        name: Cow::Owned(name),
        params,
        value: Cow::Owned(value),
        head_len: colon,
    })
}

/// A TEXT value with its escapes (`\\`, `\;`, `\,`, `\n`) resolved, by the crate's unescaper.
fn unescape(raw: &str) -> String {
    // Moved out, not copied again: a description can be megabytes.
    icalendar::parser::ParseString::from(raw)
        .unescape_text()
        .into_owned()
        .into()
}

/// Byte classes of the simple line shape (see [`scan`]).
const NAME: u8 = 1; // letters, digits, '-'
const PARAM_VALUE: u8 = 2; // anything but control characters and `"=,:;`
const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'-' {
            t[b] |= NAME;
        }
        if !c.is_ascii_control() && !matches!(c, b'"' | b'=' | b',' | b':' | b';') {
            t[b] |= PARAM_VALUE;
        }
        b += 1;
    }
    t
};

/// Where a line of the common shape ends its name and starts its value. The shape: `NAME` or
/// `NAME;KEY=value;...` with no quotes, names of letters, digits and dashes, every parameter
/// with a non-empty value, and no control character but tab in the value. Nine lines in ten of
/// real calendars have it, and reading them this way costs a fraction of the general parser;
/// for any other line this is `None` and the crate reads it (a test checks that both read every
/// simple line alike). One pass over the head, one over the value.
fn scan(text: &str) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let class = |i: usize| b.get(i).map_or(0, |&c| CLASSES[usize::from(c)]);
    let run = |mut i: usize, of: u8| {
        while class(i) & of != 0 {
            i += 1;
        }
        i
    };
    let name_end = run(0, NAME);
    let mut i = name_end;
    if i == 0 {
        return None;
    }
    loop {
        match b.get(i) {
            Some(b':') => break,
            Some(b';') => {
                let key_end = run(i + 1, NAME);
                if key_end == i + 1 || b.get(key_end) != Some(&b'=') {
                    return None;
                }
                i = run(key_end + 1, PARAM_VALUE);
                if i == key_end + 1 {
                    return None;
                }
            }
            _ => return None,
        }
    }
    // Not short-circuited, so that the loop runs many bytes at a time.
    let control = b[i + 1..].iter().fold(false, |bad, &c| {
        bad | ((c < 0x20) & (c != b'\t')) | (c == 0x7f)
    });
    (!control).then_some((name_end, i))
}

/// A line of the simple shape (see [`scan`]), read as slices of `text`.
fn simple_line(text: &str, span: Range<usize>, line_no: usize) -> Option<ContentLine<'_>> {
    let (name_end, colon) = scan(text)?;
    let name = upper(&text[..name_end]);
    let params = text[name_end..colon]
        .split(';')
        .filter_map(|part| part.split_once('='))
        .map(|(key, val)| (upper(key), Some(Cow::Borrowed(val))))
        .collect();
    let raw_value = &text[colon + 1..];
    let value = if is_text_property(&name) && raw_value.contains('\\') {
        Cow::Owned(unescape(raw_value))
    } else {
        Cow::Borrowed(raw_value)
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

impl ContentLine<'_> {
    /// The same line, owning its parts (for a line read from a copy: folded, or not UTF-8).
    fn into_owned(self) -> ContentLine<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        ContentLine {
            span: self.span,
            line_no: self.line_no,
            name: own(self.name),
            params: self
                .params
                .into_iter()
                .map(|(k, v)| (own(k), v.map(own)))
                .collect(),
            value: own(self.value),
            head_len: self.head_len,
        }
    }
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
        Self::read(src, None)
    }

    /// Reads a resource keeping only the calendar's own properties and, of each VEVENT's, those
    /// named in `keep`; every other property line is checked as [`Document::parse`] checks it
    /// (so the same input fails with the same error) but not kept. Components keep their place
    /// in the tree with the properties kept. The events cache reads one-off meetings this way:
    /// their attendees, descriptions and time zone definitions are never used.
    pub(crate) fn skim(src: &'a [u8], keep: &[&str]) -> Result<Self, IcsError> {
        Self::read(src, Some(keep))
    }

    fn read(src: &'a [u8], keep: Option<&[&str]>) -> Result<Self, IcsError> {
        let bom = if src.starts_with(BOM) { BOM.len() } else { 0 };
        // Checked once for the whole resource: then every line that is not folded is read as a
        // slice of it.
        let text = std::str::from_utf8(&src[bom..]).ok();
        let mut physical = Lines {
            src,
            pos: bom,
            line_no: 0,
            crlf: 0,
            lf: 0,
        };
        let mut lines = Vec::with_capacity(src.len() / 32);
        // The components the current line is in (only followed when skimming).
        let mut open: Vec<String> = Vec::new();
        for (span, line_no, bytes) in physical.by_ref() {
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                continue; // blank lines: some producers emit them between components
            }
            let borrowed = match (&bytes, text) {
                (Cow::Borrowed(_), Some(text)) => text.get(span.start - bom..span.end - bom),
                _ => None,
            };
            // Invalid UTF-8 (old Latin-1 exports) is read with replacement characters; the
            // bytes themselves stay untouched for writing.
            let lossy;
            let full = match borrowed {
                Some(text) => text,
                None => {
                    lossy = String::from_utf8_lossy(&bytes);
                    &*lossy
                }
            };
            if let Some(keep) = keep {
                let shape = scan(full.trim_end_matches(['\r', '\n']));
                let name_end = shape.map_or_else(
                    || full.find([';', ':']).unwrap_or(full.len()),
                    |(name_end, _)| name_end,
                );
                if !kept(&full[..name_end], &open, keep) {
                    // Checked as a whole read checks it: a line of the simple shape cannot
                    // fail, any other is read in full.
                    if shape.is_none() {
                        parse_line(full, span, line_no)?;
                    }
                    continue;
                }
            }
            let line = match borrowed {
                Some(text) => parse_line(text, span, line_no)?,
                None => parse_line(full, span, line_no)?.into_owned(),
            };
            if keep.is_some() {
                match &*line.name {
                    "BEGIN" => open.push(line.value.trim().to_ascii_uppercase()),
                    "END" => {
                        open.pop();
                    }
                    _ => {}
                }
            }
            lines.push(line);
        }
        let eol = if physical.lf > 0 && physical.crlf * 2 < physical.lf {
            "\n"
        } else {
            "\r\n"
        };

        let mut roots = Vec::new();
        let mut stack: Vec<Component> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            match &*line.name {
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
    pub(crate) fn head(&self, line: &ContentLine) -> String {
        let text = self.unfolded(line);
        let text = String::from_utf8_lossy(&text);
        text.get(..line.head_len).unwrap_or(&text).to_string()
    }

    /// The bytes of one logical line with its folds removed, without its line ending; unlike
    /// [`ContentLine::value`] nothing is decoded or unescaped.
    pub(crate) fn unfolded(&self, line: &ContentLine) -> Vec<u8> {
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
    pub(crate) fn raw(&self, line: usize) -> &'a [u8] {
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
    fn lines_read_from_the_source_and_from_copies_agree() {
        // Valid UTF-8: a lower-case name, a fold, a BOM, a blank line, an escaped TEXT value.
        let src = "\u{feff}BEGIN:VCALENDAR\r\nsummary;language=de:Caf\u{e9}\\, Kuchen\r\n\r\n\
DESCRIPTION:one\r\n  two\r\nX-A:b\\,c\nEND:VCALENDAR";
        let doc = Document::parse(src.as_bytes()).unwrap();
        let l: Vec<_> = doc.lines.iter().map(|l| (&*l.name, &*l.value)).collect();
        assert_eq!(
            l,
            [
                ("BEGIN", "VCALENDAR"),
                ("SUMMARY", "Caf\u{e9}, Kuchen"),
                ("DESCRIPTION", "one two"),
                ("X-A", "b\\,c"),
                ("END", "VCALENDAR"),
            ]
        );
        assert_eq!(doc.lines[1].param("LANGUAGE"), Some("de"));
        assert_eq!(
            (
                doc.lines[2].line_no,
                doc.lines[3].line_no,
                doc.lines[4].line_no
            ),
            (4, 6, 7)
        );
        assert_eq!(doc.raw(2), b"DESCRIPTION:one\r\n  two\r\n");
        assert_eq!(doc.eol, "\r\n");
        // The same lines in a source that is not UTF-8 elsewhere read the same.
        let mut latin1 = src.as_bytes().to_vec();
        latin1.extend_from_slice(b"\nBEGIN:X\nX-B:\xe9\nEND:X\n");
        let other = Document::parse(&latin1).unwrap();
        for (a, b) in doc.lines.iter().zip(&other.lines) {
            assert_eq!(
                (&a.name, &a.params, &a.value),
                (&b.name, &b.params, &b.value)
            );
        }
        assert_eq!(other.lines[6].value, "\u{fffd}");
        // Mostly bare LF: new lines are written with LF.
        assert_eq!(
            Document::parse(b"BEGIN:A\nX:y\r\nEND:A\n").unwrap().eol,
            "\n"
        );
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
            if let Some(fast) = simple_line(text, 0..full.len(), 1) {
                let slow = crate_line(&full, colon, 0..full.len(), 1)
                    .map(|l| (l.name, l.params, l.value))
                    .ok();
                proptest::prop_assert_eq!(Some((fast.name, fast.params, fast.value)), slow, "{}", full);
            }
        }
    }

    /// The simple shape as its definition reads, for [`scan`] to be checked against.
    fn simple_by_definition(text: &str) -> Option<(usize, usize)> {
        let colon = value_colon(text)?;
        let is_name =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let simple_value = |s: &str| {
            !s.is_empty()
                && !s
                    .bytes()
                    .any(|b| matches!(b, b'"' | b'=' | b',' | b':' | b';') || b.is_ascii_control())
        };
        let mut parts = text[..colon].split(';');
        let name = parts.next()?;
        let simple = is_name(name)
            && parts.all(|p| {
                p.split_once('=')
                    .is_some_and(|(k, v)| is_name(k) && simple_value(v))
            })
            && !text[colon + 1..]
                .bytes()
                .any(|b| b.is_ascii_control() && b != b'\t');
        simple.then_some((name.len(), colon))
    }

    proptest::proptest! {
        /// The one-pass scanner accepts exactly the lines of the simple shape, and finds their
        /// colon where the general search does.
        #[test]
        fn the_scanner_accepts_exactly_the_simple_shape(
            text in "[A-Za-z0-9 -]{0,3}(;[A-Za-z0-9-]{0,2}=?[A-Za-z\"=,;:\t\x01 ]{0,3}){0,3}:?[ -~\t\x01\x7f]{0,6}",
        ) {
            proptest::prop_assert_eq!(scan(&text), simple_by_definition(&text), "{:?}", text);
        }
    }

    #[test]
    fn the_fast_path_takes_plain_lines_and_leaves_quotes_to_the_crate() {
        let text = "DTSTART;TZID=Europe/Berlin:20260101T100000";
        let line = simple_line(text, 0..text.len(), 1).unwrap();
        assert_eq!(line.param("TZID"), Some("Europe/Berlin"));
        assert_eq!(line.value, "20260101T100000");
        let text = "SUMMARY:a\\, b\\nc";
        let line = simple_line(text, 0..text.len(), 1).unwrap();
        assert_eq!(line.value, "a, b\nc");
        for other in [
            "ATTENDEE;CN=\"A, B\":mailto:a@x",
            "X;RSVP:y",
            "A B:c",
            ";X=1:y",
        ] {
            assert!(simple_line(other, 0..other.len(), 1).is_none(), "{other}");
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
