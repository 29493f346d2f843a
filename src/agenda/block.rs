//! The managed block inside a description: markers, finding and reading it, splicing a new one
//! in, and deciding whether a write is needed at all.

use std::ops::Range;

use super::lines::{self, RawLine, collapse};
use super::render::RenderedBlock;
use super::types::Format;

/// The first line of the block. Recognised case-insensitively, with any dashes or box-drawing
/// characters around the words and any whitespace (see [`parse_block`]).
pub const START_MARKER: &str = "── oneonone agenda ──";
/// The last line of the block.
pub const END_MARKER: &str = "── end of oneonone agenda ──";
/// Anywhere in a description (any case): the daemon never touches it.
pub const OPT_OUT_MARKER: &str = "#no-agenda";

const START_WORDS: &str = "oneonone agenda";
/// The start marker's words before the short marker (invites written by earlier versions): still
/// read, so an upgrade finds the block it wrote and replaces it (written in the new form) rather
/// than adding a second one.
const LEGACY_START_WORDS: &str = "oneonone agenda: edit inside, keep these lines";
const END_WORDS: &str = "end of oneonone agenda";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error(
        "the description is {len} bytes, over the limit of {limit}: it is neither read nor written"
    )]
    TooLarge { len: usize, limit: usize },
    #[error(
        "the agenda start marker (line {line}) has no end marker after it: restore the line \
         `{END_MARKER}` or delete the block"
    )]
    MissingEnd { line: usize },
    #[error(
        "an agenda end marker (line {line}) has no start marker before it: restore the line \
         `{START_MARKER}` or delete the block"
    )]
    MissingStart { line: usize },
    #[error(
        "the description holds more than one agenda block (markers on lines {first} and {second}): \
         keep one"
    )]
    Doubled { first: usize, second: usize },
}

/// One non-blank line found inside the block, read lexically (no knowledge of what was written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedLine {
    /// `- [ ] text`, `[x] text`, `* [X] text`, `☐ text`, `☑ text`, `<li>[ ] text</li>`...
    Checkbox { checked: bool, text: String },
    /// `- text` (or an HTML list item) without a checkbox.
    Bullet(String),
    /// Anything else, whitespace collapsed.
    Text(String),
}

impl ParsedLine {
    fn read(raw: &RawLine) -> Option<ParsedLine> {
        let text = collapse(&raw.text);
        if text.is_empty() {
            return None;
        }
        let (bulleted, rest) = match strip_bullet(&text) {
            Some(rest) => (true, rest),
            None => (raw.list_item, text.as_str()),
        };
        // `1. [ ] text` too: a numbered checklist.
        if let Some((checked, body)) =
            strip_checkbox(rest).or_else(|| strip_checkbox(strip_number(rest)))
        {
            return Some(ParsedLine::Checkbox {
                checked,
                text: body.trim().to_string(),
            });
        }
        Some(if bulleted {
            ParsedLine::Bullet(rest.trim().to_string())
        } else {
            ParsedLine::Text(text)
        })
    }

    /// The canonical text form, used to compare blocks regardless of how they are encoded.
    pub fn canonical(&self) -> String {
        match self {
            ParsedLine::Checkbox { checked, text } => {
                format!("- [{}] {text}", if *checked { "x" } else { " " })
            }
            ParsedLine::Bullet(t) => format!("- {t}"),
            ParsedLine::Text(t) => t.clone(),
        }
    }
}

/// `1. text`, `12) text`: the text of a numbered line, for an item made from it.
pub(crate) fn strip_number(s: &str) -> &str {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits) {
        let rest = &s[digits..];
        if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return r.trim_start();
        }
    }
    s
}

fn strip_bullet(s: &str) -> Option<&str> {
    for b in ["- ", "* ", "• ", "+ ", "– ", "· ", "◦ "] {
        if let Some(rest) = s.strip_prefix(b) {
            return Some(rest);
        }
    }
    None
}

