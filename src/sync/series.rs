//! The agenda step of a pass, for one tracked 1:1 series: close the occurrences that have ended
//! (absorbing their final block into the history), then absorb what people wrote into the next
//! occurrence's block and render it again. Provider-neutral: it reads descriptions and returns the
//! description to write; the provider does the conditional write and calls back on success.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::agenda::{
    self, Format, MeetingOutcome, RenderedBlock, Template, WriteDecision, WriteRefusal,
};
use crate::config::{AgendaConfig, Config};
use crate::model::{Occurrence, OccurrenceStatus, Series};
use crate::secrets::{Keyring, Purpose};
use crate::store::SeriesLink;
use crate::store::{MeetingSummary, OccurrenceRow, SeriesRow, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum SeriesError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot expand the series: {0}")]
    Expand(crate::ics::ExpandError),
    #[error("cannot render the agenda: {0}")]
    Render(#[from] agenda::RenderError),
    #[error("the agenda block cannot be read: {0}")]
    Block(#[from] agenda::BlockError),
}

/// What the next occurrence needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NextAction {
    /// No occurrence within the look-ahead window (or the series is not ours to write).
    Nothing,
    /// The invite already shows this agenda.
    UpToDate,
    /// The description must not be touched (opt-out marker, removed block, damaged markers...).
    Refused { occurrence_id: i64, why: String },
    /// Write `description` into the occurrence starting (originally) at `original_start`.
    Write {
        occurrence_id: i64,
        original_start: DateTime<Utc>,
        /// The occurrence's own zone, for showing its time.
        tz: Tz,
        before: Option<String>,
        description: String,
        block: RenderedBlock,
        /// This write is the first to carry the nudge into the occurrence (counted).
        nudge: bool,
    },
}

/// What `sync --dry-run` prints for a write it does not make: the series, the meeting in its
/// own zone, and the whole description the write would leave.
pub(crate) fn show_dry_run(
    summary: &str,
    original_start: DateTime<Utc>,
    tz: Tz,
    description: &str,
) {
    crate::term::outln!(
        "--- would write into {summary:?}, the meeting of {}:\n{description}\n---",
        crate::when::display_long(original_start, tz)
    );
}

/// Where the direct's link in the invite comes from: the https base URL and the keys that
/// unseal the kept link (see [`InviteLink::from_config`]).
#[derive(Clone, Copy)]
pub(crate) struct InviteLink<'a> {
    pub base: &'a str,
    pub keyring: &'a Keyring,
}

impl<'a> InviteLink<'a> {
    /// The source of the links when invites carry them: `agenda.direct_link_in_invite` on and
    /// `server.public_url` an https URL; `None` otherwise (the line is left out).
    pub(crate) fn from_config(config: &'a Config, keyring: &'a Keyring) -> Option<Self> {
        let base = config.server.public_https_base()?;
        config
            .agenda
            .direct_link_in_invite
            .then_some(Self { base, keyring })
    }
}

pub(crate) struct SeriesStep<'a> {
    pub store: &'a Store,
    /// Where the direct's link comes from; `None`: the invite carries no link.
    pub link: Option<InviteLink<'a>>,
    pub cfg: &'a AgendaConfig,
    pub template: &'a Template,
    pub format: Format,
    pub manager_name: &'a str,
    pub now: DateTime<Utc>,
    /// A preview (`sync --dry-run`): nothing is closed or absorbed into the store.
    pub read_only: bool,
}

/// How far back a pass looks for occurrences that ended (the daemon may have been stopped).
const CLOSE_LOOKBACK_DAYS: i64 = 120;
/// How far ahead occurrences are expanded: beyond the agenda look-ahead, so an occurrence moved
/// weeks later is still found by its original start (and not taken for a cancelled one).
const EXPAND_AHEAD_DAYS: i64 = 370;
/// A meeting is closed this long after its end: ticks and notes typed while it overruns, or
/// right after it, still reach its history.
const CLOSE_GRACE_HOURS: i64 = 2;

