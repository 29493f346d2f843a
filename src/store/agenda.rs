//! The agenda engine's state in the database: what `agenda::Ledger` keeps in memory (items,
//! the current occurrence's notes and written block, the carry rules when a meeting closes),
//! persisted, each change set in one transaction.

use chrono::{DateTime, Utc};

use super::error::{Result, StoreError};
use super::history::{ItemSource, OccurrenceState};
use super::pool::{Store, on_pool};
use crate::agenda::{
    AbsorbAction, AbsorbPlan, ClosedMeeting, Item, ItemState, MeetingOutcome, Note, RenderedBlock,
    Section,
};

#[derive(sqlx::FromRow)]
struct ItemRecord {
    id: i64,
    section: String,
    text: String,
    state: String,
    times_carried: i64,
    in_notes: bool,
    position: i64,
}

fn to_item(r: ItemRecord) -> Result<Item> {
    Ok(Item {
        id: r.id,
        section: Section::parse(&r.section).ok_or(StoreError::Corrupt {
            column: "items.section",
            value: r.section.clone(),
        })?,
        text: r.text,
        state: ItemState::parse(&r.state).ok_or(StoreError::Corrupt {
            column: "items.state",
            value: r.state.clone(),
        })?,
        times_carried: u32::try_from(r.times_carried).unwrap_or(u32::MAX),
        in_notes: r.in_notes,
        position: r.position,
    })
}

/// What one meeting did to the items, kept with the occurrence for `oneonone history`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MeetingSummary {
    /// Items ticked in this meeting.
    pub closed: Vec<String>,
    /// Open items carried to the next meeting, with their new count.
    pub carried: Vec<(String, u32)>,
    /// Open items that moved on without a carry (the meeting did not take place).
    pub moved_on: Vec<String>,
}

impl MeetingSummary {
    pub(crate) fn new(items: &[Item], closing: &ClosedMeeting) -> Self {
        let text = |id: &i64| {
            items
                .iter()
                .find(|i| i.id == *id)
                .map(|i| i.text.clone())
                .unwrap_or_default()
        };
        let count = |id: &i64| {
            closing
                .changes
                .iter()
                .find(|c| c.id == *id)
                .map(|c| c.times_carried)
                .or_else(|| items.iter().find(|i| i.id == *id).map(|i| i.times_carried))
                .unwrap_or(0)
        };
        Self {
            closed: closing.closed.iter().map(text).collect(),
            carried: closing
                .carried
                .iter()
                .map(|id| (text(id), count(id)))
                .collect(),
            moved_on: closing.moved_on.iter().map(text).collect(),
        }
    }
}

/// What the renderer needs to know about a series' past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeriesMemory {
    /// Start of the last meeting that was held.
    pub last_held: Option<DateTime<Utc>>,
    /// How many of the most recent closed meetings were cancelled, in a row.
    pub cancelled_in_a_row: u32,
    /// What the last held meeting closed (items done or dropped in it).
    pub last_closed: crate::agenda::LastClosed,
}

impl From<MeetingOutcome> for OccurrenceState {
    fn from(o: MeetingOutcome) -> Self {
        match o {
            MeetingOutcome::Held => OccurrenceState::Held,
            MeetingOutcome::Cancelled => OccurrenceState::Cancelled,
            MeetingOutcome::Moved => OccurrenceState::Moved,
        }
    }
}

