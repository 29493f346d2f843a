//! Renders the managed block from a series' state and one occurrence, through a minijinja
//! template (wording, order, split) and a fixed formatter (plain text or Google's HTML, escaping).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use minijinja::{Environment, UndefinedBehavior, Value, context};
use serde::{Deserialize, Serialize};

use super::absorb::{answers, line_key};
use super::block::{END_MARKER, START_MARKER, defuse_opt_out, reads_as_marker};
use super::lines::collapse;
use super::types::{Anchor, Area, Format, Item, ItemState, Note, Section};

/// The default template (`config/agenda.j2`): the method in DESIGN.md.
pub const DEFAULT_TEMPLATE: &str = include_str!("../../config/agenda.j2");

/// Starts a directive line in the template's output. A private-use character: it cannot come
/// from people's text, which is stripped of it (and of [`SEP`]) wherever it enters the template
/// ([`clean`]): a name or a topic holding it would otherwise break every render of its series.
const DIRECTIVE: char = '\u{E000}';

/// Names (the direct's, the manager's) are shown up to this many characters, then "…": a
/// name from an invite is not bounded, and the block has a byte budget.
pub(crate) const MAX_NAME_CHARS: usize = 80;

/// An open item carried this many times is stale: its label asks for a decision (the same
/// threshold the insights count as stale).
pub const STALE_AFTER: u32 = 3;
/// What the label of a stale item asks; read back and removed like the plain carry label.
pub const STALE_HINT: &str = "decide, delegate or drop";
/// Separates a heading's area from its text in a directive.
const SEP: char = '\u{E001}';

/// Text from outside (a name, an item, a note, a template argument) as the block shows it: one
/// line, without the two characters the template's output uses for its directives.
fn clean(s: &str) -> String {
    if s.contains([DIRECTIVE, SEP]) {
        collapse(&s.replace([DIRECTIVE, SEP], ""))
    } else {
        collapse(s)
    }
}

/// A name as the block shows it: [`clean`], at most [`MAX_NAME_CHARS`] characters.
fn shown_name(name: &str) -> String {
    let name = clean(name);
    if name.chars().count() <= MAX_NAME_CHARS {
        return name;
    }
    let mut out: String = name.chars().take(MAX_NAME_CHARS - 1).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// What the block shows for one occurrence.
#[derive(Debug, Clone)]
pub struct AgendaInput<'a> {
    pub direct_name: &'a str,
    pub manager_name: &'a str,
    /// The series' items: open ones are shown; done ones are shown ticked (pass only those closed
    /// in this occurrence); dropped ones never. Shown by `position`, then id, in each area.
    pub items: &'a [Item],
    /// The free notes people wrote in this occurrence's block.
    pub notes: &'a [Note],
    /// The last meeting that was held, for "Follow-ups from ...".
    pub last_meeting: Option<NaiveDate>,
    /// The occurrence's start in the event's own zone.
    pub start: DateTime<Tz>,
    pub length: chrono::Duration,
    pub cancelled_in_a_row: u32,
    /// What the last held meeting closed, for "(last time: 2 done, 1 dropped)".
    pub last_closed: LastClosed,
    /// The direct's way in: their link, and whether to ask them for a topic.
    pub prompt: DirectPrompt,
}

/// What the direct's section says besides their topics (issue 27): the line with their private
/// link, and the nudge (a one-line question) when the meeting is near and they queued nothing.
/// The default is neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectPrompt {
    /// The direct's private link (`https://…/d/…`), when the invite carries it.
    pub link: Option<String>,
    /// The meeting is within `agenda.nudge_before_hours` and the direct has no topic queued.
    pub nudge: bool,
}

/// How many items the last held meeting closed: ticked done, or dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastClosed {
    pub done: u32,
    pub dropped: u32,
}

impl LastClosed {
    /// "2 done, 1 dropped", "1 done", "3 dropped"; `None` when it closed nothing.
    pub fn text(self) -> Option<String> {
        let parts: Vec<String> = [(self.done, "done"), (self.dropped, "dropped")]
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("agenda template: {0:#}")]
    Template(#[from] minijinja::Error),
    #[error("agenda template output line {line}: a directive ({what}) must be alone on its line")]
    Directive { line: usize, what: String },
    #[error(
        "the agenda template does not show {what}: every item and every area's notes must \
         appear, so nothing people wrote is hidden"
    )]
    Hidden { what: String },
    #[error("the agenda template shows {what} twice")]
    Twice { what: String },
    #[error(
        "the agenda template has no heading(\"{area}\", ...): new lines people type there could \
         not be read back"
    )]
    MissingHeading { area: &'static str },
    #[error(
        "the agenda template shows a {what} under the heading of area {area}: the read-back \
         would move it there"
    )]
    Misplaced { what: String, area: &'static str },
}

/// A compiled agenda template.
#[derive(Debug)]
pub struct Template {
    env: Environment<'static>,
}

