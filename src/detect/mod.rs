//! Is this series a 1:1, with whom, and why: a pure verdict a user can read back.
//!
//! [`detect`] looks at a series' master (or, when only overrides are visible, its first one) and
//! decides in three tiers:
//! 1. Facts that rule a series out whatever else it says: one-off, cancelled, all-day,
//!    out-of-office / focus / working-location, the owner declined it or is not in it, nobody
//!    else is in it.
//! 2. The user's title patterns ([`DetectRules`]): exclude beats include, both beat tier 3.
//! 3. Judgement: exactly two humans (organizer and attendees counted once; rooms, resources,
//!    calendar addresses and the owner's aliases are not people; a group invite means many
//!    people), no more than `max_length` long, and no title that says otherwise (an interview, a
//!    hold, a standup without a 1:1 spelling). A 1:1 spelling or name pair only raises confidence:
//!    two people meeting regularly are a 1:1 whatever the title.
//!
//! A stored per-series choice ([`SeriesOverride`]) is applied on top and beats everything.
//!
//! `confidence` is the estimated probability that `one_on_one` is right, from 0.5 (a coin toss)
//! to 1.0 (decided by the user). The values come from the evidence tier (see `conf`); the corpus
//! test checks they are calibrated: verdicts given at least 0.95 must be right at least 95% of
//! the time, and wrong verdicts must carry less confidence on average than right ones.

pub(crate) mod continuation;
mod people;
mod rules;
mod title;

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::model::{EventKind, EventStatus, Owner, Person, Series, Transparency};
use people::{Human, Participants};
pub use rules::{DEFAULT_MAX_MINUTES, DEFAULT_NOTETAKERS, DetectRules, PatternError, TitlePattern};
use title::TitleSignal;

/// Confidence levels, one per kind of evidence (see the module doc).
mod conf {
    #[cfg(test)]
    /// The user said so (a per-series override).
    pub(crate) const USER: f32 = 1.0;
    /// A fact in the data rules the series out (one-off, cancelled, declined, ...).
    pub(crate) const FACT: f32 = 0.99;
    /// Two people and the title spells out a 1:1 or pairs their names.
    pub(crate) const TWO_AND_TITLE: f32 = 0.98;
    /// Three or more people and no 1:1 title.
    pub(crate) const CROWD: f32 = 0.97;
    /// A group address or shared mailbox is invited.
    pub(crate) const GROUP: f32 = 0.95;
    /// The user's title pattern decided.
    pub(crate) const PATTERN: f32 = 0.95;
    /// The owner's addresses are not in the meeting (an unknown alias is the usual error).
    pub(crate) const NOT_LISTED: f32 = 0.93;
    /// The title says 1:1 but three or more people are invited (one may be an optional guest).
    pub(crate) const CROWD_DESPITE_TITLE: f32 = 0.9;
    /// Two people and the title marks it as an interview or a hold.
    pub(crate) const HARD_TITLE: f32 = 0.9;
    /// Two people, nothing in the title either way.
    pub(crate) const TWO_PLAIN: f32 = 0.88;
    /// Two people, but too long.
    pub(crate) const TOO_LONG: f32 = 0.85;
    /// Two people, but the title names a group ritual (standup, retro, ...).
    pub(crate) const SOFT_TITLE: f32 = 0.8;
    /// Taken off for each doubt about a positive verdict (no email for the other person, the
    /// owner only implied or recognised by a guessed alias, only single occurrences visible,
    /// marked free).
    pub(crate) const DOUBT: f32 = 0.05;
    /// Never below a coin toss: a verdict we trust less than that would be the other one.
    pub(crate) const FLOOR: f32 = 0.5;
}