fn strip_checkbox(s: &str) -> Option<(bool, &str)> {
    const BOXES: [(&str, bool); 14] = [
        ("[ ]", false),
        ("[]", false),
        ("[x]", true),
        ("[X]", true),
        ("[✓]", true),
        ("[✔]", true),
        ("☐", false),
        ("□", false),
        ("☑", true),
        ("☒", true),
        ("✅", true),
        ("✔️", true),
        ("✔", true),
        ("✓", true),
    ];
    for (b, checked) in BOXES {
        if let Some(rest) = s.strip_prefix(b) {
            // `[x]foo` is still a checkbox; `☐` glued to a word is too.
            return Some((checked, rest));
        }
    }
    None
}

/// The block found in a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedBlock {
    pub format: Format,
    /// Raw byte range from the first character of the start marker to the last of the end marker.
    pub span: Range<usize>,
    /// 1-based logical line numbers of the two markers.
    pub marker_lines: (usize, usize),
    /// The non-blank lines strictly between the markers, in order.
    pub lines: Vec<ParsedLine>,
    /// Per line of `lines`: typed indented (leading blanks or a nested list item).
    pub indented: Vec<bool>,
}

impl ParsedBlock {
    /// The description's text before the block, untouched (`description` is the one parsed).
    pub fn before<'d>(&self, description: &'d str) -> &'d str {
        description.get(..self.span.start).unwrap_or("")
    }

    /// The description's text after the block, untouched.
    pub fn after<'d>(&self, description: &'d str) -> &'d str {
        description.get(self.span.end..).unwrap_or("")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Start,
    End,
}

fn marker_of(text: &str) -> Option<Marker> {
    let t = collapse(text);
    if !t.to_lowercase().contains("oneonone agenda") {
        return None;
    }
    let deco = |c: char| {
        matches!(
            c,
            '─' | '━' | '—' | '–' | '-' | '=' | '_' | '*' | '~' | '#' | '│'
        ) || lines::is_blank(c)
    };
    let trimmed = t.trim_matches(deco);
    let core = collapse(&trimmed.to_lowercase());
    // The short start words need their decoration on both sides: "Oneonone agenda" typed alone
    // on a line (a person's title outside the block) is not a marker.
    let decorated = t.chars().next().is_some_and(deco) && t.chars().next_back().is_some_and(deco);
    if (core == START_WORDS && decorated) || core == LEGACY_START_WORDS {
        Some(Marker::Start)
    } else if core == END_WORDS {
        Some(Marker::End)
    } else {
        None
    }
}

/// True when a person chose to keep the daemon out of this description: the opt-out marker
/// (`#no-agenda`, any case) stands in the text OUTSIDE the managed block. Text between the markers
/// never counts: it is what the daemon wrote, or what people typed into its agenda (a topic
/// from the direct's link among it), and an item must not be able to freeze the invite. When
/// the markers cannot be read (damaged, doubled), every word counts as the person's.
pub fn opted_out(description: &str, format: Format) -> bool {
    opted_out_given(description, &parse_block(description, format, usize::MAX))
}

/// [`opted_out`] with the block already looked for.
fn opted_out_given(description: &str, found: &Result<Option<ParsedBlock>, BlockError>) -> bool {
    match found {
        Ok(Some(b)) => {
            find_opt_out(b.before(description)).is_some()
                || find_opt_out(b.after(description)).is_some()
        }
        Ok(None) | Err(_) => find_opt_out(description).is_some(),
    }
}

/// The byte offset of the first opt-out marker in `s`, any ASCII case. (No other character
/// lower-cases to one of the marker's, so this is the same as comparing lower-cased text.)
fn find_opt_out(s: &str) -> Option<usize> {
    let (h, n) = (s.as_bytes(), OPT_OUT_MARKER.as_bytes());
    h.windows(n.len()).position(|w| w.eq_ignore_ascii_case(n))
}

/// True when `text`, alone on a line, would be read as one of the block's marker lines.
pub fn reads_as_marker(text: &str) -> bool {
    marker_of(text).is_some()
}

/// True when `text` holds the opt-out marker (any case).
pub fn holds_opt_out(text: &str) -> bool {
    find_opt_out(text).is_some()
}