impl Template {
    /// Compiles a template (see `config/agenda.j2` for what it can use).
    pub fn new(source: &str) -> Result<Self, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_function("heading", |area: String, text: String| {
            area_arg(&area)?;
            Ok::<_, minijinja::Error>(format!("{DIRECTIVE}H{area}{SEP}{}", clean(&text)))
        });
        env.add_function("title", |text: String| {
            format!("{DIRECTIVE}T{}", clean(&text))
        });
        env.add_function("line", |text: String| {
            format!("{DIRECTIVE}L{}", clean(&text))
        });
        env.add_function("bullet", |text: String| {
            format!("{DIRECTIVE}B{}", clean(&text))
        });
        env.add_function("item", |it: Value| {
            let id = it.get_attr("id")?;
            let id = i64::try_from(id).map_err(|_| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    "item() takes an item (with an id)",
                )
            })?;
            Ok::<_, minijinja::Error>(format!("{DIRECTIVE}I{id}"))
        });
        env.add_function("notes", |area: String| {
            area_arg(&area)?;
            Ok::<_, minijinja::Error>(format!("{DIRECTIVE}N{area}"))
        });
        env.add_template_owned("agenda", source.to_string())?;
        let template = Self { env };
        template.check()?;
        Ok(template)
    }

    /// Renders a sample with an item and a note in every area, so a template that would hide
    /// them, lacks a heading for an area, or shows an item under another section's heading (the
    /// read-back would then move it) is refused when it is loaded, not at the first write.
    fn check(&self) -> Result<(), RenderError> {
        use chrono::TimeZone;
        let sample = |id: i64, section: Section, in_notes: bool| Item {
            id,
            section,
            text: format!("sample {id}"),
            state: ItemState::Open,
            times_carried: 2,
            in_notes,
            position: 0,
        };
        let items = [
            sample(1, Section::Direct, false),
            sample(2, Section::Action, false),
            sample(3, Section::Manager, false),
            sample(4, Section::Action, true),
        ];
        let notes: Vec<Note> = Area::ALL.iter().map(|&a| Note::new(a, "sample")).collect();
        let input = AgendaInput {
            direct_name: "Direct",
            manager_name: "Manager",
            items: &items,
            notes: &notes,
            last_meeting: chrono::NaiveDate::from_ymd_opt(2026, 1, 6),
            start: chrono_tz::UTC
                .with_ymd_and_hms(2026, 1, 13, 10, 0, 0)
                .single()
                .ok_or_else(|| RenderError::Hidden {
                    what: "a sample date".into(),
                })?,
            length: chrono::Duration::minutes(30),
            cancelled_in_a_row: 1,
            last_closed: Default::default(),
            prompt: Default::default(),
        };
        let block = render(&input, Format::Plain, self)?;
        for area in [Area::Direct, Area::FollowUps, Area::Manager, Area::Notes] {
            if !block
                .lines
                .iter()
                .any(|l| l.kind == LineKind::Heading && l.area == area)
            {
                return Err(RenderError::MissingHeading {
                    area: area.as_str(),
                });
            }
        }
        for l in &block.lines {
            if let LineKind::Item { id, .. } = l.kind {
                let item = items.iter().find(|i| i.id == id);
                if item.is_some_and(|i| Area::of_item(i) != l.area) {
                    return Err(RenderError::Misplaced {
                        what: format!("{} item", item.map_or("an", |i| i.section.as_str())),
                        area: l.area.as_str(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The default template; it is embedded and tested, so this cannot fail at run time.
    pub fn default_template() -> Self {
        #[allow(clippy::expect_used)]
        Self::new(DEFAULT_TEMPLATE).expect("the embedded default template compiles")
    }
}

fn area_arg(area: &str) -> Result<Area, minijinja::Error> {
    Area::parse(area).ok_or_else(|| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("unknown area {area:?}: use top, direct, follow_ups, manager or notes"),
        )
    })
}

/// The kind of one line of a rendered block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LineKind {
    Marker,
    /// Starts an area.
    Heading,
    /// A bold line.
    Title,
    Fixed,
    /// A fixed `- text` line (a standing question).
    Bullet,
    Item {
        id: i64,
        done: bool,
    },
    Note,
    Blank,
    /// Stands for the last items of its area, folded away to keep the block within its byte
    /// budget ("… and 12 more topics on the page"). Those items are not in the block's item
    /// lines, so a read-back never takes them as deleted.
    Folded,
}

/// One line of a rendered block, with what it is. `text` is the item's text for items (without
/// the checkbox or the carried label), the line's text otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedLine {
    pub area: Area,
    #[serde(flatten)]
    pub kind: LineKind,
    pub text: String,
    /// For items: the `(carried xN)` label shown, when any. For a note that answers a standing
    /// question in its place: the question (so the next read still knows it is an answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A rendered block: its text (markers included) and its structure, which the caller stores as
/// "what was written" and hands to [`super::plan_absorb`] on the next read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedBlock {
    pub format: Format,
    pub text: String,
    pub lines: Vec<RenderedLine>,
    /// Rendered with the nudge ([`DirectPrompt::nudge`]): the write that first carries it is
    /// counted as a nudge.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nudged: bool,
}

impl RenderedBlock {
    /// The ids of the items the block shows, in order.
    pub(crate) fn item_ids(&self) -> Vec<i64> {
        self.lines
            .iter()
            .filter_map(|l| match l.kind {
                LineKind::Item { id, .. } => Some(id),
                _ => None,
            })
            .collect()
    }

    /// This block with its item lines removed: the stand-in for "what was written" when a block
    /// is found that this store never wrote. Absorbing against it matches lines to items by
    /// text and never drops an item for being missing.
    pub fn without_items(&self) -> RenderedBlock {
        RenderedBlock {
            format: self.format,
            text: self.text.clone(),
            nudged: self.nudged,
            lines: self
                .lines
                .iter()
                .filter(|l| !matches!(l.kind, LineKind::Item { .. }))
                .cloned()
                .collect(),
        }
    }

    /// This block with the template's own lines of `other` (a render of another state, e.g.
    /// with nothing queued) that it lacks, each after the last line of its area: with
    /// [`Self::without_items`], the stand-in for a block found that may have been written in
    /// that state (a restored one), so its prompts ("Nothing queued yet") read as the
    /// template's, not as topics or notes.
    pub fn with_template_lines_of(&self, other: &RenderedBlock) -> RenderedBlock {
        let mut lines = self.lines.clone();
        for extra in other.lines.iter().filter(|l| {
            matches!(l.kind, LineKind::Fixed | LineKind::Title | LineKind::Bullet)
                && !self
                    .lines
                    .iter()
                    .any(|m| m.area == l.area && m.kind == l.kind && m.text == l.text)
        }) {
            let at = lines
                .iter()
                .rposition(|m| m.area == extra.area)
                .map_or(lines.len(), |i| i + 1);
            lines.insert(at, extra.clone());
        }
        RenderedBlock {
            format: self.format,
            text: self.text.clone(),
            lines,
            nudged: self.nudged,
        }
    }
}

/// How the meeting's minutes split between the direct and the manager: halves, the direct's
/// rounded up to 5 minutes (30 -> 15/15, 45 -> 25/20, 60 -> 30/30).
pub fn split_minutes(length: chrono::Duration) -> (i64, i64) {
    let total = length.num_minutes().max(0);
    let half = (total + 1) / 2;
    let you = if total >= 10 {
        ((half + 4) / 5 * 5).min(total)
    } else {
        half
    };
    (you, total - you)
}

/// `(carried xN)` from two carries; an open manager's or follow-up item at the stale threshold
/// also asks for a decision (a done one no longer needs it). The direct's own topics keep the
/// plain count: a request to decide, delegate or drop would read as a reproach there.
fn carried_label(it: &Item) -> Option<String> {
    let n = it.times_carried;
    if n >= STALE_AFTER && it.state == ItemState::Open && it.section != Section::Direct {
        Some(format!("(carried x{n}: {STALE_HINT})"))
    } else {
        (n >= 2).then(|| format!("(carried x{n})"))
    }
}

/// Splits a read-back item line into the item's text and the carry label found in it, wherever
/// an edit left it: `(carried xN)`, or `(carried xN: decide, delegate or drop)` (then `true`).
/// Only these exact forms (the hint in any case) are ours; every one in the line is removed.
pub fn split_carry_label(text: &str) -> (String, Option<(u32, bool)>) {
    const OPEN: &str = "(carried x";
    let mut rest = text.trim().to_string();
    let mut label = None;
    let mut from = 0;
    while let Some(at) = rest[from..].find(OPEN).map(|i| i + from) {
        let after = &rest[at + OPEN.len()..];
        let digits = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let tail = &after[digits..];
        let hint_len = tail
            .strip_prefix(':')
            .and_then(|t| t.find(')').map(|close| (t, close)))
            .filter(|(t, close)| t[..*close].trim().eq_ignore_ascii_case(STALE_HINT))
            .map(|(_, close)| close + 1);
        let (Ok(n), Some(len)) = (
            after[..digits].parse::<u32>(),
            tail.starts_with(')').then_some(0).or(hint_len),
        ) else {
            from = at + OPEN.len();
            continue;
        };
        label = Some((n, len > 0));
        let end = at + OPEN.len() + digits + len + 1;
        let (left, right) = (rest[..at].trim_end(), rest[end..].trim_start());
        let sep = if left.is_empty() || right.is_empty() {
            ""
        } else {
            " "
        };
        // Where the search goes on: a char boundary of the new text, past what was read.
        from = left.len();
        rest = format!("{left}{sep}{right}");
    }
    (rest, label)
}

fn fmt_date(d: NaiveDate) -> String {
    d.format("%a %-d %b %Y").to_string()
}

/// An item's text as the block shows it: one line, the opt-out marker made inert (an item may
/// come from the direct's link, the API or the invite; none may read back as the opt-out). An
/// item line (`- [ ] text`) never reads as a marker line, whatever its text.
fn shown_text(item: &Item) -> Option<String> {
    let t = defuse_opt_out(&clean(&item.text));
    (!t.is_empty()).then_some(t)
}

/// A line of the template (which may show names from the invite and items' texts) as the block
/// shows it: never the opt-out, never a marker line (quoted then, as notes are).
fn safe_line(text: String) -> String {
    let text = defuse_opt_out(&text);
    if reads_as_marker(&text) {
        format!("> {text}")
    } else {
        text
    }
}

/// Renders the block for one occurrence, whatever its size. The same input gives the same bytes.
pub fn render(
    input: &AgendaInput<'_>,
    format: Format,
    template: &Template,
) -> Result<RenderedBlock, RenderError> {
    render_within(input, format, template, usize::MAX)
}

/// Renders the block for one occurrence within `max_bytes`: when the full block is larger, the
/// last items of the area holding the most item text are folded into one line per area ("… and
/// 12 more topics on the page"), until it fits or no item is left to fold. The folded items
/// stay open in the store and come back as others close; they are not the block's items, so a
/// read-back does not drop them. The same input gives the same bytes.
pub fn render_within(
    input: &AgendaInput<'_>,
    format: Format,
    template: &Template,
    max_bytes: usize,
) -> Result<RenderedBlock, RenderError> {
    let mut shown: BTreeMap<i64, (&Item, String)> = BTreeMap::new();
    for it in input.items {
        if it.state == ItemState::Dropped {
            continue;
        }
        if let Some(t) = shown_text(it) {
            shown.insert(it.id, (it, t));
        }
    }
    let list = |area: Area| -> Vec<Value> {
        let mut in_area: Vec<&(&Item, String)> = shown
            .values()
            .filter(|(it, _)| Area::of_item(it) == area)
            .collect();
        in_area.sort_by_key(|(it, _)| (it.position, it.id));
        in_area
            .into_iter()
            .map(|(it, text)| {
                Value::from_serialize(serde_json::json!({
                    "id": it.id,
                    "text": text,
                    "done": it.state == ItemState::Done,
                    "times_carried": it.times_carried,
                }))
            })
            .collect()
    };
    let (you, me) = split_minutes(input.length);
    let end = input.start + input.length;
    let ctx = context! {
        direct => shown_name(input.direct_name),
        manager => shown_name(input.manager_name),
        date => fmt_date(input.start.date_naive()),
        time => input.start.format("%H:%M").to_string(),
        end_time => end.format("%H:%M").to_string(),
        tz => input.start.timezone().name(),
        length_minutes => input.length.num_minutes(),
        you_minutes => you,
        me_minutes => me,
        last_meeting => input.last_meeting.map(fmt_date),
        cancelled_in_a_row => input.cancelled_in_a_row,
        last_done => input.last_closed.done,
        last_dropped => input.last_closed.dropped,
        last_time => input.last_closed.text(),
        direct_items => list(Area::Direct),
        follow_ups => list(Area::FollowUps),
        manager_items => list(Area::Manager),
        new_actions => list(Area::Notes),
        direct_link => input.prompt.link.as_deref().map(clean),
        nudge => input.prompt.nudge,
    };
    let out = template.env.get_template("agenda")?.render(ctx)?;

    let mut lines = vec![RenderedLine {
        area: Area::Top,
        kind: LineKind::Marker,
        text: START_MARKER.to_string(),
        label: None,
    }];
    let mut area = Area::Top;
    let mut items_done: BTreeSet<i64> = BTreeSet::new();
    let mut notes_done: BTreeSet<Area> = BTreeSet::new();
    let push = |lines: &mut Vec<RenderedLine>, area, kind, text: String| {
        lines.push(RenderedLine {
            area,
            kind,
            text: safe_line(text),
            label: None,
        });
    };
    for (n, raw) in out.lines().enumerate() {
        let line = raw.trim();
        let Some(body) = line.strip_prefix(DIRECTIVE) else {
            if line.contains(DIRECTIVE) {
                return Err(RenderError::Directive {
                    line: n + 1,
                    what: line
                        .replace([DIRECTIVE, SEP], "")
                        .chars()
                        .take(40)
                        .collect(),
                });
            }
            let text = collapse(line);
            let kind = if text.is_empty() {
                LineKind::Blank
            } else {
                LineKind::Fixed
            };
            push(&mut lines, area, kind, text);
            continue;
        };
        if body.contains(DIRECTIVE) {
            return Err(RenderError::Directive {
                line: n + 1,
                what: "two directives".into(),
            });
        }
        let mut chars = body.chars();
        let code = chars.next().unwrap_or(' ');
        let arg = chars.as_str();
        match code {
            'H' => {
                let (a, text) = arg.split_once(SEP).unwrap_or((arg, ""));
                area = Area::parse(a).unwrap_or(area);
                push(&mut lines, area, LineKind::Heading, text.to_string());
            }
            'T' => push(&mut lines, area, LineKind::Title, arg.to_string()),
            'L' => push(&mut lines, area, LineKind::Fixed, arg.to_string()),
            'B' => push(&mut lines, area, LineKind::Bullet, arg.to_string()),
            'I' => {
                let id: i64 = arg.parse().unwrap_or(i64::MIN);
                let Some((it, text)) = shown.get(&id) else {
                    return Err(RenderError::Hidden {
                        what: format!("a known item (item({arg}) names none)"),
                    });
                };
                if !items_done.insert(id) {
                    return Err(RenderError::Twice {
                        what: format!("item {id}"),
                    });
                }
                lines.push(RenderedLine {
                    area,
                    kind: LineKind::Item {
                        id,
                        done: it.state == ItemState::Done,
                    },
                    text: text.clone(),
                    label: carried_label(it),
                });
            }
            'N' => {
                let a = Area::parse(arg).unwrap_or(Area::Top);
                if !notes_done.insert(a) {
                    return Err(RenderError::Twice {
                        what: format!("the notes of {}", a.as_str()),
                    });
                }
                // A slot: the notes of area `a` without a shown anchor go here.
                push(
                    &mut lines,
                    area,
                    LineKind::Note,
                    format!("{DIRECTIVE}{}", a.as_str()),
                );
            }
            _ => {}
        }
    }
    if let Some(id) = shown.keys().find(|id| !items_done.contains(id)) {
        return Err(RenderError::Hidden {
            what: format!("item {id}"),
        });
    }
    lines.push(RenderedLine {
        area,
        kind: LineKind::Marker,
        text: END_MARKER.to_string(),
        label: None,
    });
    let mut lines = place_notes(lines, input.notes)?;
    tidy_blanks(&mut lines);
    let (lines, text) = fold_to_budget(lines, format, max_bytes);
    Ok(RenderedBlock {
        format,
        text,
        lines,
        nudged: input.prompt.nudge,
    })
}

fn to_text(lines: &[RenderedLine], format: Format) -> String {
    match format {
        Format::Plain => to_plain(lines),
        Format::GoogleHtml => to_html(lines),
    }
}

/// The line standing for `n` items folded away in `area`.
fn fold_text(area: Area, n: usize) -> String {
    let noun = match (area, n) {
        (Area::FollowUps | Area::Notes, 1) => "action item",
        (Area::FollowUps | Area::Notes, _) => "action items",
        (_, 1) => "topic",
        _ => "topics",
    };
    format!("… and {n} more {noun} on the page")
}

/// True when a line read back is a fold line as [`fold_text`] writes it, whatever its count:
/// it stands for items the store holds, and is neither a note nor an item.
pub(crate) fn is_fold_text(text: &str) -> bool {
    let text = collapse(text);
    let Some((n, rest)) = text.strip_prefix("… and ").and_then(|r| r.split_once(' ')) else {
        return false;
    };
    !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
        && [
            "more topic on the page",
            "more topics on the page",
            "more action item on the page",
            "more action items on the page",
        ]
        .contains(&rest)
}

/// Roughly how many bytes a line takes in the output (its separator included); the fold loop
/// measures the real text after each estimate, so this only has to be close.
fn line_cost(l: &RenderedLine, format: Format) -> usize {
    let body = match l.kind {
        LineKind::Item { done, .. } => item_body(l, done),
        _ => l.text.clone(),
    };
    match format {
        Format::Plain => body.len() + 3,
        Format::GoogleHtml => escape(&body).len() + 9,
    }
}

/// Folds items away, the last ones of the area holding the most item bytes first, until the
/// text is within `max_bytes` (or nothing is left to fold). Returns the lines and their text.
fn fold_to_budget(
    lines: Vec<RenderedLine>,
    format: Format,
    max_bytes: usize,
) -> (Vec<RenderedLine>, String) {
    let full = to_text(&lines, format);
    if full.len() <= max_bytes {
        return (lines, full);
    }
    // The item lines of each area, in order, with their cost.
    let mut shown: BTreeMap<Area, Vec<(usize, usize)>> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        if matches!(l.kind, LineKind::Item { .. }) {
            shown
                .entry(l.area)
                .or_default()
                .push((i, line_cost(l, format)));
        }
    }
    let mut bytes: BTreeMap<Area, usize> = shown
        .iter()
        .map(|(a, v)| (*a, v.iter().map(|(_, c)| c).sum()))
        .collect();
    let mut folded: BTreeMap<Area, usize> = BTreeMap::new();
    let mut excess = full.len() - max_bytes;
    loop {
        let mut over = excess as isize;
        while over > 0 {
            // The fullest area; on a tie, the later one (notes, then the manager's topics...).
            let Some(area) = bytes
                .iter()
                .filter(|(a, _)| shown.get(a).is_some_and(|v| !v.is_empty()))
                .max_by_key(|(a, b)| (**b, **a))
                .map(|(a, _)| *a)
            else {
                break;
            };
            let Some((_, cost)) = shown.get_mut(&area).and_then(Vec::pop) else {
                break;
            };
            if let Some(b) = bytes.get_mut(&area) {
                *b -= cost;
            }
            let n = folded.entry(area).or_insert(0);
            let before = if *n == 0 {
                0
            } else {
                fold_text(area, *n).len() + 9
            };
            *n += 1;
            let after = fold_text(area, *n).len() + 9;
            over = over - cost as isize + (after - before) as isize;
        }
        let out = apply_folds(&lines, &folded);
        let text = to_text(&out, format);
        let nothing_left = shown.values().all(Vec::is_empty);
        if text.len() <= max_bytes || nothing_left {
            return (out, text);
        }
        excess = text.len() - max_bytes;
    }
}

/// `lines` with the last `n` item lines of each area in `folded` replaced by one fold line,
/// where the first of them stood.
fn apply_folds(lines: &[RenderedLine], folded: &BTreeMap<Area, usize>) -> Vec<RenderedLine> {
    let mut items: BTreeMap<Area, Vec<usize>> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        if matches!(l.kind, LineKind::Item { .. }) {
            items.entry(l.area).or_default().push(i);
        }
    }
    // The index of the first folded line of each area, and every folded index.
    let mut first: BTreeMap<usize, (Area, usize)> = BTreeMap::new();
    let mut gone: BTreeSet<usize> = BTreeSet::new();
    for (area, &n) in folded.iter().filter(|(_, n)| **n > 0) {
        let all = items.get(area).map_or(&[][..], Vec::as_slice);
        let from = all.len().saturating_sub(n);
        if let Some(&at) = all.get(from) {
            first.insert(at, (*area, n));
        }
        gone.extend(&all[from..]);
    }
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        if let Some(&(area, n)) = first.get(&i) {
            out.push(RenderedLine {
                area,
                kind: LineKind::Folded,
                text: fold_text(area, n),
                label: None,
            });
        }
        if !gone.contains(&i) {
            out.push(l.clone());
        }
    }
    out
}