/// The answer for one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub one_on_one: bool,
    /// The other person of the 1:1; `None` when the series is not a 1:1.
    pub with: Option<Person>,
    /// The probability that `one_on_one` is right (0.5..=1.0; see the module doc).
    pub confidence: f32,
    /// One sentence a user can read back: the verdict, then why.
    pub reason: String,
    /// The one human besides the owner, whatever the verdict, so an include by hand knows who
    /// the 1:1 is with. `None` with zero or several others.
    #[serde(skip)]
    candidate: Option<Person>,
    /// Meeting bots (AI notetakers) invited, not counted as people.
    #[serde(skip)]
    notetakers: Vec<Person>,
}

impl Verdict {
    /// Whether a meeting bot (AI notetaker) is invited.
    pub fn has_notetaker(&self) -> bool {
        !self.notetakers.is_empty()
    }

    /// The other person's email, as the CLI's JSON shows it.
    pub(crate) fn with_email(&self) -> Option<&str> {
        self.with
            .as_ref()
            .and_then(|p| p.email.as_ref())
            .map(|e| e.as_str())
    }
}

/// The user's stored choice for a series (`oneonone series include|exclude`), kept in
/// `series.override`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeriesOverride {
    /// Detection decides.
    #[default]
    Auto,
    /// Always a 1:1.
    Included,
    /// Never a 1:1.
    Excluded,
}

impl SeriesOverride {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Included => "included",
            Self::Excluded => "excluded",
        }
    }

    #[cfg(test)]
    /// The verdict after the user's choice: unchanged for `Auto`; otherwise decided with full
    /// confidence, the reason saying so and keeping what detection alone said.
    pub(crate) fn apply(self, detected: Verdict) -> Verdict {
        match self {
            Self::Auto => detected,
            Self::Included => Verdict {
                one_on_one: true,
                with: detected.with.clone().or(detected.candidate.clone()),
                confidence: conf::USER,
                reason: format!(
                    "1:1: you included this series by hand; detection alone said {}",
                    detected.reason
                ),
                candidate: detected.candidate,
                notetakers: detected.notetakers,
            },
            Self::Excluded => Verdict {
                one_on_one: false,
                with: None,
                confidence: conf::USER,
                reason: format!(
                    "not a 1:1: you excluded this series by hand; detection alone said {}",
                    detected.reason
                ),
                candidate: detected.candidate,
                notetakers: detected.notetakers,
            },
        }
    }
}

impl fmt::Display for SeriesOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored override value that is none of `auto`, `included`, `excluded`.
#[derive(Debug, thiserror::Error)]
#[error("unknown series override {0:?} (expected auto, included or excluded)")]
pub struct UnknownOverride(pub String);

impl FromStr for SeriesOverride {
    type Err = UnknownOverride;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "included" | "include" => Ok(Self::Included),
            "excluded" | "exclude" => Ok(Self::Excluded),
            _ => Err(UnknownOverride(s.to_string())),
        }
    }
}

/// Decides whether `series` is a recurring 1:1 of `owner`, with whom, and why.
pub fn detect(series: &Series, owner: &Owner, rules: &DetectRules) -> Verdict {
    let Some(ev) = subject(series) else {
        return no(conf::FACT, "the series has no events".into(), None);
    };
    let full_title = ev.summary.as_deref().map(str::trim).unwrap_or("");
    let title = &shown_title(full_title);
    let tz = series.default_tz.unwrap_or(Tz::UTC);
    let who = people::participants(ev, owner, rules);
    let others: Vec<&Person> = who.others.iter().map(|h| &h.person).collect();
    let candidate = match who.others.as_slice() {
        [one] => Some(one.person.clone()),
        _ => None,
    };

    // Tier 1: facts.
    if let Some((confidence, fact)) = ruling_fact(series, &who) {
        return no(confidence, fact, candidate);
    }

    let freq = frequency(series);
    let length = ev.length(tz);
    let signals = title::signals(full_title, &others);
    let detected = judge(&Judged {
        who: &who,
        title,
        freq: &freq,
        length,
        signals: &signals,
        rules,
        master_less: series.master.is_none(),
        transparent: ev.transparency == Transparency::Transparent,
    });

    // Tier 2: the user's patterns overrule the judgement.
    let mut v = if let Some(p) = rules.excluding(full_title) {
        no(
            conf::PATTERN,
            format!(
                "title '{title}' matches your exclude pattern '{p}'; detection alone said {}",
                detected.reason
            ),
            None,
        )
    } else if let Some(p) = rules.including(full_title).filter(|_| !detected.one_on_one) {
        Verdict {
            one_on_one: true,
            with: candidate.clone(),
            confidence: conf::PATTERN,
            reason: format!(
                "1:1: title '{title}' matches your include pattern '{p}'; detection alone said {}",
                detected.reason
            ),
            candidate: None,
            notetakers: Vec::new(),
        }
    } else {
        detected
    };
    v.candidate = candidate;
    v.notetakers = who.notetakers;
    v
}

