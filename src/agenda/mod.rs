//! The agenda engine, pure half: render the managed block, parse it back (plain text and Google's
//! HTML), splice it into a description, plan what a read-back means for the series' items, and the
//! carry-over rules when a meeting closes. No I/O here: the store and sync layers persist and apply
//! what these functions decide.
//!
//! # The contract with the user
//! The daemon owns only the text between two marker lines:
//!
//! ```text
//! ── oneonone agenda ──
//! ...
//! ── end of oneonone agenda ──
//! ```
//!
//! Markers are recognised after HTML decoding, whitespace collapsing and with any run of dashes or
//! box-drawing characters around the words, case-insensitively, so Google's editor and CalDAV
//! clients that re-wrap or re-encode them do not break the block. The start marker of earlier
//! versions (`── oneonone agenda: edit inside, keep these lines ──`) is still read; the new one is
//! written in its place. A missing end, a missing start
//! or a doubled marker is a [`BlockError`]: nothing is written.
//!
//! # How the pieces fit (one pass for one occurrence)
//! 1. [`opted_out`]: `#no-agenda` typed outside the block means the description is never
//!    touched (text inside the block never counts: the daemon wrote it, and everything it writes
//!    there has the marker made inert, so no topic can freeze the invite).
//! 2. [`parse_block`]`(description, format, max_len)` finds the block and returns its logical
//!    lines ([`ParsedBlock`]); `Ok(None)` when there is none; [`BlockError`] when the description
//!    is over `max_len` bytes or the markers are damaged or doubled.
//! 3. [`plan_absorb_at`]`(items, written, parsed, moment)` compares those lines with the block
//!    as last written ([`RenderedBlock`], which the caller stores, e.g. as JSON next to the
//!    occurrence) and the series' items, and returns an [`AbsorbPlan`]: [`AbsorbAction`]s (close,
//!    reopen, create, edit, move, place, drop) plus every free [`Note`] now in the block. Before
//!    the meeting ([`Moment`]) any new line in a topic area is a topic (`- x`, `* x`, `• x`,
//!    `1. x`, a checkbox, a plain line); in the notes area only checkbox lines are items. A block found
//!    in an occurrence this store never wrote (copied by a person, or a lost database) is still
//!    absorbed before anything is written: pass a fresh render through
//!    [`RenderedBlock::without_items`] as `written` (lines then match items by text, and nothing
//!    is dropped for being missing).
//! 4. The caller applies the plan (the store in production, [`Ledger`] in memory) and renders the
//!    new state: [`render`]`(&`[`AgendaInput`]`, format, &`[`Template`]`)` -> [`RenderedBlock`];
//!    [`render_within`] also keeps the block under a byte budget by folding the last items of
//!    the fullest area into one line ("… and 12 more topics on the page"); [`block_budget`] gives
//!    that budget for a description, so the text around the block counts. Folded items are not
//!    among the block's item lines, so the next read-back does not take them as deleted.
//! 5. [`plan_write`]`(description, &rendered, written_before, max_len)` says whether to write:
//!    [`WriteDecision::Unchanged`] when the block already says the same ([`same_block`] ignores
//!    what Google rewrites cosmetically), else the spliced description ([`splice`]); or a
//!    [`WriteRefusal`]. Store the old description as a revision, write with the etag, and store
//!    the new [`RenderedBlock`] as "written". On a conflict (412): re-read, and go to 2 with the
//!    same "written" block.
//! 6. When an occurrence has ended: absorb its final block, then [`close_meeting`]`(items, shown,
//!    outcome)` gives the carry changes ([`MeetingOutcome::Held`] -> `times_carried + 1` for the
//!    open items it showed; `Cancelled`/`Moved` -> they move on without a carry). A skipped week
//!    has no occurrence and is never closed.
//!
//! What the store must keep per item is [`Item`] (`in_notes`: an action item typed in the notes
//! area of the current occurrence; [`close_meeting`] clears it), and per occurrence the notes
//! ([`Note`]s: area, text, and the line each follows, with new items' ids filled in by
//! [`AbsorbPlan::notes_with_ids`]) and the last written [`RenderedBlock`]. The template is
//! `config/agenda.j2` ([`DEFAULT_TEMPLATE`]); a user's own is compiled and checked with
//! [`Template::new`] (load it at start-up: a template that would hide items or lacks a heading is
//! refused there with a [`RenderError`]).
//!
//! Item identity across renders uses no visible reference: lines are matched to the items that
//! were written, by exact text, then by text similarity within a section helped by position (see
//! `docs/decisions.md`, "agenda").

mod absorb;
mod block;
mod carry;
mod lines;
mod render;

use serde::{Deserialize, Serialize};

