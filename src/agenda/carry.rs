//! Closing a meeting and carrying items over, as pure rules, plus [`Ledger`]: an in-memory series
//! that applies plans and closings the way the store does (tests, dry runs, and the reference
//! the store's SQL is checked against).

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::absorb::{AbsorbAction, AbsorbPlan};
use super::render::{AgendaInput, RenderError, RenderedBlock, Template, render};
use super::types::{Format, Item, ItemState, Note, Section};

/// What became of an occurrence that has ended. A week without an occurrence (skipped) is not
/// closed at all: nothing happens to the items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingOutcome {
    /// It took place: open items it showed are carried (+1).
    Held,
    /// Cancelled: its items move on to the next occurrence without a carry.
    Cancelled,
    /// Moved out of its slot: does not count as held; items move on without a carry.
    Moved,
}

/// The new carry state of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarryChange {
    pub id: i64,
    pub times_carried: u32,
    /// Always false after a close: an action item typed in the notes becomes a follow-up.
    pub in_notes: bool,
}

/// What closing one meeting does to the series' items.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClosedMeeting {
    /// Changes to store (only items whose carry state changes).
    pub changes: Vec<CarryChange>,
    /// Items closed in this meeting (done in its block).
    pub closed: Vec<i64>,
    /// Open items carried to the next meeting (held meetings only).
    pub carried: Vec<i64>,
    /// Open items that move on without a carry (cancelled or moved meeting, or not shown in it).
    pub moved_on: Vec<i64>,
}

/// The carry-over rules. `items`: the series' items (open ones, and done ones closed in this
/// occurrence); `shown`: ids on the occurrence's final block, or `None` when no block was
/// written (then every open item counts as shown).
///
/// Held: each open item shown gets `times_carried + 1`; an open item not shown (added after the
/// last write) moves on unchanged. Cancelled or moved: every open item moves on unchanged.
pub fn close_meeting(
    items: &[Item],
    shown: Option<&[i64]>,
    outcome: MeetingOutcome,
) -> ClosedMeeting {
    let mut out = ClosedMeeting::default();
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by_key(|i| i.id);
    for it in sorted {
        match it.state {
            ItemState::Done => out.closed.push(it.id),
            ItemState::Dropped => {}
            ItemState::Open => {
                let was_shown = shown.is_none_or(|s| s.contains(&it.id));
                let carry = outcome == MeetingOutcome::Held && was_shown;
                let times = if carry {
                    it.times_carried.saturating_add(1)
                } else {
                    it.times_carried
                };
                if carry {
                    out.carried.push(it.id);
                } else {
                    out.moved_on.push(it.id);
                }
                if times != it.times_carried || it.in_notes {
                    out.changes.push(CarryChange {
                        id: it.id,
                        times_carried: times,
                        in_notes: false,
                    });
                }
            }
        }
    }
    out
}

/// One meeting in a series' history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingRecord {
    pub date: NaiveDate,
    pub outcome: MeetingOutcome,
    /// Texts of the items closed in it.
    pub closed: Vec<String>,
    /// Texts and new carried counts of the items carried from it.
    pub carried: Vec<(String, u32)>,
    pub notes: Vec<Note>,
}

/// A series held in memory: items, the current occurrence's notes and written block, history.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    items: Vec<Item>,
    /// Ids of items closed (done) in the current occurrence.
    closed_here: Vec<i64>,
    notes: Vec<Note>,
    written: Option<RenderedBlock>,
    history: Vec<MeetingRecord>,
    last_held: Option<NaiveDate>,
    cancelled_in_a_row: u32,
    next_id: i64,
}

impl Ledger {
    pub fn new() -> Self {
        Self {
            next_id: 1,
            ..Self::default()
        }
    }

    /// The current occurrence as the store holds it: its agenda's items (open, and those closed
    /// in it) and notes. Items it creates get ids past the largest given.
    pub fn from_agenda(items: Vec<Item>, notes: Vec<Note>) -> Self {
        let closed_here = items
            .iter()
            .filter(|i| i.state == ItemState::Done)
            .map(|i| i.id)
            .collect();
        let next_id = items.iter().map(|i| i.id).max().unwrap_or(0) + 1;
        Self {
            items,
            closed_here,
            notes,
            next_id,
            ..Self::default()
        }
    }

    /// Adds an open item (what `oneonone item add` does). Returns its id.
    pub fn add_item(&mut self, section: Section, text: &str) -> i64 {
        self.push_item(section, text, ItemState::Open, false, None)
    }

    /// Adds an item at `position`, or after every item of its section.
    fn push_item(
        &mut self,
        section: Section,
        text: &str,
        state: ItemState,
        in_notes: bool,
        position: Option<i64>,
    ) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let position = position.unwrap_or_else(|| {
            self.items
                .iter()
                .filter(|i| i.section == section)
                .map(|i| i.position + 1)
                .max()
                .unwrap_or(0)
        });
        self.items.push(Item {
            id,
            section,
            text: text.to_string(),
            state,
            times_carried: 0,
            in_notes,
            position,
        });
        id
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn item(&self, id: i64) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    pub fn history(&self) -> &[MeetingRecord] {
        &self.history
    }

    pub fn written(&self) -> Option<&RenderedBlock> {
        self.written.as_ref()
    }

    /// The items the current occurrence's agenda shows: open ones and those closed in it.
    pub fn agenda_items(&self) -> Vec<Item> {
        self.items
            .iter()
            .filter(|i| {
                i.state == ItemState::Open
                    || (i.state == ItemState::Done && self.closed_here.contains(&i.id))
            })
            .cloned()
            .collect()
    }