/// The meeting bots (AI notetakers) invited to `series`, as `detect` sees them.
pub(crate) fn notetakers(series: &Series, owner: &Owner, rules: &DetectRules) -> Vec<Person> {
    subject(series)
        .map(|ev| people::participants(ev, owner, rules).notetakers)
        .unwrap_or_default()
}

/// The event that speaks for the series: the master; without one (only some instances are
/// visible), the first instance that is not cancelled, since one cancelled week says nothing
/// about the others.
fn subject(series: &Series) -> Option<&crate::model::Event> {
    series.master.as_ref().or_else(|| {
        series
            .overrides
            .iter()
            .find(|o| o.status != EventStatus::Cancelled)
            .or_else(|| series.overrides.first())
    })
}

/// A fact that rules the series out: how sure it is, and the reason's detail.
fn ruling_fact(series: &Series, who: &Participants) -> Option<(f32, String)> {
    let ev = subject(series)?;
    let recurring = series.is_recurring()
        || (series.master.is_none() && series.overrides.iter().any(|o| o.recurrence_id.is_some()));
    if !recurring {
        return Some((conf::FACT, "one-off meeting (no RRULE or RDATE)".into()));
    }
    if ev.rdates.is_empty()
        && !ev.rrules.is_empty()
        && ev
            .rrules
            .iter()
            .all(|r| parse_rrule(r).and_then(|r| r.get_count()) == Some(1))
    {
        return Some((conf::FACT, "it repeats only once (COUNT=1)".into()));
    }
    if ev.status == EventStatus::Cancelled {
        return Some((conf::FACT, "the series is cancelled".into()));
    }
    if ev.start.is_some_and(|s| s.is_all_day()) {
        return Some((conf::FACT, "all-day event".into()));
    }
    let kind = match ev.kind {
        EventKind::Default if outlook_out_of_office(ev) => EventKind::OutOfOffice,
        k => k,
    };
    match kind {
        EventKind::OutOfOffice => return Some((conf::FACT, "out-of-office event".into())),
        EventKind::FocusTime => return Some((conf::FACT, "focus-time event".into())),
        EventKind::WorkingLocation => return Some((conf::FACT, "working-location event".into())),
        EventKind::Default => {}
    }
    // Invited through a group, the owner is in the meeting without being listed; the group
    // then decides (tier 3), and the reason names it.
    if !who.owner_in_meeting() && who.groups().next().is_none() {
        let by = who
            .foreign_organizer
            .as_ref()
            .map(|o| format!(" (organized by {})", label(o)))
            .unwrap_or_default();
        return Some((
            conf::NOT_LISTED,
            format!("none of your addresses is in it{by}"),
        ));
    }
    if who.owner_declined {
        return Some((conf::FACT, "you declined the series".into()));
    }
    if who.others.is_empty() && who.groups().next().is_none() {
        let mut s = String::from("no one else is in it");
        if !who.declined.is_empty() {
            s.push_str(&format!(" ({} declined)", list(&who.declined)));
        } else if ev.transparency == Transparency::Transparent {
            s.push_str(" (a free block)");
        } else {
            s.push_str(" (a busy block)");
        }
        return Some((conf::FACT, s));
    }
    None
}