/// `text` with every opt-out marker made inert: its hyphen becomes a non-breaking hyphen
/// (U+2011), which reads the same and is not the marker. The daemon writes text from elsewhere
/// (the direct's link, the API, a name from the invite) through this, so nothing it writes can
/// ever read back as the opt-out.
pub(crate) fn defuse_opt_out(text: &str) -> String {
    let mut out = text.to_string();
    // The hyphen is ASCII at a fixed offset in the match, so the replacement keeps boundaries.
    while let Some(at) = find_opt_out(&out) {
        let hyphen = at + OPT_OUT_MARKER.find('-').unwrap_or(3);
        out.replace_range(hyphen..=hyphen, "\u{2011}");
    }
    out
}

fn check_len(description: &str, max_len: usize) -> Result<(), BlockError> {
    if description.len() > max_len {
        return Err(BlockError::TooLarge {
            len: description.len(),
            limit: max_len,
        });
    }
    Ok(())
}

/// Finds the marker lines: `Ok(None)` when there are none.
fn find_markers(raw: &[RawLine]) -> Result<Option<(usize, usize)>, BlockError> {
    let mut start: Option<usize> = None;
    let mut end: Option<usize> = None;
    for (i, line) in raw.iter().enumerate() {
        match marker_of(&line.text) {
            Some(Marker::Start) => {
                if let Some(s) = start {
                    return Err(BlockError::Doubled {
                        first: s + 1,
                        second: i + 1,
                    });
                }
                start = Some(i);
            }
            Some(Marker::End) => {
                if let Some(e) = end {
                    return Err(BlockError::Doubled {
                        first: e + 1,
                        second: i + 1,
                    });
                }
                if start.is_none() {
                    return Err(BlockError::MissingStart { line: i + 1 });
                }
                end = Some(i);
            }
            None => {}
        }
    }
    match (start, end) {
        (None, None) => Ok(None),
        (Some(s), None) => Err(BlockError::MissingEnd { line: s + 1 }),
        (None, Some(e)) => Err(BlockError::MissingStart { line: e + 1 }),
        (Some(s), Some(e)) => Ok(Some((s, e))),
    }
}

/// Finds the block in a description and reads its lines. `Ok(None)`: no block. Errors: the
/// description is over `max_len` bytes, or the markers are damaged or doubled.
///
/// `format` is how to read the description: `Plain` for CalDAV; `GoogleHtml` for Google, which
/// reads both the HTML a web edit leaves and plain text with newlines.
pub fn parse_block(
    description: &str,
    format: Format,
    max_len: usize,
) -> Result<Option<ParsedBlock>, BlockError> {
    check_len(description, max_len)?;
    let raw = lines::split(description, format);
    let Some((s, e)) = find_markers(&raw)? else {
        return Ok(None);
    };
    let (lines, indented) = raw[s + 1..e]
        .iter()
        .filter_map(|r| ParsedLine::read(r).map(|l| (l, r.indented)))
        .unzip();
    Ok(Some(ParsedBlock {
        format,
        span: raw[s].span.start..raw[e].span.end,
        marker_lines: (s + 1, e + 1),
        lines,
        indented,
    }))
}

/// Replaces the block in `description` with `block` (a rendered block, markers included) where
/// it stands, or, when there is none, adds it after the text the event already has (a video link
/// or dial-in stays on top), one blank line between. Every byte outside the old block is kept as
/// it was. Damaged or doubled markers: an error, and nothing to write.
pub fn splice(
    description: &str,
    block: &str,
    format: Format,
    max_len: usize,
) -> Result<String, BlockError> {
    check_len(description, max_len)?;
    let raw = lines::split(description, format);
    match find_markers(&raw)? {
        Some(_) if crate::sim::mutation::on(crate::sim::Mutation::SecondBlock) => {
            Ok(format!("{description}\n\n{block}"))
        }
        Some((s, e)) => {
            let span = raw[s].span.start..raw[e].span.end;
            let mut out = String::with_capacity(description.len() + block.len());
            out.push_str(&description[..span.start]);
            out.push_str(block);
            out.push_str(&description[span.end..]);
            Ok(out)
        }
        None if description.is_empty() => Ok(block.to_string()),
        None if crate::sim::mutation::on(crate::sim::Mutation::BlockOnTop) => {
            Ok(format!("{block}\n\n{description}"))
        }
        None => Ok(format!(
            "{description}{}{block}",
            separator(description, format)
        )),
    }
}