    /// Applies a plan; returns the ids of created items.
    pub fn apply(&mut self, plan: &AbsorbPlan) -> Vec<i64> {
        let mut created = Vec::new();
        for action in &plan.actions {
            match action {
                AbsorbAction::Close { id } => {
                    if let Some(i) = self.items.iter_mut().find(|i| i.id == *id) {
                        i.state = ItemState::Done;
                        self.closed_here.push(*id);
                    }
                }
                AbsorbAction::Reopen { id } => {
                    if let Some(i) = self.items.iter_mut().find(|i| i.id == *id) {
                        i.state = ItemState::Open;
                        self.closed_here.retain(|c| c != id);
                    }
                }
                AbsorbAction::Create {
                    section,
                    text,
                    done,
                    in_notes,
                    position,
                } => {
                    let state = if *done {
                        ItemState::Done
                    } else {
                        ItemState::Open
                    };
                    let id = self.push_item(*section, text, state, *in_notes, Some(*position));
                    if *done {
                        self.closed_here.push(id);
                    }
                    created.push(id);
                }
                AbsorbAction::Edit { id, text } => {
                    if let Some(i) = self.items.iter_mut().find(|i| i.id == *id) {
                        i.text.clone_from(text);
                    }
                }
                AbsorbAction::Move {
                    id,
                    section,
                    in_notes,
                } => {
                    if let Some(i) = self.items.iter_mut().find(|i| i.id == *id) {
                        i.section = *section;
                        i.in_notes = *in_notes;
                    }
                }
                AbsorbAction::Place { id, position } => {
                    if let Some(i) = self.items.iter_mut().find(|i| i.id == *id) {
                        i.position = *position;
                    }
                }
                AbsorbAction::Drop { id } => {
                    if let Some(i) = self.items.iter_mut().find(|i| i.id == *id) {
                        i.state = ItemState::Dropped;
                        self.closed_here.retain(|c| c != id);
                    }
                }
            }
        }
        self.notes = plan.notes_with_ids(&created);
        created
    }

    /// Renders the current occurrence's block (and remembers it as written).
    #[allow(clippy::too_many_arguments)]
    pub fn render(
        &mut self,
        direct: &str,
        manager: &str,
        start: DateTime<Tz>,
        length: chrono::Duration,
        format: Format,
        template: &Template,
    ) -> Result<RenderedBlock, RenderError> {
        let items = self.agenda_items();
        let input = AgendaInput {
            direct_name: direct,
            manager_name: manager,
            items: &items,
            notes: &self.notes,
            last_meeting: self.last_held,
            start,
            length,
            cancelled_in_a_row: self.cancelled_in_a_row,
            last_closed: Default::default(),
            prompt: Default::default(),
        };
        let block = render(&input, format, template)?;
        self.written = Some(block.clone());
        Ok(block)
    }

    /// Closes the current occurrence (its final block already absorbed) and starts the next.
    pub fn close(&mut self, outcome: MeetingOutcome, date: NaiveDate) -> MeetingRecord {
        let items = self.agenda_items();
        let shown = self.written.as_ref().map(RenderedBlock::item_ids);
        let closing = close_meeting(&items, shown.as_deref(), outcome);
        for ch in &closing.changes {
            if let Some(i) = self.items.iter_mut().find(|i| i.id == ch.id) {
                i.times_carried = ch.times_carried;
                i.in_notes = ch.in_notes;
            }
        }
        let text_of = |id: &i64| {
            self.items
                .iter()
                .find(|i| i.id == *id)
                .map(|i| (i.text.clone(), i.times_carried))
                .unwrap_or_default()
        };
        let record = MeetingRecord {
            date,
            outcome,
            closed: closing.closed.iter().map(|id| text_of(id).0).collect(),
            carried: closing.carried.iter().map(text_of).collect(),
            notes: std::mem::take(&mut self.notes),
        };
        match outcome {
            MeetingOutcome::Held => {
                self.last_held = Some(date);
                self.cancelled_in_a_row = 0;
            }
            MeetingOutcome::Cancelled => self.cancelled_in_a_row += 1,
            MeetingOutcome::Moved => {}
        }
        self.closed_here.clear();
        self.written = None;
        self.history.push(record.clone());
        record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: i64, state: ItemState, times: u32, in_notes: bool) -> Item {
        Item {
            id,
            section: Section::Action,
            text: format!("item {id}"),
            state,
            times_carried: times,
            in_notes,
            position: 0,
        }
    }

    #[test]
    fn held_meeting_carries_shown_open_items() {
        let items = [
            item(1, ItemState::Open, 0, true),
            item(2, ItemState::Done, 1, false),
            item(3, ItemState::Open, 2, false),
            item(4, ItemState::Open, 0, false),
        ];
        let c = close_meeting(&items, Some(&[1, 2, 3]), MeetingOutcome::Held);
        assert_eq!(c.closed, [2]);
        assert_eq!(c.carried, [1, 3]);
        assert_eq!(c.moved_on, [4]);
        assert_eq!(
            c.changes,
            [
                CarryChange {
                    id: 1,
                    times_carried: 1,
                    in_notes: false
                },
                CarryChange {
                    id: 3,
                    times_carried: 3,
                    in_notes: false
                },
            ]
        );
    }

    #[test]
    fn cancelled_or_moved_meeting_carries_nothing() {
        let items = [
            item(1, ItemState::Open, 1, false),
            item(2, ItemState::Open, 0, true),
        ];
        for outcome in [MeetingOutcome::Cancelled, MeetingOutcome::Moved] {
            let c = close_meeting(&items, None, outcome);
            assert!(c.carried.is_empty());
            assert_eq!(c.moved_on, [1, 2]);
            assert_eq!(
                c.changes,
                [CarryChange {
                    id: 2,
                    times_carried: 0,
                    in_notes: false
                }]
            );
        }
    }
}