impl SeriesStep<'_> {
    fn window(&self, series: &Series, default_tz: Tz) -> Result<Vec<Occurrence>, SeriesError> {
        let from = self.now - chrono::Duration::days(CLOSE_LOOKBACK_DAYS);
        let ahead = EXPAND_AHEAD_DAYS.max(i64::from(self.cfg.lookahead_days));
        let to = self.now + chrono::Duration::days(ahead);
        crate::ics::expand(series, from, to, default_tz).map_err(SeriesError::Expand)
    }

    /// Runs the step: closes what ended, then plans the next occurrence.
    pub(crate) async fn run(
        &self,
        row: &SeriesRow,
        series: &Series,
        remote_id: &str,
        default_tz: Tz,
        may_write: bool,
    ) -> Result<NextAction, SeriesError> {
        let occurrences = self.window(series, default_tz)?;
        let mut open = self.store.open_occurrences(row.id).await?;
        if !self.read_only {
            // The series' own zone, for showing its times (history, pages, report): the next
            // occurrence's, else the last one's.
            let zone = occurrences
                .iter()
                .find(|o| o.end > self.now)
                .or(occurrences.last())
                .map(|o| o.tz.name());
            if let Some(tz) = zone.filter(|tz| row.timezone.as_deref() != Some(*tz)) {
                self.store.set_series_timezone(row.id, tz).await?;
            }
            self.close_ended(row, &occurrences, &mut open).await?;
        }
        let horizon = self.now + chrono::Duration::days(i64::from(self.cfg.lookahead_days));
        let Some(next) = occurrences
            .iter()
            .find(|o| o.end > self.now && o.status != OccurrenceStatus::Cancelled)
            .filter(|o| o.start <= horizon)
        else {
            return Ok(NextAction::Nothing);
        };
        // An idle pass finds the next occurrence recorded as it is: no write.
        let recorded = open.iter().find(|k| {
            k.original_start == next.original_start
                && (k.start_at, k.end_at) == (next.start, next.end)
                && k.remote_id.as_deref() == Some(remote_id)
                && k.closed_at.is_none()
        });
        let occ = match recorded {
            Some(k) => k.clone(),
            None => {
                self.store
                    .upsert_occurrence(
                        row.id,
                        next.original_start,
                        next.start,
                        next.end,
                        Some(remote_id),
                    )
                    .await?
            }
        };
        if occ.closed_at.is_some() {
            return Ok(NextAction::Nothing);
        }
        self.plan_next(row, next, &occ, may_write).await
    }

    /// Closes every tracked occurrence that has ended, oldest first, from its final block.
    async fn close_ended(
        &self,
        row: &SeriesRow,
        occurrences: &[Occurrence],
        open: &mut Vec<OccurrenceRow>,
    ) -> Result<(), SeriesError> {
        // Refresh the times of open occurrences first (a meeting moved later has not ended).
        for k in open.iter_mut() {
            let current = occurrences
                .iter()
                .find(|o| o.original_start == k.original_start);
            if let Some(o) = current.filter(|o| (o.start, o.end) != (k.start_at, k.end_at)) {
                self.store
                    .upsert_occurrence(row.id, o.original_start, o.start, o.end, None)
                    .await?;
                (k.start_at, k.end_at) = (o.start, o.end);
            }
        }
        let ended_by = self.now - chrono::Duration::hours(CLOSE_GRACE_HOURS);
        let (ended, still_open): (Vec<_>, Vec<_>) = std::mem::take(open)
            .into_iter()
            .partition(|k| k.end_at <= ended_by);
        *open = still_open;
        for occ in ended {
            let current = occurrences
                .iter()
                .find(|o| o.original_start == occ.original_start);
            let outcome = match current.map(|o| o.status) {
                // Gone from the expansion (EXDATE) or cancelled: not held.
                None | Some(OccurrenceStatus::Cancelled) => MeetingOutcome::Cancelled,
                // Moved in time, and its new end has passed: it took place.
                Some(OccurrenceStatus::Moved | OccurrenceStatus::Scheduled) => MeetingOutcome::Held,
            };
            self.close_one(row, &occ, outcome, current).await?;
        }
        Ok(())
    }

    async fn close_one(
        &self,
        row: &SeriesRow,
        occ: &OccurrenceRow,
        outcome: MeetingOutcome,
        current: Option<&Occurrence>,
    ) -> Result<(), SeriesError> {
        let description = current
            .and_then(|o| o.description.as_deref())
            .unwrap_or_default();
        let (written, _) = self.store.occurrence_agenda(occ.id).await?;
        let mut final_agenda = None;
        match agenda::parse_block(description, self.format, self.cfg.max_description_bytes) {
            Ok(Some(p)) => {
                // No record of writing it (a crash right after the write): compare with a render
                // that shows no items, so nothing in the block is taken as deleted.
                let base = match (&written, current) {
                    (Some(w), _) => Some(w.clone()),
                    (None, Some(o)) => {
                        let items = self.store.agenda_items(row.id, occ.id).await?;
                        let (_, notes) = self.store.occurrence_agenda(occ.id).await?;
                        let link = self.direct_link(row, false).await?;
                        Some(
                            self.stand_in(row, o, &items, &notes, link.as_deref())
                                .await?,
                        )
                    }
                    (None, None) => None,
                };
                if let Some(base) = base {
                    let items = self.store.agenda_items(row.id, occ.id).await?;
                    // The meeting is over: lines typed without a checkbox were its minutes.
                    let plan = agenda::plan_absorb_at(&items, &base, &p, agenda::Moment::Started);
                    self.store
                        .apply_absorb(row.id, occ.id, &plan, self.now)
                        .await?;
                }
                final_agenda = Some(description[p.span.clone()].to_string());
            }
            Ok(None) => {}
            Err(e) => {
                // Unreadable at close (damaged markers, too large): keep what it said verbatim
                // as the snapshot, so nothing typed there is lost from the history.
                tracing::warn!(series = row.id, error = %e, "final block unreadable; kept verbatim");
                final_agenda = Some(description.to_string());
            }
        }
        let items = self.store.agenda_items(row.id, occ.id).await?;
        let (_, notes) = self.store.occurrence_agenda(occ.id).await?;
        let shown = written.as_ref().map(RenderedBlock::item_ids);
        let closing = agenda::close_meeting(&items, shown.as_deref(), outcome);
        let summary = MeetingSummary::new(&items, &closing);
        let snapshot = final_agenda.as_deref();
        self.store
            .close_meeting(
                occ.id, outcome, &closing, snapshot, &notes, &summary, self.now,
            )
            .await?;
        Ok(())
    }

    /// The block the next pass would write into the next occurrence (the look-ahead window
    /// aside), from the store's current state; reads only, for the web pages' preview.
    pub(crate) async fn preview(
        &self,
        row: &SeriesRow,
        series: &Series,
        default_tz: Tz,
    ) -> Result<Option<(Occurrence, RenderedBlock)>, SeriesError> {
        let occurrences = self.window(series, default_tz)?;
        let Some(next) = occurrences
            .into_iter()
            .find(|o| o.end > self.now && o.status != OccurrenceStatus::Cancelled)
        else {
            return Ok(None);
        };
        let known = self.store.list_occurrences(row.id).await?;
        let occ = known
            .iter()
            .find(|o| o.original_start == next.original_start);
        if occ.is_some_and(|o| o.closed_at.is_some()) {
            return Ok(None);
        }
        // An occurrence no pass has recorded yet shows the open items and no notes.
        let (items, notes) = match occ {
            Some(o) => (
                self.store.agenda_items(row.id, o.id).await?,
                self.store.occurrence_agenda(o.id).await?.1,
            ),
            None => (self.store.agenda_items(row.id, -1).await?, Vec::new()),
        };
        let link = self.direct_link(row, false).await?;
        let block = self
            .render_parts(row, &next, &items, &notes, link.as_deref())
            .await?;
        Ok(Some((next, block)))
    }

    /// Renders the occurrence's block from the store's current state.
    /// What a block found without a record of writing it (a restore forgot the record, or a
    /// crash came between the write and the record) is compared with: the render of now without
    /// its items, so nothing in the block is taken as deleted, plus the lines the template
    /// shows with nothing queued, so a block written in that state (a restored older one) does
    /// not turn its "Nothing queued yet" into a topic.
    async fn stand_in(
        &self,
        row: &SeriesRow,
        next: &Occurrence,
        items: &[agenda::Item],
        notes: &[agenda::Note],
        link: Option<&str>,
    ) -> Result<RenderedBlock, SeriesError> {
        let now = self.render_parts(row, next, items, notes, link).await?;
        let empty = self.render_parts(row, next, &[], notes, link).await?;
        Ok(now.without_items().with_template_lines_of(&empty))
    }

    /// The direct's link for the invite, when it carries one: the series' live link, unsealed.
    /// With `create` (a pass that may write), a series that never had a link gets its first
    /// one here; a revoked link is the manager's choice and is not replaced. A link that cannot
    /// be unsealed (the key changed) is logged and left out.
    async fn direct_link(
        &self,
        row: &SeriesRow,
        create: bool,
    ) -> Result<Option<String>, SeriesError> {
        let Some(source) = self.link else {
            return Ok(None);
        };
        let mut state = self.store.series_link_state(row.id).await?;
        if state == SeriesLink::Never && create && !self.read_only {
            let token = crate::web::new_token();
            let sealed = source.keyring.encrypt_for(
                Purpose::DirectLink,
                &secrecy::SecretString::from(token.clone()),
            );
            self.store
                .create_first_series_link(
                    row.id,
                    &crate::web::token_digest(&token),
                    &sealed,
                    self.now,
                )
                .await?;
            state = self.store.series_link_state(row.id).await?;
        }
        let SeriesLink::Sealed(blob) = state else {
            return Ok(None);
        };
        match source.keyring.decrypt_for(Purpose::DirectLink, &blob) {
            Ok(token) => Ok(Some(format!(
                "{}/d/{}",
                source.base,
                secrecy::ExposeSecret::expose_secret(&token)
            ))),
            Err(e) => {
                tracing::warn!(series = row.id, error = %e, "the direct's link is left out of the invite");
                Ok(None)
            }
        }
    }

    /// The nudge is due: `agenda.nudge_before_hours` or less before the occurrence starts (and
    /// until it ends: the render changes once, never back), and the direct has no open topic.
    fn nudge_due(&self, next: &Occurrence, items: &[agenda::Item]) -> bool {
        self.cfg
            .nudge_before()
            .is_some_and(|before| self.now >= next.start - before)
            && !items
                .iter()
                .any(|i| i.section == agenda::Section::Direct && i.state == agenda::ItemState::Open)
    }

    async fn render_parts(
        &self,
        row: &SeriesRow,
        next: &Occurrence,
        items: &[agenda::Item],
        notes: &[agenda::Note],
        link: Option<&str>,
    ) -> Result<RenderedBlock, SeriesError> {
        let items = if crate::sim::mutation::on(crate::sim::Mutation::CarryNothing) {
            &[]
        } else {
            items
        };
        let memory = self.store.series_memory(row.id).await?;
        let mut direct = row
            .direct_name
            .clone()
            .unwrap_or_else(|| "Your report".into());
        if crate::sim::mutation::on(crate::sim::Mutation::RenderTimestamp) {
            direct.push_str(&format!(" ({})", crate::sim::mutation::tick()));
        }
        let input = agenda::AgendaInput {
            direct_name: &direct,
            manager_name: self.manager_name,
            items,
            notes,
            last_meeting: memory
                .last_held
                .map(|t| t.with_timezone(&next.tz).date_naive()),
            start: next.start.with_timezone(&next.tz),
            length: next.end - next.start,
            cancelled_in_a_row: memory.cancelled_in_a_row,
            last_closed: memory.last_closed,
            prompt: agenda::DirectPrompt {
                link: link.map(str::to_string),
                nudge: self.nudge_due(next, items),
            },
        };
        // Within its budget: a flood of topics folds into one line instead of pushing the
        // description past `max_description_bytes` (which would stop every write). The text
        // around the block counts: the whole description must fit.
        let budget = agenda::block_budget(
            next.description.as_deref().unwrap_or_default(),
            self.format,
            self.cfg.max_block_bytes,
            self.cfg.max_description_bytes,
        );
        Ok(agenda::render_within(
            &input,
            self.format,
            self.template,
            budget,
        )?)
    }

    /// Absorbs the next occurrence's block and renders it again.
    async fn plan_next(
        &self,
        row: &SeriesRow,
        next: &Occurrence,
        occ: &OccurrenceRow,
        may_write: bool,
    ) -> Result<NextAction, SeriesError> {
        let description = next.description.as_deref().unwrap_or_default();
        let (written, mut notes) = self.store.occurrence_agenda(occ.id).await?;
        let link = self.direct_link(row, may_write).await?;
        let mut items = self.store.agenda_items(row.id, occ.id).await?;
        match agenda::parse_block(description, self.format, self.cfg.max_description_bytes) {
            Ok(Some(parsed)) => {
                // A block we have no record of writing (we crashed between the write and
                // recording it, or a copy came from elsewhere): compare with a render that shows
                // no items, so nothing in it is taken as deleted.
                let base = match &written {
                    Some(w) => w.clone(),
                    None => {
                        self.stand_in(row, next, &items, &notes, link.as_deref())
                            .await?
                    }
                };
                let moment = if self.now < next.start {
                    agenda::Moment::BeforeMeeting
                } else {
                    agenda::Moment::Started
                };
                let plan = if crate::sim::mutation::on(crate::sim::Mutation::IgnoreTypedLines) {
                    agenda::AbsorbPlan::default()
                } else {
                    agenda::plan_absorb_at(&items, &base, &parsed, moment)
                };
                // Nothing typed since the last pass (the common case): nothing to record.
                let changes = !plan.actions.is_empty() || plan.notes_with_ids(&[]) != notes;
                if changes && self.read_only {
                    // A dry run records nothing, but shows what the pass would write: the
                    // block as it stands once what people typed is taken in.
                    let mut ledger = agenda::Ledger::from_agenda(items, notes);
                    ledger.apply(&plan);
                    items = ledger.agenda_items();
                    notes = ledger.notes().to_vec();
                } else if changes {
                    self.store
                        .apply_absorb(row.id, occ.id, &plan, self.now)
                        .await?;
                    items = self.store.agenda_items(row.id, occ.id).await?;
                    notes = self.store.occurrence_agenda(occ.id).await?.1;
                }
            }
            Ok(None) => {}
            Err(e) => {
                return Ok(NextAction::Refused {
                    occurrence_id: occ.id,
                    why: e.to_string(),
                });
            }
        }
        let block = self
            .render_parts(row, next, &items, &notes, link.as_deref())
            .await?;
        if !may_write {
            return Ok(NextAction::Nothing);
        }
        match agenda::plan_write(
            description,
            &block,
            written.is_some(),
            self.cfg.max_description_bytes,
        ) {
            Ok(WriteDecision::Unchanged) => {
                if !self.read_only && written.as_ref() != Some(&block) {
                    self.store.set_written_block(occ.id, &block).await?;
                }
                Ok(NextAction::UpToDate)
            }
            Ok(WriteDecision::Write(new)) => Ok(NextAction::Write {
                nudge: block.nudged && !written.as_ref().is_some_and(|w| w.nudged),
                occurrence_id: occ.id,
                original_start: next.original_start,
                tz: next.tz,
                before: next.description.as_deref().map(str::to_string),
                description: new,
                block,
            }),
            Err(WriteRefusal::ResultTooLarge { len, limit }) => Ok(NextAction::Refused {
                occurrence_id: occ.id,
                why: too_large(&row.summary, &block, len, limit),
            }),
            Err(other) => Ok(NextAction::Refused {
                occurrence_id: occ.id,
                why: other.to_string(),
            }),
        }
    }
}