pub use absorb::{AbsorbAction, AbsorbPlan, Moment, items_per_area, plan_absorb, plan_absorb_at};
pub use block::{
    BlockError, END_MARKER, OPT_OUT_MARKER, ParsedBlock, ParsedLine, START_MARKER, WriteDecision,
    WriteRefusal, block_budget, holds_opt_out, opted_out, parse_block, plan_write, reads_as_marker,
    same_block, splice,
};
pub use carry::{CarryChange, ClosedMeeting, Ledger, MeetingOutcome, MeetingRecord, close_meeting};
pub use render::{
    AgendaInput, DEFAULT_TEMPLATE, LineKind, RenderError, RenderedBlock, RenderedLine, STALE_AFTER,
    STALE_HINT, Template, render, render_within, split_carry_label, split_minutes,
};

/// Which part of the 1:1 an item belongs to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// The direct's topics ("15 minutes for you").
    Direct,
    /// The manager's topics.
    Manager,
    /// Action items: written under "Notes and action items", followed up in the next meeting.
    Action,
}

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Direct => "direct",
            Section::Manager => "manager",
            Section::Action => "action",
        }
    }

    /// Parses `direct`, `manager` or `action` (the CLI's `--section` and the store's column).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "direct" => Some(Section::Direct),
            "manager" => Some(Section::Manager),
            "action" => Some(Section::Action),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Open,
    Done,
    /// Deleted by a person; never rendered again.
    Dropped,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Open => "open",
            ItemState::Done => "done",
            ItemState::Dropped => "dropped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Some(ItemState::Open),
            "done" => Some(ItemState::Done),
            "dropped" => Some(ItemState::Dropped),
            _ => None,
        }
    }
}

/// One item of a series as the store holds it.
///
/// What [`render`] shows: `Open` items, and `Done` items the caller passes because they were
/// closed in the occurrence being rendered (shown ticked until the meeting closes). `Dropped`
/// items are never shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: i64,
    pub section: Section,
    pub text: String,
    pub state: ItemState,
    pub times_carried: u32,
    /// An action item written in the "notes and action items" area of the occurrence being
    /// rendered: it stays there (where the person typed it) until the meeting closes, then
    /// becomes a follow-up. Cleared by [`close_meeting`].
    pub in_notes: bool,
    /// Order among the items shown in the same area (then by id): follows where people put the
    /// lines, so a re-render does not reorder what they arranged.
    #[serde(default)]
    pub position: i64,
}

/// Where in the block a line sits. Notes (free lines) are kept per area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// Between the start marker and the first heading (the header line).
    Top,
    /// The direct's half.
    Direct,
    /// Follow-ups on the action items of earlier meetings.
    FollowUps,
    /// The manager's topics and the standing questions.
    Manager,
    /// Notes and action items for next time.
    Notes,
}

impl Area {
    pub const ALL: [Area; 5] = [
        Area::Top,
        Area::Direct,
        Area::FollowUps,
        Area::Manager,
        Area::Notes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Top => "top",
            Area::Direct => "direct",
            Area::FollowUps => "follow_ups",
            Area::Manager => "manager",
            Area::Notes => "notes",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Area::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The area an item is rendered in.
    pub fn of_item(item: &Item) -> Area {
        match item.section {
            Section::Direct => Area::Direct,
            Section::Manager => Area::Manager,
            Section::Action if item.in_notes => Area::Notes,
            Section::Action => Area::FollowUps,
        }
    }

    /// The section of an item line found in this area, when the area holds items.
    pub fn section(self) -> Option<Section> {
        match self {
            Area::Top => None,
            Area::Direct => Some(Section::Direct),
            Area::Manager => Some(Section::Manager),
            Area::FollowUps | Area::Notes => Some(Section::Action),
        }
    }
}

/// A free line a person wrote inside the block, kept verbatim (after HTML decoding) in its area,
/// with the line it follows so a re-render puts it back where it was typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub area: Area,
    pub text: String,
    /// The line this note was typed after. `None` (or an anchor no longer shown): the note is
    /// shown where the template places the area's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Anchor>,
}

impl Note {
    /// A note without an anchor (shown where the template places the area's notes).
    pub fn new(area: Area, text: impl Into<String>) -> Self {
        Self {
            area,
            text: text.into(),
            after: None,
        }
    }
}

/// What a note follows in the block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Anchor {
    /// The line of this item.
    Item { id: i64 },
    /// The line of the item made by the `index`-th `Create` of the same [`AbsorbPlan`]; resolved
    /// to `Item` by [`AbsorbPlan::notes_with_ids`] once the items exist.
    Created { index: usize },
    /// A line of the template (heading, fixed text, standing question, start marker), by its
    /// text (lower-cased, whitespace collapsed).
    Line { key: String },
}

/// The form a description is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// CalDAV DESCRIPTION: plain text, lines separated by `\n`.
    Plain,
    /// Google's `description`: the HTML subset Google renders (`<b>`, `<ul><li>`, `<br>`); read
    /// back as HTML (plain text with newlines reads the same way).
    GoogleHtml,
}