impl Store {
    /// The items an occurrence's agenda shows: open ones, and done ones closed in it.
    pub(crate) async fn agenda_items(
        &self,
        series_id: i64,
        occurrence_id: i64,
    ) -> Result<Vec<Item>> {
        let rows: Vec<ItemRecord> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, section, text, state, times_carried, in_notes, position FROM items \
                 WHERE series_id = $1 AND (state = 'open' OR (state = 'done' AND closed_in = $2)) \
                 ORDER BY id",
            )
            .bind(series_id)
            .bind(occurrence_id)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter().map(to_item).collect()
    }

    /// The block last written into an occurrence and its current notes.
    pub(crate) async fn occurrence_agenda(
        &self,
        occurrence_id: i64,
    ) -> Result<(Option<RenderedBlock>, Vec<Note>)> {
        let row: Option<(Option<String>, Option<String>)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT written_block, notes FROM occurrences WHERE id = $1")
                .bind(occurrence_id)
                .fetch_optional(p)
                .await
        })?;
        let (written, notes) = row.ok_or(StoreError::NotFound {
            what: "occurrence",
            id: occurrence_id.to_string(),
        })?;
        let written = match written {
            Some(w) => Some(serde_json::from_str(&w).map_err(|_| StoreError::Corrupt {
                column: "occurrences.written_block",
                value: w.chars().take(80).collect(),
            })?),
            None => None,
        };
        let notes = match notes {
            Some(n) => serde_json::from_str(&n)
                .unwrap_or_else(|_| vec![Note::new(crate::agenda::Area::Notes, n)]),
            None => Vec::new(),
        };
        Ok((written, notes))
    }

    /// Applies what a read-back block means (ticks, new lines, edits, deletions, notes) in one
    /// transaction; returns the ids of the created items.
    pub async fn apply_absorb(
        &self,
        series_id: i64,
        occurrence_id: i64,
        plan: &AbsorbPlan,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let mut created = Vec::new();
            for action in &plan.actions {
                match action {
                    AbsorbAction::Close { id } => {
                        sqlx::query(
                            "UPDATE items SET state = 'done', closed_in = $3, updated_at = $4, \
                             closed_at = $4, closed_via = 'calendar' WHERE id = $1 AND series_id = $2",
                        )
                        .bind(id)
                        .bind(series_id)
                        .bind(occurrence_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    AbsorbAction::Reopen { id } => {
                        sqlx::query(
                            "UPDATE items SET state = 'open', closed_in = NULL, updated_at = $3, \
                             closed_at = NULL, closed_via = NULL WHERE id = $1 AND series_id = $2",
                        )
                        .bind(id)
                        .bind(series_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    AbsorbAction::Create {
                        section,
                        text,
                        done,
                        in_notes,
                        position,
                    } => {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO items (series_id, section, text, state, created_in, closed_in, \
                             in_notes, source, position, created_at, updated_at, closed_at, closed_via) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $9, $9, $11, $12) RETURNING id",
                        )
                        .bind(series_id)
                        .bind(section.as_str())
                        .bind(text)
                        .bind(if *done { "done" } else { "open" })
                        .bind(occurrence_id)
                        .bind(done.then_some(occurrence_id))
                        .bind(*in_notes)
                        .bind(ItemSource::Calendar.as_str())
                        .bind(now)
                        .bind(*position)
                        .bind(done.then_some(now))
                        .bind(done.then_some(ItemSource::Calendar.as_str()))
                        .fetch_one(&mut *tx)
                        .await?;
                        created.push(id);
                    }
                    AbsorbAction::Place { id, position } => {
                        sqlx::query(
                            "UPDATE items SET position = $3, updated_at = $4 WHERE id = $1 AND series_id = $2",
                        )
                        .bind(id)
                        .bind(series_id)
                        .bind(*position)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    AbsorbAction::Edit { id, text } => {
                        sqlx::query("UPDATE items SET text = $3, updated_at = $4 WHERE id = $1 AND series_id = $2")
                            .bind(id)
                            .bind(series_id)
                            .bind(text)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                    AbsorbAction::Move {
                        id,
                        section,
                        in_notes,
                    } => {
                        sqlx::query(
                            "UPDATE items SET section = $3, in_notes = $4, updated_at = $5 \
                             WHERE id = $1 AND series_id = $2",
                        )
                        .bind(id)
                        .bind(series_id)
                        .bind(section.as_str())
                        .bind(*in_notes)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    AbsorbAction::Drop { id }
                        if crate::sim::mutation::on(crate::sim::Mutation::DeleteDroppedItems) =>
                    {
                        sqlx::query("DELETE FROM items WHERE id = $1 AND series_id = $2")
                            .bind(id)
                            .bind(series_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    AbsorbAction::Drop { id } => {
                        sqlx::query(
                            "UPDATE items SET state = 'dropped', closed_in = $3, updated_at = $4, \
                             closed_at = $4, closed_via = 'calendar' WHERE id = $1 AND series_id = $2",
                        )
                        .bind(id)
                        .bind(series_id)
                        .bind(occurrence_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
            }
            let notes =
                serde_json::to_string(&plan.notes_with_ids(&created)).expect("notes serialize");
            // A person changed the block (an action, or notes other than those kept): the
            // time is evidence that the meeting took place when it is after its start.
            let edited = !plan.actions.is_empty();
            sqlx::query(
                "UPDATE occurrences SET edited_at = CASE WHEN $3 OR COALESCE(notes, '[]') <> $2 \
                 THEN $4 ELSE edited_at END, notes = $2 WHERE id = $1",
            )
            .bind(occurrence_id)
            .bind(notes)
            .bind(edited)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(created)
        })
    }

    /// Forgets which block was written into an occurrence (after a restore put an older block
    /// back): the next pass then reads that block without taking any item as deleted.
    pub(crate) async fn forget_written_block(&self, occurrence_id: i64) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
                "UPDATE occurrences SET written_block = NULL, agenda_hash = NULL WHERE id = $1",
            )
            .bind(occurrence_id)
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Remembers the block written into an occurrence (after the write succeeded).
    pub async fn set_written_block(&self, occurrence_id: i64, block: &RenderedBlock) -> Result<()> {
        let (json, hash) = written_block_values(block);
        on_pool!(self, |p| {
            sqlx::query(SET_WRITTEN_BLOCK)
                .bind(occurrence_id)
                .bind(json)
                .bind(hash)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// After a write reached the calendar: the resource as the server now has it, the block as
    /// written and the revision marked applied, in one transaction (one commit, and never one
    /// of the three without the others).
    pub(crate) async fn record_write(
        &self,
        calendar_id: i64,
        stored: &super::events::CachedEvent,
        occurrence_id: i64,
        block: &RenderedBlock,
        revision_id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (json, hash) = written_block_values(block);
        let upsert = super::events::upsert_sql(1, self.dialect());
        on_pool!(self, |p| {
            async {
                let mut tx = p.begin().await?;
                super::events::bind_events!(
                    sqlx::query(sqlx::AssertSqlSafe(upsert.as_str())),
                    [stored.clone()],
                    calendar_id,
                    now
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query(SET_WRITTEN_BLOCK)
                    .bind(occurrence_id)
                    .bind(json)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(super::history::MARK_REVISION_APPLIED)
                    .bind(revision_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            }
            .await
        })
        .map_err(Into::into)
    }

    /// Closes a meeting: the carry changes, the snapshot and the state, in one transaction.
    /// Returns false (changing nothing) when it was already closed.
    #[allow(clippy::too_many_arguments)]
    pub async fn close_meeting(
        &self,
        occurrence_id: i64,
        outcome: MeetingOutcome,
        closing: &ClosedMeeting,
        final_agenda: Option<&str>,
        notes: &[Note],
        summary: &MeetingSummary,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let notes = serde_json::to_string(notes).expect("notes serialize");
        let summary = serde_json::to_string(summary).expect("summary serializes");
        let state = OccurrenceState::from(outcome);
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let done = sqlx::query(
                "UPDATE occurrences SET status = $2, final_agenda = $3, notes = $4, closed_at = $5, \
                 summary = $6 WHERE id = $1 AND closed_at IS NULL",
            )
            .bind(occurrence_id)
            .bind(state.as_str())
            .bind(final_agenda)
            .bind(&notes)
            .bind(now)
            .bind(&summary)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Ok(false);
            }
            for ch in &closing.changes {
                sqlx::query("UPDATE items SET times_carried = $2, in_notes = $3, updated_at = $4 WHERE id = $1")
                    .bind(ch.id)
                    .bind(i64::from(ch.times_carried))
                    .bind(ch.in_notes)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The last held meeting and the run of cancellations since, for the header.
    pub(crate) async fn series_memory(&self, series_id: i64) -> Result<SeriesMemory> {
        // A meeting a person marked skipped did not take place; one marked held did.
        // Through the series it continues: a 1:1 re-created under a new series remembers its
        // last meeting.
        let sql = format!(
            "{} SELECT CASE WHEN marked = 'skipped' THEN 'skipped' WHEN marked = 'held' THEN 'held' \
             ELSE status END, start_at, id FROM occurrences \
             WHERE series_id IN (SELECT id FROM chain) AND closed_at IS NOT NULL \
             ORDER BY original_start DESC LIMIT 50",
            super::continuation::CHAIN
        );
        let rows: Vec<(String, DateTime<Utc>, i64)> = on_pool!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(series_id)
                .fetch_all(p)
                .await
        })?;
        let mut m = SeriesMemory::default();
        let mut streak = true;
        for (status, start, id) in rows {
            match status.as_str() {
                "held" => {
                    m.last_held = Some(start);
                    m.last_closed = self.closed_in(id).await?;
                    break;
                }
                "cancelled" if streak => m.cancelled_in_a_row += 1,
                _ => streak = false,
            }
        }
        Ok(m)
    }

    /// How many items were ticked done and dropped in the meeting `occurrence_id`.
    async fn closed_in(&self, occurrence_id: i64) -> Result<crate::agenda::LastClosed> {
        let rows: Vec<(String, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT state, COUNT(*) FROM items WHERE closed_in = $1 \
                 AND state IN ('done', 'dropped') GROUP BY state",
            )
            .bind(occurrence_id)
            .fetch_all(p)
            .await
        })?;
        let mut out = crate::agenda::LastClosed::default();
        for (state, n) in rows {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            match state.as_str() {
                "done" => out.done = n,
                _ => out.dropped = n,
            }
        }
        Ok(out)
    }

    /// The occurrences of a series not yet closed, oldest first: what a pass may still close or
    /// write (a bounded set, where the whole history grows with every meeting).
    pub(crate) async fn open_occurrences(
        &self,
        series_id: i64,
    ) -> Result<Vec<super::history::OccurrenceRow>> {
        let sql = format!(
            "SELECT {} FROM occurrences WHERE series_id = $1 AND closed_at IS NULL \
             ORDER BY original_start",
            super::history::OCCURRENCE_COLUMNS
        );
        on_pool!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(series_id)
                .fetch_all(p)
                .await
        })
        .map_err(Into::into)
    }
}

const SET_WRITTEN_BLOCK: &str =
    "UPDATE occurrences SET written_block = $2, agenda_hash = $3 WHERE id = $1";

/// The written block as stored: its JSON, and the SHA-256 of its text.
fn written_block_values(block: &RenderedBlock) -> (String, String) {
    let json = serde_json::to_string(block).expect("block serializes");
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        block.text.as_bytes(),
    ));
    (json, hash)
}