/// Puts each note after the line it was typed after, or else in its area's slot (both in the
/// notes' order). Notes with neither are refused: the template would hide them.
fn place_notes(base: Vec<RenderedLine>, notes: &[Note]) -> Result<Vec<RenderedLine>, RenderError> {
    let slot_of = |l: &RenderedLine| -> Option<Area> {
        (l.kind == LineKind::Note)
            .then(|| l.text.strip_prefix(DIRECTIVE).and_then(Area::parse))
            .flatten()
    };
    let mut after: Vec<Vec<&Note>> = vec![Vec::new(); base.len()];
    let mut in_slot: BTreeMap<Area, Vec<&Note>> = BTreeMap::new();
    for note in notes.iter().filter(|n| !clean(&n.text).is_empty()) {
        let is_anchor = |l: &RenderedLine| match &note.after {
            Some(Anchor::Item { id }) => matches!(l.kind, LineKind::Item { id: i, .. } if i == *id),
            Some(Anchor::Line { key }) => {
                let template_line = match l.kind {
                    // Only the start marker: a note after the end one would leave the block.
                    LineKind::Marker => l.text == START_MARKER,
                    LineKind::Heading | LineKind::Title | LineKind::Fixed | LineKind::Bullet => {
                        true
                    }
                    _ => false,
                };
                template_line && line_key(l) == *key
            }
            _ => false,
        };
        // Prefer the anchor in the note's own area (a fixed text may repeat across areas).
        let target = base
            .iter()
            .position(|l| l.area == note.area && is_anchor(l))
            .or_else(|| base.iter().position(is_anchor));
        match target {
            Some(i) => after[i].push(note),
            None => in_slot.entry(note.area).or_default().push(note),
        }
    }
    let slots: BTreeSet<Area> = base.iter().filter_map(slot_of).collect();
    if let Some(area) = in_slot.keys().find(|a| !slots.contains(a)) {
        return Err(RenderError::Hidden {
            what: format!("the notes of {}", area.as_str()),
        });
    }
    let note_line = |area: Area, note: &Note, question: Option<&String>| {
        let answer = question.filter(|q| answers(q, &note.text));
        // A note after a question that does not repeat it is an answer typed under it.
        let indent = question.is_some() && answer.is_none();
        RenderedLine {
            area,
            kind: LineKind::Note,
            text: format!(
                "{}{}",
                if indent { ANSWER_INDENT } else { "" },
                note_text(defuse_opt_out(&clean(&note.text)))
            ),
            label: answer.cloned(),
        }
    };
    let mut out = Vec::with_capacity(base.len() + notes.len());
    for (l, following) in base.into_iter().zip(after) {
        let area = l.area;
        // Notes after a standing question are its answers: one that repeats the question with
        // more words stands in its place (the question is not shown twice); the others are
        // indented under it, as they were typed, and read back as answers again.
        let question = (l.kind == LineKind::Bullet).then(|| l.text.clone());
        let answered = question
            .as_ref()
            .is_some_and(|q| following.iter().any(|n| answers(q, &n.text)));
        if let Some(slot) = slot_of(&l) {
            for note in in_slot.remove(&slot).unwrap_or_default() {
                out.push(note_line(area, note, None));
            }
        } else if !answered {
            out.push(l);
        }
        for note in following {
            out.push(note_line(area, note, question.as_ref()));
        }
    }
    Ok(out)
}