/// The byte budget of the block to write into `description`: `max_block_bytes`, and no more than
/// what `max_description_bytes` leaves beside the text outside the block (the separator a new
/// block needs counted), so the whole description fits whenever it can. Damaged markers: the
/// plain budget (nothing will be written; a preview shows the block as it would be).
pub fn block_budget(
    description: &str,
    format: Format,
    max_block_bytes: usize,
    max_description_bytes: usize,
) -> usize {
    let cap = max_block_bytes.min(max_description_bytes);
    if description.len() > max_description_bytes {
        return cap;
    }
    let outside = match parse_block(description, format, max_description_bytes) {
        Ok(Some(b)) => description.len() - b.span.len(),
        Ok(None) if description.is_empty() => 0,
        Ok(None) => description.len() + separator(description, format).len(),
        Err(_) => return cap,
    };
    cap.min(max_description_bytes.saturating_sub(outside))
}

/// What goes between a person's text and the block added after it: enough line breaks for one
/// blank line, counting those the text already ends with (they are kept, never trimmed).
fn separator(description: &str, format: Format) -> &'static str {
    let plain_breaks = |s: &str| {
        let tail = s.trim_end_matches([' ', '\t']);
        if tail.ends_with("\n\n") || tail.ends_with("\n\r\n") {
            2
        } else if tail.ends_with('\n') {
            1
        } else {
            0
        }
    };
    match format {
        Format::Plain => ["\n\n", "\n", ""][plain_breaks(description)],
        Format::GoogleHtml => {
            let lower = description.trim_end().to_ascii_lowercase();
            if lower.ends_with("<br><br>") || plain_breaks(description) == 2 {
                ""
            } else if lower.ends_with("<br>") || lower.ends_with("<br/>") {
                "<br>"
            } else if plain_breaks(description) == 1 {
                "\n"
            } else if ["</p>", "</div>", "</ul>", "</ol>"]
                .iter()
                .any(|t| lower.ends_with(t))
            {
                // A closed block element already ends its line: one break makes the blank one.
                "<br>"
            } else {
                "<br><br>"
            }
        }
    }
}

/// The canonical lines of a block's inside, for comparison. An item's carry label counts at the
/// end of its line whatever the place an edit left it in, and without the stale hint once the
/// item is ticked (the render drops it then): neither is worth rewriting a person's invite.
fn canonical_lines(lines: &[ParsedLine]) -> Vec<String> {
    lines
        .iter()
        .map(|l| match l {
            ParsedLine::Checkbox { checked, text } => {
                let (text, label) = super::render::split_carry_label(text);
                let label = label.map_or(String::new(), |(n, hint)| {
                    let hint = if hint && !checked {
                        format!(": {}", super::render::STALE_HINT)
                    } else {
                        String::new()
                    };
                    format!(" (carried x{n}{hint})")
                });
                let text = format!("{text}{label}");
                ParsedLine::Checkbox {
                    checked: *checked,
                    text,
                }
                .canonical()
            }
            other => other.canonical(),
        })
        .collect()
}

/// True when the block found in a description says the same as a rendered one, ignoring what
/// editors change cosmetically: HTML vs plain text, tags, entities, `&nbsp;`, whitespace, blank
/// lines, bullet and checkbox glyphs (`* [X]` and `☑` read as `- [x]`).
pub fn same_block(found: &ParsedBlock, rendered: &RenderedBlock) -> bool {
    match parse_block(&rendered.text, rendered.format, usize::MAX) {
        Ok(Some(mine)) => canonical_lines(&found.lines) == canonical_lines(&mine.lines),
        _ => false,
    }
}

/// What a pass should do with one description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteDecision {
    /// The block already says this: write nothing.
    Unchanged,
    /// Write this description (the old one must be kept as a revision first).
    Write(String),
}

/// Why a description must not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteRefusal {
    #[error("the description contains {OPT_OUT_MARKER} outside the agenda block: never touched")]
    OptedOut,
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error(
        "the agenda block written earlier is gone from the description: someone removed it, so \
         it is not added again"
    )]
    BlockRemoved,
    #[error("writing the agenda would make the description {len} bytes, over the limit of {limit}")]
    ResultTooLarge { len: usize, limit: usize },
}