/// Why an agenda that does not fit even with every item folded is not written: the series, the
/// sizes, and what takes the room (the notes typed into the invite cannot be folded away: they
/// are read back from it), so the manager knows what to shorten.
fn too_large(summary: &str, block: &RenderedBlock, len: usize, limit: usize) -> String {
    let notes: usize = block
        .lines
        .iter()
        .filter(|l| l.kind == agenda::LineKind::Note)
        .map(|l| l.text.len())
        .sum();
    format!(
        "the agenda of {:?} is not written: with every item folded away, the description would \
         be {len} bytes, over agenda.max_description_bytes ({limit}); its notes take {notes} \
         bytes: shorten the notes in the invite's agenda (or the text around it)",
        summary.chars().take(80).collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agenda::{AgendaInput, Area, Note, plan_write, render_within};

    #[test]
    fn notes_too_large_for_the_description_name_the_series_and_what_to_shorten() {
        let notes = [Note::new(Area::Notes, "&".repeat(20_000))];
        let input = AgendaInput {
            direct_name: "Bob",
            manager_name: "Max",
            items: &[],
            notes: &notes,
            last_meeting: None,
            start: chrono::TimeZone::with_ymd_and_hms(&chrono_tz::UTC, 2026, 3, 3, 10, 0, 0)
                .single()
                .unwrap(),
            length: chrono::Duration::minutes(30),
            cancelled_in_a_row: 0,
            last_closed: Default::default(),
            prompt: Default::default(),
        };
        let max = 64 * 1024;
        let description = "Join: https://meet.example/abc";
        let budget = agenda::block_budget(description, Format::GoogleHtml, 16 * 1024, max);
        let template = Template::default_template();
        let block = render_within(&input, Format::GoogleHtml, &template, budget).unwrap();
        let Err(WriteRefusal::ResultTooLarge { len, limit }) =
            plan_write(description, &block, false, max)
        else {
            panic!("{} bytes written", block.text.len());
        };
        let why = too_large("1:1 Bob / Max", &block, len, limit);
        assert!(why.contains("\"1:1 Bob / Max\""), "{why}");
        assert!(why.contains("shorten the notes in the invite"), "{why}");
        assert!(
            why.contains("agenda.max_description_bytes (65536)"),
            "{why}"
        );
    }
}
