//! The agenda's vocabulary, shared by rendering, parsing, absorbing and carrying: an [`Item`] and
//! its [`Section`] and [`ItemState`], the [`Area`]s of the block, free [`Note`]s and their
//! [`Anchor`], and the [`Format`] a description is written in.

use serde::{Deserialize, Serialize};

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
    pub(crate) fn as_str(self) -> &'static str {
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
    pub(crate) fn as_str(self) -> &'static str {
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
/// What [`render`](fn@super::render) shows: `Open` items, and `Done` items the caller passes because they were
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
    /// becomes a follow-up. Cleared by [`close_meeting`](super::close_meeting).
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
    pub(crate) const ALL: [Area; 5] = [
        Area::Top,
        Area::Direct,
        Area::FollowUps,
        Area::Manager,
        Area::Notes,
    ];

    pub(crate) fn as_str(self) -> &'static str {
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
    pub(crate) fn of_item(item: &Item) -> Area {
        match item.section {
            Section::Direct => Area::Direct,
            Section::Manager => Area::Manager,
            Section::Action if item.in_notes => Area::Notes,
            Section::Action => Area::FollowUps,
        }
    }

    /// The section of an item line found in this area, when the area holds items.
    pub(crate) fn section(self) -> Option<Section> {
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
    /// The line of the item made by the `index`-th `Create` of the same [`AbsorbPlan`](super::AbsorbPlan); resolved
    /// to `Item` by [`AbsorbPlan::notes_with_ids`](super::AbsorbPlan::notes_with_ids) once the items exist.
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