/// Outlook and Exchange mark out-of-office time with `X-MICROSOFT-CDO-BUSYSTATUS:OOF`.
fn outlook_out_of_office(ev: &crate::model::Event) -> bool {
    ev.x_props.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("X-MICROSOFT-CDO-BUSYSTATUS") && v.trim().eq_ignore_ascii_case("OOF")
    })
}

struct Judged<'a> {
    who: &'a Participants,
    title: &'a str,
    freq: &'a str,
    length: chrono::Duration,
    signals: &'a [TitleSignal],
    rules: &'a DetectRules,
    master_less: bool,
    transparent: bool,
}

/// Tier 3: the verdict from people, length and title.
fn judge(j: &Judged<'_>) -> Verdict {
    let who = j.who;
    let title = j.title;
    let positive = j.signals.iter().find_map(|s| match s {
        TitleSignal::OneOnOne(m) if m == "1:1" => Some("says 1:1".to_string()),
        // Quoted as the title is: a match may span a tab or line break ("1\r-1").
        TitleSignal::OneOnOne(m) => Some(format!("says 1:1 ('{}')", shown_title(m))),
        TitleSignal::NamePair => Some("pairs two names".to_string()),
        _ => None,
    });
    let hard = j.signals.iter().find_map(|s| match s {
        TitleSignal::HardNegative(w) => Some(shown_title(w)),
        _ => None,
    });
    let soft = j.signals.iter().find_map(|s| match s {
        TitleSignal::SoftNegative(w) => Some(shown_title(w)),
        _ => None,
    });

    let groups: Vec<Person> = who.groups().cloned().collect();
    if !groups.is_empty() {
        return no(
            conf::GROUP,
            format!(
                "{}, invites the group or shared mailbox {}",
                j.freq,
                list(&groups)
            ),
            None,
        );
    }

    let count = who.others.len() + 1;
    if count > 2 {
        let people = format!("you, {}", humans(&who.others));
        return match positive {
            Some(_) => no(
                conf::CROWD_DESPITE_TITLE,
                format!("looks like a 1:1 ('{title}') but has {count} people: {people}"),
                None,
            ),
            None => no(
                conf::CROWD,
                format!("{}, {count} people: {people}", j.freq),
                None,
            ),
        };
    }

    let other = &who.others[0];
    let base = format!(
        "{}, {}, 2 people: you and {}",
        j.freq,
        duration_text(j.length),
        human(other)
    );
    if let Some(w) = hard {
        return no(
            conf::HARD_TITLE,
            format!("{base}, but title '{title}' says {w}"),
            None,
        );
    }
    if j.length > j.rules.max_length {
        return no(
            conf::TOO_LONG,
            format!(
                "{base}, but it lasts longer than the {} maximum",
                duration_text(j.rules.max_length)
            ),
            None,
        );
    }
    if let (Some(w), None) = (&soft, &positive) {
        return no(
            conf::SOFT_TITLE,
            format!("{base}, but title '{title}' says {w}"),
            None,
        );
    }

    let mut confidence = if positive.is_some() {
        conf::TWO_AND_TITLE
    } else {
        conf::TWO_PLAIN
    };
    let mut detail = match &positive {
        Some(p) => format!("{base}, title '{title}' {p}"),
        None if title.is_empty() => format!("{base}, no title"),
        None => format!("{base}, title '{title}' (no 1:1 signal needed)"),
    };
    let mut doubts = Vec::new();
    if other.person.email.is_none() {
        doubts.push(format!(
            "{} has no email address",
            other.person.display_name()
        ));
    }
    if who.owner_implied {
        doubts.push("no organizer is named, so you are taken to be it".to_string());
    }
    if let Some(alias) = &who.owner_alias_guess {
        doubts.push(format!(
            "{alias} is taken to be you (add it to your addresses if it is)"
        ));
    }
    if j.master_less {
        doubts.push("only single occurrences are visible".to_string());
    }
    if j.transparent {
        doubts.push("it is marked free".to_string());
    }
    if !who.declined.is_empty() {
        detail.push_str(&format!(" ({} declined)", list(&who.declined)));
    }
    match who.notetakers.as_slice() {
        [] => {}
        [one] => detail.push_str(&format!("; a notetaker ({}) is invited", label(one))),
        many => detail.push_str(&format!("; notetakers ({}) are invited", list(many))),
    }
    if !doubts.is_empty() {
        confidence -= conf::DOUBT * doubts.len() as f32;
        detail.push_str("; ");
        detail.push_str(&doubts.join(", "));
    }
    Verdict {
        one_on_one: true,
        with: Some(other.person.clone()),
        confidence: confidence.max(conf::FLOOR),
        reason: format!("1:1: {detail}"),
        candidate: Some(other.person.clone()),
        notetakers: Vec::new(),
    }
}

