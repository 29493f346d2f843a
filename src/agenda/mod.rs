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
mod types;

pub use absorb::{AbsorbAction, AbsorbPlan, Moment, items_per_area, plan_absorb, plan_absorb_at};
pub use block::{
    BlockError, END_MARKER, OPT_OUT_MARKER, ParsedBlock, ParsedLine, START_MARKER, WriteDecision,
    WriteRefusal, block_budget, holds_opt_out, opted_out, parse_block, plan_write, reads_as_marker,
    same_block, splice,
};
pub use carry::{CarryChange, ClosedMeeting, Ledger, MeetingOutcome, MeetingRecord, close_meeting};
pub use render::{
    AgendaInput, DEFAULT_TEMPLATE, DirectPrompt, LastClosed, LineKind, RenderError, RenderedBlock,
    RenderedLine, STALE_AFTER, STALE_HINT, Template, render, render_within, split_carry_label,
    split_minutes,
};
pub use types::{Anchor, Area, Format, Item, ItemState, Note, Section};