/// What an answer typed under a standing question is rendered with: it reads back as indented.
const ANSWER_INDENT: &str = "  ";

/// A note that would read as a marker line would break the block: quote it.
fn note_text(text: String) -> String {
    let probe = format!("{START_MARKER}\n{text}\n{END_MARKER}");
    match super::block::parse_block(&probe, Format::Plain, usize::MAX) {
        Ok(Some(_)) => text,
        _ => format!("> {text}"),
    }
}

/// One blank line at most between lines; none after the start marker or before the end marker.
fn tidy_blanks(lines: &mut Vec<RenderedLine>) {
    let mut out: Vec<RenderedLine> = Vec::with_capacity(lines.len());
    for l in lines.drain(..) {
        let blank = l.kind == LineKind::Blank;
        let after_blank_or_marker = out
            .last()
            .is_none_or(|p| matches!(p.kind, LineKind::Blank | LineKind::Marker));
        if blank && after_blank_or_marker {
            continue;
        }
        if l.kind == LineKind::Marker && out.last().is_some_and(|p| p.kind == LineKind::Blank) {
            out.pop();
        }
        out.push(l);
    }
    *lines = out;
}

fn item_body(l: &RenderedLine, done: bool) -> String {
    let mut s = format!("[{}] {}", if done { "x" } else { " " }, l.text);
    if let Some(label) = &l.label {
        s.push(' ');
        s.push_str(label);
    }
    s
}