fn no(confidence: f32, detail: String, candidate: Option<Person>) -> Verdict {
    Verdict {
        one_on_one: false,
        with: None,
        confidence,
        reason: format!("not a 1:1: {detail}"),
        candidate,
        notetakers: Vec::new(),
    }
}

fn parse_rrule(r: &str) -> Option<rrule::RRule<rrule::Unvalidated>> {
    let r = r.trim();
    let r = r.strip_prefix("RRULE:").unwrap_or(r);
    r.parse().ok()
}

/// "weekly", "every 2 weeks", "every weekday", ... from the master's RRULE (or RDATEs).
fn frequency(series: &Series) -> String {
    use rrule::Frequency as F;
    let Some(master) = &series.master else {
        return "recurring".to_string();
    };
    let Some(rule) = master.rrules.first().and_then(|r| parse_rrule(r)) else {
        return match master.rdates.len() {
            0 => "recurring".to_string(),
            n => format!("on {} set dates", n + 1),
        };
    };
    let n = rule.get_interval().max(1);
    let weekdays = rule.get_by_weekday().len();
    let unit = match rule.get_freq() {
        F::Daily if weekdays == 5 => return "every weekday".to_string(),
        F::Weekly if weekdays == 5 && n == 1 => return "every weekday".to_string(),
        F::Weekly if weekdays > 1 && n == 1 => return format!("{weekdays} times a week"),
        F::Yearly => ("yearly", "years"),
        F::Monthly => ("monthly", "months"),
        F::Weekly => ("weekly", "weeks"),
        F::Daily => ("daily", "days"),
        F::Hourly => ("hourly", "hours"),
        F::Minutely => ("every minute", "minutes"),
        F::Secondly => ("every second", "seconds"),
    };
    if n == 1 {
        unit.0.to_string()
    } else {
        format!("every {n} {}", unit.1)
    }
}

/// The title as a reason quotes it: on one line, at most 80 characters.
fn shown_title(title: &str) -> String {
    let one_line: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(80) {
        Some((cut, _)) => format!("{}...", &one_line[..cut]),
        None => one_line,
    }
}

fn duration_text(d: chrono::Duration) -> String {
    let m = d.num_minutes();
    match (m / 60, m % 60) {
        (0, 0) => "no set length".to_string(),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m:02}"),
    }
}

/// A person as the reason names them: the email, else the name.
fn label(p: &Person) -> String {
    match &p.email {
        Some(e) => e.to_string(),
        None => format!("{} (no email)", p.display_name()),
    }
}

fn human(h: &Human) -> String {
    if h.is_organizer {
        format!("{} (organizer)", label(&h.person))
    } else {
        label(&h.person)
    }
}

fn humans(hs: &[Human]) -> String {
    let shown: Vec<String> = hs.iter().take(5).map(human).collect();
    match hs.len().saturating_sub(5) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

fn list(ps: &[Person]) -> String {
    ps.iter().map(label).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;