/// Decides whether to write `rendered` into `description`. `written_before`: this daemon wrote a
/// block into this occurrence earlier (a missing block then means a person removed it).
pub fn plan_write(
    description: &str,
    rendered: &RenderedBlock,
    written_before: bool,
    max_len: usize,
) -> Result<WriteDecision, WriteRefusal> {
    let found = parse_block(description, rendered.format, max_len);
    // A person's opt-out wins over anything wrong with the block.
    if opted_out_given(description, &found) {
        return Err(WriteRefusal::OptedOut);
    }
    let found = found?;
    match &found {
        Some(b) if same_block(b, rendered) => return Ok(WriteDecision::Unchanged),
        None if written_before => return Err(WriteRefusal::BlockRemoved),
        _ => {}
    }
    let out = splice(description, &rendered.text, rendered.format, max_len)?;
    if out.len() > max_len {
        return Err(WriteRefusal::ResultTooLarge {
            len: out.len(),
            limit: max_len,
        });
    }
    Ok(WriteDecision::Write(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 64 * 1024;

    #[test]
    fn markers_survive_html_rewrapping_and_case() {
        for s in [
            "── oneonone agenda ──",
            "<b>──&nbsp;OneOnOne  Agenda&nbsp;──</b>",
            "-- oneonone agenda --",
            "<b>──&nbsp;OneOnOne Agenda: edit inside,  keep these lines&nbsp;──</b>",
        ] {
            let d = format!("{s}<br>x<br>── end of oneonone agenda ──");
            let b = parse_block(&d, Format::GoogleHtml, MAX).unwrap().unwrap();
            assert_eq!(b.lines, vec![ParsedLine::Text("x".into())], "{s}");
        }
    }

    #[test]
    fn damaged_and_doubled_markers_are_typed_errors() {
        let s = START_MARKER;
        let e = END_MARKER;
        let f = Format::Plain;
        assert_eq!(
            parse_block(&format!("a\n{s}\nx"), f, MAX),
            Err(BlockError::MissingEnd { line: 2 })
        );
        assert_eq!(
            parse_block(&format!("{e}\n{s}\n{e}"), f, MAX),
            Err(BlockError::MissingStart { line: 1 })
        );
        assert_eq!(
            parse_block(&format!("{s}\n{e}\n{s}\n{e}"), f, MAX),
            Err(BlockError::Doubled {
                first: 1,
                second: 3
            })
        );
        assert!(matches!(
            splice(&format!("{s}\nno end"), "B", f, MAX),
            Err(BlockError::MissingEnd { .. })
        ));
    }

    #[test]
    fn item_text_looking_like_a_marker_is_not_a_marker() {
        let d = format!("{START_MARKER}\n- [ ] {END_MARKER}\n{END_MARKER}");
        let b = parse_block(&d, Format::Plain, MAX).unwrap().unwrap();
        assert_eq!(
            b.lines,
            vec![ParsedLine::Checkbox {
                checked: false,
                text: END_MARKER.into()
            }]
        );
    }

    #[test]
    fn checkbox_forms_are_read() {
        let d =
            format!("{START_MARKER}\n- [ ] a\n* [X] b\n[x]c\n☐ d\n☑ e\n✅ f\n- g\nh\n{END_MARKER}");
        let b = parse_block(&d, Format::Plain, MAX).unwrap().unwrap();
        let canon: Vec<_> = b.lines.iter().map(ParsedLine::canonical).collect();
        assert_eq!(
            canon,
            [
                "- [ ] a", "- [x] b", "- [x] c", "- [ ] d", "- [x] e", "- [x] f", "- g", "h"
            ]
        );
    }

    #[test]
    fn splice_keeps_the_block_where_it_is_and_adds_a_new_one_after_the_text() {
        // An existing block stays where the person put it (here between their lines).
        let old = format!("before \u{A0}x\n{START_MARKER}\nold\n{END_MARKER}  \r\nafter");
        let out = splice(&old, "NEW", Format::Plain, MAX).unwrap();
        assert_eq!(out, "before \u{A0}x\nNEW  \r\nafter");
        // No block yet: the event's text (a join link) stays on top, one blank line, the block.
        let p = Format::Plain;
        for (text, expect) in [
            (
                "Join: https://meet.example/abc",
                "Join: https://meet.example/abc\n\nNEW",
            ),
            ("Join: x\n", "Join: x\n\nNEW"),
            ("Join: x\r\n", "Join: x\r\n\nNEW"),
            ("Join: x\n\n", "Join: x\n\nNEW"),
            ("Join: x  ", "Join: x  \n\nNEW"),
        ] {
            assert_eq!(splice(text, "NEW", p, MAX).unwrap(), expect, "{text:?}");
        }
        let g = Format::GoogleHtml;
        for (text, expect) in [
            ("<b>hi</b>", "<b>hi</b><br><br>NEW"),
            (
                "<a href=\"x\">Join</a><br>",
                "<a href=\"x\">Join</a><br><br>NEW",
            ),
            ("<p>Join</p>", "<p>Join</p><br>NEW"),
            ("Join: x\n", "Join: x\n\nNEW"),
        ] {
            assert_eq!(splice(text, "NEW", g, MAX).unwrap(), expect, "{text:?}");
        }
        assert_eq!(splice("", "NEW", Format::Plain, MAX).unwrap(), "NEW");
        assert_eq!(splice("", "NEW", Format::GoogleHtml, MAX).unwrap(), "NEW");
    }

    #[test]
    fn old_start_marker_is_still_read_and_the_short_words_need_their_dashes() {
        let legacy = "── oneonone agenda: edit inside, keep these lines ──";
        let d = format!("Zoom\n{legacy}\n- [ ] a\n{END_MARKER}");
        let b = parse_block(&d, Format::Plain, MAX).unwrap().unwrap();
        assert_eq!(b.before(&d), "Zoom\n");
        let out = splice(&d, "NEW", Format::Plain, MAX).unwrap();
        assert_eq!(out, "Zoom\nNEW");
        // A person's title "Oneonone agenda" is not a marker; the decorated form is.
        assert_eq!(
            parse_block("Oneonone agenda\nnotes", Format::Plain, MAX),
            Ok(None)
        );
        let d = format!("-- OneOnOne Agenda --<br>x<br>{END_MARKER}");
        assert!(parse_block(&d, Format::GoogleHtml, MAX).unwrap().is_some());
    }

    #[test]
    fn size_limit_is_a_typed_error() {
        let big = "x".repeat(101);
        assert_eq!(
            parse_block(&big, Format::Plain, 100),
            Err(BlockError::TooLarge {
                len: 101,
                limit: 100
            })
        );
    }

    #[test]
    fn opt_out_marker_is_found_in_any_case() {
        assert!(opted_out("please #No-Agenda here", Format::Plain));
        assert!(!opted_out("no agenda please", Format::Plain));
    }

    #[test]
    fn opt_out_counts_only_outside_the_block() {
        let inside = format!("dial-in\n{START_MARKER}\n- [ ] #no-agenda please\n{END_MARKER}\nbye");
        assert!(!opted_out(&inside, Format::Plain));
        for outside in [
            format!("#NO-agenda\n{START_MARKER}\nx\n{END_MARKER}"),
            format!("{START_MARKER}\nx\n{END_MARKER}\nkeep out: #no-agenda"),
            // Damaged markers: nothing tells the block apart, every word is the person's.
            format!("{START_MARKER}\n- [ ] #no-agenda"),
        ] {
            assert!(opted_out(&outside, Format::Plain), "{outside}");
        }
        let html = format!("<b>#no-agenda</b><br>{START_MARKER}<br>x<br>{END_MARKER}");
        assert!(opted_out(&html, Format::GoogleHtml));
        let html = format!("Zoom<br>{START_MARKER}<ul><li>[ ] #no-agenda</li></ul>{END_MARKER}");
        assert!(!opted_out(&html, Format::GoogleHtml));
    }

    #[test]
    fn a_block_holding_the_opt_out_is_still_written() {
        let block = RenderedBlock {
            format: Format::Plain,
            text: format!("{START_MARKER}\n- [ ] new\n{END_MARKER}"),
            lines: Vec::new(),
            nudged: false,
        };
        let old = format!("{START_MARKER}\n- [ ] #no-agenda\n{END_MARKER}\nuser text");
        let Ok(WriteDecision::Write(new)) = plan_write(&old, &block, true, MAX) else {
            panic!("the opt-out inside the block froze the invite")
        };
        assert_eq!(new, format!("{}\nuser text", block.text));
        let typed = format!("#no-agenda\n{old}");
        assert_eq!(
            plan_write(&typed, &block, true, MAX),
            Err(WriteRefusal::OptedOut)
        );
    }

    #[test]
    fn defused_opt_out_reads_the_same_and_is_no_marker() {
        let d = defuse_opt_out("a #No-Agenda b #no-agenda#NO-AGENDA");
        assert!(!holds_opt_out(&d), "{d}");
        assert_eq!(
            d.replace('\u{2011}', "-"),
            "a #No-Agenda b #no-agenda#NO-AGENDA"
        );
        assert_eq!(defuse_opt_out("nothing here"), "nothing here");
    }

    #[test]
    fn the_block_budget_leaves_room_for_the_text_outside_the_block() {
        use crate::agenda::render::{AgendaInput, Template, render_within};
        use crate::agenda::types::{Item, ItemState, Section};
        const DESC: usize = 64 * 1024;
        const BLOCK: usize = 16 * 1024;
        let f = Format::Plain;
        assert_eq!(block_budget("", f, BLOCK, DESC), BLOCK);
        assert_eq!(block_budget("short link", f, BLOCK, DESC), BLOCK);
        assert_eq!(block_budget("", f, BLOCK, 4096), 4096);
        // 50 KB of the user's text: the block gets what is left (the blank line between counted).
        let own = "x".repeat(50_000);
        assert_eq!(block_budget(&own, f, BLOCK, DESC), DESC - 50_000 - 2);
        // An existing block does not count against itself; the text on both sides does.
        let with_block = format!(
            "{own}\n\n{START_MARKER}\n{}\n{END_MARKER}\nafter",
            "y".repeat(9_000)
        );
        assert_eq!(
            block_budget(&with_block, f, BLOCK, DESC),
            DESC - (50_000 + 2 + 1 + 5)
        );
        assert_eq!(block_budget(&"x".repeat(DESC), f, BLOCK, DESC), 0);
        // Damaged markers: nothing will be written, the plain budget.
        assert_eq!(
            block_budget(&format!("{START_MARKER}\nx"), f, BLOCK, DESC),
            BLOCK
        );

        // A flood of topics beside 50 KB of the user's text folds until the whole description
        // fits, and is written (it was refused as too large with the block's own budget only).
        let items: Vec<Item> = (0..200)
            .map(|id| Item {
                id,
                section: Section::Direct,
                text: format!("Topic {id:03} {}", "t".repeat(100)),
                state: ItemState::Open,
                times_carried: 0,
                in_notes: false,
                position: 0,
            })
            .collect();
        let input = AgendaInput {
            direct_name: "Bob",
            manager_name: "Max",
            items: &items,
            notes: &[],
            last_meeting: None,
            start: chrono::TimeZone::with_ymd_and_hms(&chrono_tz::UTC, 2026, 3, 3, 10, 0, 0)
                .single()
                .unwrap(),
            length: chrono::Duration::minutes(30),
            cancelled_in_a_row: 0,
            last_closed: Default::default(),
            prompt: Default::default(),
        };
        let t = Template::default_template();
        for format in [Format::Plain, Format::GoogleHtml] {
            let budget = block_budget(&own, format, BLOCK, DESC);
            let block = render_within(&input, format, &t, budget).unwrap();
            assert!(block.text.contains("more topics on the page"), "{format:?}");
            match plan_write(&own, &block, false, DESC) {
                Ok(WriteDecision::Write(out)) => {
                    assert!(out.len() <= DESC, "{format:?}: {}", out.len());
                    assert!(out.starts_with(&own));
                }
                other => panic!("{format:?}: {other:?}"),
            }
        }
    }
}