fn to_plain(lines: &[RenderedLine]) -> String {
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for l in lines {
        out.push(match l.kind {
            LineKind::Item { done, .. } => format!("- {}", item_body(l, done)),
            LineKind::Bullet => format!("- {}", l.text),
            LineKind::Blank => String::new(),
            _ => l.text.clone(),
        });
    }
    out.join("\n")
}

/// Escapes text for an HTML text node: `&`, `<` and `>` only. The block writes no attributes, so
/// quotes need nothing, and escaping them would multiply a note of quotes by six against the
/// byte budget.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Google's subset: `<b>`, `<ul><li>`, `<br>`, no newlines (Google would show them as breaks).
/// The markers are bare text at both ends so splicing replaces exactly marker to marker.
fn to_html(lines: &[RenderedLine]) -> String {
    let mut out = String::new();
    let mut in_list = false;
    let last = lines.len().saturating_sub(1);
    for (i, l) in lines.iter().enumerate() {
        let li = match l.kind {
            LineKind::Item { done, .. } => Some(item_body(l, done)),
            LineKind::Bullet => Some(l.text.clone()),
            _ => None,
        };
        if let Some(body) = li {
            if !in_list {
                out.push_str("<ul>");
                in_list = true;
            }
            out.push_str("<li>");
            out.push_str(&escape(&body));
            out.push_str("</li>");
            continue;
        }
        if in_list {
            out.push_str("</ul>");
            in_list = false;
        }
        match l.kind {
            LineKind::Heading | LineKind::Title => {
                out.push_str("<b>");
                out.push_str(&escape(&l.text));
                out.push_str("</b>");
            }
            LineKind::Blank => {}
            LineKind::Note => {
                // An answer's indent survives in HTML as non-breaking spaces.
                let text = l.text.trim_start_matches(' ');
                for _ in text.len()..l.text.len() {
                    out.push_str("&nbsp;");
                }
                out.push_str(&escape(text));
            }
            _ => out.push_str(&escape(&l.text)),
        }
        if i != last {
            out.push_str("<br>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_follows_length() {
        let m = chrono::Duration::minutes;
        assert_eq!(split_minutes(m(30)), (15, 15));
        assert_eq!(split_minutes(m(45)), (25, 20));
        assert_eq!(split_minutes(m(60)), (30, 30));
        assert_eq!(split_minutes(m(5)), (3, 2));
    }

    #[test]
    fn last_closed_reads_as_one_short_line() {
        let lc = |done, dropped| LastClosed { done, dropped }.text();
        assert_eq!(lc(2, 1).as_deref(), Some("2 done, 1 dropped"));
        assert_eq!(lc(1, 0).as_deref(), Some("1 done"));
        assert_eq!(lc(0, 3).as_deref(), Some("3 dropped"));
        assert_eq!(lc(0, 0), None);
    }

    #[test]
    fn the_follow_ups_say_what_the_last_meeting_closed_only_when_it_closed_something() {
        let t = Template::default_template();
        let items = [open_item(1, Section::Action, "Send the offer")];
        let start = chrono::TimeZone::with_ymd_and_hms(&chrono_tz::UTC, 2026, 3, 10, 10, 0, 0)
            .single()
            .unwrap();
        let input = |last_closed| AgendaInput {
            direct_name: "Ann",
            manager_name: "Max",
            items: &items,
            notes: &[],
            last_meeting: chrono::NaiveDate::from_ymd_opt(2026, 3, 3),
            start,
            length: chrono::Duration::minutes(30),
            cancelled_in_a_row: 0,
            last_closed,
            prompt: Default::default(),
        };
        let both = LastClosed {
            done: 2,
            dropped: 1,
        };
        let text = render(&input(both), Format::Plain, &t).unwrap().text;
        let lines: Vec<&str> = text.lines().collect();
        let heading = lines
            .iter()
            .position(|l| l.starts_with("Follow-ups from"))
            .unwrap_or_else(|| panic!("{text}"));
        assert_eq!(
            lines[heading], "Follow-ups from Tue 3 Mar 2026 (last time: 2 done, 1 dropped)",
            "{text}"
        );
        assert!(lines[heading + 1].contains("Send the offer"), "{text}");
        let none = render(&input(LastClosed::default()), Format::Plain, &t)
            .unwrap()
            .text;
        assert!(!none.contains("last time"), "{none}");
    }

    #[test]
    fn default_template_compiles() {
        Template::new(DEFAULT_TEMPLATE).unwrap();
    }

    #[test]
    fn template_without_a_heading_or_with_misplaced_items_is_refused_at_load() {
        let all = DEFAULT_TEMPLATE;
        let no_notes_heading = all.replace("heading(\"notes\", ", "title(");
        assert_ne!(no_notes_heading, all);
        assert!(matches!(
            Template::new(&no_notes_heading),
            Err(RenderError::MissingHeading { area: "notes" })
        ));
        // Follow-ups shown under the manager's heading.
        let moved = all.replace(
            "{% for it in follow_ups %}\n{{ item(it) }}\n{% endfor %}",
            "",
        );
        let moved = moved.replace(
            "{% for it in manager_items %}",
            "{% for it in follow_ups %}\n{{ item(it) }}\n{% endfor %}\n{% for it in manager_items %}",
        );
        assert_ne!(moved, all);
        assert!(
            matches!(Template::new(&moved), Err(RenderError::Misplaced { .. })),
            "{:?}",
            Template::new(&moved).map(|_| ())
        );
    }

    #[test]
    fn template_hiding_items_is_refused() {
        let t = Template {
            env: {
                let mut env = Environment::new();
                env.add_function("heading", |a: String, t: String| {
                    format!("{DIRECTIVE}H{a}{SEP}{t}")
                });
                env.add_function("notes", |a: String| format!("{DIRECTIVE}N{a}"));
                env.add_template_owned(
                    "agenda",
                    "{{ heading('direct', 'x') }}\n{{ notes('direct') }}".to_string(),
                )
                .unwrap();
                env
            },
        };
        assert!(matches!(
            Template::new("{{ heading('direct', 'x') }}\n{{ notes('direct') }}"),
            Err(RenderError::Hidden { .. })
        ));
        let items = [Item {
            id: 7,
            section: Section::Direct,
            text: "t".into(),
            state: ItemState::Open,
            times_carried: 0,
            in_notes: false,
            position: 0,
        }];
        let start = chrono::TimeZone::with_ymd_and_hms(&chrono_tz::UTC, 2026, 3, 3, 10, 0, 0)
            .single()
            .unwrap();
        let input = AgendaInput {
            direct_name: "A",
            manager_name: "B",
            items: &items,
            notes: &[],
            last_meeting: None,
            start,
            length: chrono::Duration::minutes(30),
            cancelled_in_a_row: 0,
            last_closed: Default::default(),
            prompt: Default::default(),
        };
        let err = render(&input, Format::Plain, &t).unwrap_err();
        assert!(matches!(err, RenderError::Hidden { .. }), "{err}");
    }

    #[test]
    fn rendered_text_never_reads_back_as_the_opt_out_or_a_marker() {
        use crate::agenda::absorb::plan_absorb;
        use crate::agenda::block::{holds_opt_out, parse_block};
        // A template that shows the direct's name alone on a line: a name from the invite that
        // is a marker line must not end the block early.
        let bare = DEFAULT_TEMPLATE.replace(
            "{{ notes(\"direct\") }}",
            "{{ line(direct) }}\n{{ notes(\"direct\") }}",
        );
        assert_ne!(bare, DEFAULT_TEMPLATE);
        let t = Template::new(&bare).unwrap();
        let item = |id, section, text: &str| Item {
            id,
            section,
            text: text.into(),
            state: ItemState::Open,
            times_carried: 0,
            in_notes: false,
            position: 0,
        };
        let items = [
            item(1, Section::Direct, "skip it #No-Agenda"),
            item(2, Section::Direct, START_MARKER),
            item(3, Section::Manager, END_MARKER),
            item(4, Section::Action, "#no-agenda#NO-AGENDA"),
        ];
        let notes = [Note::new(Area::Notes, "typed #no-agenda in the block")];
        let start = chrono::TimeZone::with_ymd_and_hms(&chrono_tz::UTC, 2026, 3, 3, 10, 0, 0)
            .single()
            .unwrap();
        for direct_name in [END_MARKER, "#no-agenda"] {
            let input = AgendaInput {
                direct_name,
                manager_name: "Max #No-agenda",
                items: &items,
                notes: &notes,
                last_meeting: None,
                start,
                length: chrono::Duration::minutes(30),
                cancelled_in_a_row: 0,
                last_closed: Default::default(),
                prompt: Default::default(),
            };
            for format in [Format::Plain, Format::GoogleHtml] {
                let block = render(&input, format, &t).unwrap();
                assert!(!holds_opt_out(&block.text), "{format:?}:\n{}", block.text);
                let parsed = parse_block(&block.text, format, usize::MAX)
                    .unwrap_or_else(|e| panic!("{format:?}: {e}\n{}", block.text))
                    .unwrap();
                assert_eq!(parsed.span, 0..block.text.len(), "{format:?}");
                // The items read back as themselves: no edit, no new item, nothing dropped.
                let plan = plan_absorb(&items, &block, &parsed);
                assert!(plan.actions.is_empty(), "{format:?}: {:?}", plan.actions);
                // Rendering again from what was read back gives the same bytes.
                let again = AgendaInput {
                    notes: &plan.notes,
                    ..input.clone()
                };
                assert_eq!(render(&again, format, &t).unwrap().text, block.text);
            }
        }
    }

    fn open_item(id: i64, section: Section, text: &str) -> Item {
        Item {
            id,
            section,
            text: text.into(),
            state: ItemState::Open,
            times_carried: 0,
            in_notes: false,
            position: 0,
        }
    }

    fn sample_input<'a>(
        direct_name: &'a str,
        manager_name: &'a str,
        items: &'a [Item],
        notes: &'a [Note],
    ) -> AgendaInput<'a> {
        AgendaInput {
            direct_name,
            manager_name,
            items,
            notes,
            last_meeting: None,
            start: chrono::TimeZone::with_ymd_and_hms(&chrono_tz::UTC, 2026, 3, 3, 10, 0, 0)
                .single()
                .unwrap(),
            length: chrono::Duration::minutes(30),
            cancelled_in_a_row: 0,
            last_closed: Default::default(),
            prompt: Default::default(),
        }
    }

    #[test]
    fn directive_characters_in_names_items_and_notes_never_break_the_render() {
        use crate::agenda::absorb::plan_absorb;
        use crate::agenda::block::parse_block;
        // A template that also shows the names and an item's text raw, alone on a line: a name
        // like "\u{E000}I1" must not read as a directive there.
        let raw = DEFAULT_TEMPLATE.replace(
            "{{ notes(\"direct\") }}",
            "{{ direct }}\n{{ manager }}\n{% for it in direct_items %}{{ it.text }}\n{% endfor %}\
             {{ notes(\"direct\") }}",
        );
        assert_ne!(raw, DEFAULT_TEMPLATE);
        let items = [
            open_item(1, Section::Direct, "\u{E000}I2 pay\u{E001}"),
            open_item(2, Section::Manager, "Q3\u{E000} budget"),
        ];
        let notes = [
            Note::new(Area::Notes, "a note \u{E000}Hnotes\u{E001}x"),
            Note::new(Area::Top, "\u{E000}Ndirect"),
        ];
        for t in [Template::default_template(), Template::new(&raw).unwrap()] {
            for (direct, manager) in [("Bob\u{E000}x", "Max\u{E001}"), ("\u{E000}I1", "\u{E000}")] {
                let input = sample_input(direct, manager, &items, &notes);
                for format in [Format::Plain, Format::GoogleHtml] {
                    let block = render(&input, format, &t)
                        .unwrap_or_else(|e| panic!("{direct:?} {format:?}: {e}"));
                    assert!(
                        !block.text.contains([DIRECTIVE, SEP]),
                        "{format:?}:\n{}",
                        block.text
                    );
                    assert!(block.text.contains("pay"), "{}", block.text);
                    if direct == "Bob\u{E000}x" {
                        assert!(block.text.contains("Bobx goes first"), "{}", block.text);
                    }
                    // It reads back as itself: no edit, no new item, the same notes.
                    let parsed = parse_block(&block.text, format, usize::MAX)
                        .unwrap()
                        .unwrap();
                    let plan = plan_absorb(&items, &block, &parsed);
                    assert!(plan.actions.is_empty(), "{format:?}: {:?}", plan.actions);
                    let again = AgendaInput {
                        notes: &plan.notes,
                        ..input.clone()
                    };
                    assert_eq!(render(&again, format, &t).unwrap().text, block.text);
                }
            }
        }
    }

    #[test]
    fn quotes_are_not_escaped_in_google_html_and_read_back_as_typed() {
        use crate::agenda::absorb::plan_absorb;
        use crate::agenda::block::parse_block;
        let t = Template::default_template();
        let items = [open_item(
            1,
            Section::Direct,
            r#"The "new" plan's <scope> & cost"#,
        )];
        let notes = [Note::new(Area::Notes, "\"".repeat(12_000))];
        let input = sample_input("Bob \"B\" O'Neil", "Max", &items, &notes);
        let block = render(&input, Format::GoogleHtml, &t).unwrap();
        // One byte per quote (it was six with `&quot;`): the block stays near the note's size.
        assert!(block.text.len() < 13_000, "{} bytes", block.text.len());
        assert!(
            block
                .text
                .contains(r#"The "new" plan's &lt;scope&gt; &amp; cost"#)
        );
        let parsed = parse_block(&block.text, Format::GoogleHtml, usize::MAX)
            .unwrap()
            .unwrap();
        let plan = plan_absorb(&items, &block, &parsed);
        assert!(plan.actions.is_empty(), "{:?}", plan.actions);
        assert_eq!(plan.notes.len(), 1);
        assert_eq!(plan.notes[0].text, "\"".repeat(12_000));
        assert!(block.text.contains("Bob \"B\" O'Neil goes first"));
    }

    #[test]
    fn long_names_are_cut_to_a_bounded_length() {
        let t = Template::default_template();
        let direct = "D".repeat(20_000);
        let manager = format!("{} tail", "M".repeat(20_000));
        let input = sample_input(&direct, &manager, &[], &[]);
        for format in [Format::Plain, Format::GoogleHtml] {
            let block = render(&input, format, &t).unwrap();
            assert!(
                block.text.len() < 2_000,
                "{format:?}: {} bytes",
                block.text.len()
            );
            let shown = format!("{}…", "D".repeat(MAX_NAME_CHARS - 1));
            assert!(
                block.text.contains(&format!("{shown} goes first")),
                "{}",
                block.text
            );
            assert!(
                block
                    .text
                    .contains(&format!("Topics from {}…", "M".repeat(79)))
            );
        }
        // A short name is shown whole; a long one is cut at a space without a trailing blank.
        assert_eq!(shown_name("Ana Lima"), "Ana Lima");
        let cut = shown_name(&format!("{} {}", "a".repeat(78), "b".repeat(10)));
        assert_eq!(cut, format!("{}…", "a".repeat(78)));
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS - 1);
    }
}
