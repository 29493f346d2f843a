//! The simulated world of one schedule: the server, the clock, the people who use the
//! calendar (the manager and the directs), the faults of the day, and the checks that every
//! write of the daemon is made on: only into a 1:1's coming occurrence, only inside the block,
//! one block, nothing else of the resource changed.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;

use super::server::{Rewrite, Server, unfold_lines};
use crate::agenda::{Format, parse_block};
use crate::model::OccurrenceStatus;

/// Descriptions this long are never read in a block check (far above what people type).
const MAX_TEXT: usize = 1 << 22;
/// How far around `now` occurrences are compared.
pub(crate) const WINDOW_DAYS: i64 = 420;

/// What a request of the daemon meets.
pub(crate) enum Gate<E> {
    Go,
    Fail(E),
    Crash,
}

/// What happens once a request acted on the server.
pub(crate) enum After {
    /// The daemon hears the answer.
    Answer,
    /// The daemon crashed before it heard (between the remote write and the local commit).
    Crash,
    /// The answer never comes: the request times out (a proxy answers 504), the daemon lives
    /// on, not knowing that its write landed.
    Lost,
}

/// How often faults and people act in one schedule (drawn from its seed).
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub throttle: f64,
    pub server_error: f64,
    /// A full listing that comes back empty.
    pub empty_listing: f64,
    /// A full listing that leaves some resources out.
    pub short_listing: f64,
    /// A person edits while a pass is at a request.
    pub people_during_pass: f64,
}

/// A 1:1 of the world, as its people know it.
#[derive(Debug, Clone)]
pub(crate) struct OneOnOne {
    pub path: String,
    pub uid: String,
    pub direct: String,
    /// Deleted by the manager (then maybe re-created under a new UID).
    pub deleted: bool,
}

/// A line a person typed inside the block, and where.
#[derive(Debug, Clone)]
pub(crate) struct Typed {
    /// The words (without list marks) that must be found again.
    pub key: String,
    pub path: String,
}

/// One write of the daemon as the server received it.
#[derive(Debug, Clone)]
pub(crate) struct Write {
    pub path: String,
    pub original_start: DateTime<Utc>,
    pub before: Option<String>,
    pub after: String,
}

/// The world of one schedule.
pub(crate) struct World {
    pub rng: StdRng,
    pub now: DateTime<Utc>,
    /// The CalDAV server (a CalDAV schedule), or
    pub server: Server,
    /// the Google calendar (a Google schedule).
    pub google: super::google::Calendar,
    /// Which of the two the account is on, and how its descriptions are written.
    pub format: Format,
    pub profile: Profile,
    pub ones: Vec<OneOnOne>,
    pub typed: Vec<Typed>,
    pub writes: Vec<Write>,
    /// Writes in the pass now running.
    pub pass_writes: u32,
    /// Whether the account has been started (before that, a write is a violation).
    pub started: bool,
    /// Requests answered so far (all passes).
    pub requests: u64,
    /// The request at which the daemon crashes, and whether after the server acted.
    pub crash_at: Option<(u64, bool)>,
    /// The daemon crashes once its next write reached the server (before it hears back).
    pub crash_after_write: bool,
    pub crashed: bool,
    /// A restore (`oneonone restore`) is running: its write puts back an older text, which
    /// the checks of an agenda write do not apply to.
    pub restoring: bool,
    /// The request going through now acts on the server, but its answer is lost (a timeout).
    answer_lost: bool,
    pub trace: Vec<String>,
    pub violations: Vec<String>,
    /// A counter that keeps typed words unique.
    serial: u32,
}

/// The people's manager and the calendar's owner.
pub(crate) const MANAGER: &str = "manager@sim.example";

impl World {
    pub(crate) fn new(
        rng: StdRng,
        now: DateTime<Utc>,
        server: Server,
        format: Format,
        profile: Profile,
    ) -> Self {
        Self {
            rng,
            now,
            server,
            google: super::google::Calendar::default(),
            format,
            profile,
            ones: Vec::new(),
            typed: Vec::new(),
            writes: Vec::new(),
            pass_writes: 0,
            started: false,
            requests: 0,
            crash_at: None,
            crash_after_write: false,
            crashed: false,
            restoring: false,
            answer_lost: false,
            trace: Vec::new(),
            violations: Vec::new(),
            serial: 0,
        }
    }

    pub(crate) fn trace(&mut self, line: String) {
        self.trace
            .push(format!("{} {line}", self.now.format("%m-%d %H:%M")));
    }

    pub(crate) fn violation(&mut self, what: String) {
        self.trace(format!("VIOLATION {what}"));
        self.violations.push(what);
    }

    /// Whether the daemon crashes at this request (`after`: once the server acted).
    pub(crate) fn crash_due(&mut self, after: bool) -> bool {
        if self.crashed {
            return false;
        }
        if self.crash_at == Some((self.requests, after)) {
            self.crashed = true;
            return true;
        }
        false
    }

    /// What happens to a request of the daemon: a crash, a fault (its HTTP status), or go; a
    /// person may act first (during a pass).
    pub(crate) fn gate(&mut self, method: &str, what: &str) -> Gate<u16> {
        self.requests += 1;
        if self.crash_due(false) {
            self.trace(format!("crash before {method} {what}"));
            return Gate::Crash;
        }
        let p = self.profile.people_during_pass;
        if matches!(method, "PUT" | "PATCH") && self.rng.random_bool((p * 3.0).min(1.0)) {
            // The same invite, between the daemon's read and its write: the 412 path.
            let name = what.rsplit('/').next().unwrap_or(what);
            let series = name.split('_').next().unwrap_or(name).to_string();
            self.person_acts_on("just before the daemon's write", Some(&series));
        } else if self.rng.random_bool(p) {
            self.person_acts("during a pass");
        }
        let roll: f64 = self.rng.random();
        let (throttle, server_error) = (self.profile.throttle, self.profile.server_error);
        let status = if roll < throttle {
            429
        } else if roll < throttle + server_error {
            // Half of a write's server errors are timeouts: the write lands, its answer is
            // lost (the daemon hears 504 and does not know whether it landed).
            if matches!(method, "PUT" | "PATCH") && self.rng.random_bool(0.5) {
                self.answer_lost = true;
                return Gate::Go;
            }
            503
        } else {
            return Gate::Go;
        };
        self.trace(format!("{method} {what} -> {status}"));
        Gate::Fail(status)
    }

    /// After a request acted on the server: whether the daemon hears the answer, crashes
    /// before it does (between the remote write and the local commit), or times out.
    pub(crate) fn after(&mut self, method: &str, what: &str) -> After {
        let wrote = matches!(method, "PUT" | "PATCH");
        let lost = std::mem::take(&mut self.answer_lost);
        if self.crash_due(true) || (wrote && self.crash_after_write && !self.crashed) {
            self.crashed = true;
            self.trace(format!("crash after {method} {what}"));
            return After::Crash;
        }
        if lost {
            self.trace(format!("{method} {what} acted, its answer lost -> 504"));
            return After::Lost;
        }
        After::Answer
    }

    /// A full listing as a faulty server gives it: sometimes empty, sometimes short.
    pub(crate) fn listing_fault<T>(&mut self, listing: &mut Vec<T>) {
        if listing.is_empty() {
            return;
        }
        let roll: f64 = self.rng.random();
        if roll < self.profile.empty_listing {
            self.trace("listing comes back empty".into());
            listing.clear();
        } else if roll < self.profile.empty_listing + self.profile.short_listing {
            let i = self.rng.random_range(0..listing.len());
            self.trace("listing comes back one short".into());
            listing.remove(i);
        }
    }

    fn unique(&mut self) -> u32 {
        self.serial += 1;
        self.serial
    }

    // ---- the calendar as the people made it --------------------------------------------------

    /// Adds a weekly 1:1 of the manager with `direct`, first on `first`.
    pub(crate) fn add_one_on_one(&mut self, direct: &str, first: DateTime<Utc>) {
        let n = self.unique();
        let summary = format!("1:1 Manager / {direct}");
        let people = [MANAGER, &format!("{direct}@sim.example")];
        let (path, uid) = if self.google() {
            // On Google the series id is both (the pass names a series by it).
            let id = format!("oneonone{n}");
            self.google.add_series(&id, &summary, first, &people);
            (id.clone(), id)
        } else {
            let uid = format!("1on1-{n}@sim.example");
            let path = format!("{n}.ics");
            self.server
                .store(&path, &series_ics(&uid, &summary, first, &people));
            (path, uid)
        };
        self.trace(format!("1:1 with {direct} created ({path})"));
        self.ones.push(OneOnOne {
            path,
            uid,
            direct: direct.into(),
            deleted: false,
        });
    }

    /// Adds the weekly team meeting (four people: not a 1:1, never written).
    pub(crate) fn add_team_meeting(&mut self, first: DateTime<Utc>) {
        let people = [
            MANAGER,
            "ann@sim.example",
            "bob@sim.example",
            "cy@sim.example",
        ];
        if self.google() {
            self.google.add_series(TEAM, "Team sync", first, &people);
        } else {
            let body = series_ics("team@sim.example", "Team sync", first, &people);
            self.server.store(TEAM, &body);
        }
    }

    /// Whether this world's calendar is on Google.
    pub(crate) fn google(&self) -> bool {
        self.format == Format::GoogleHtml
    }

    /// The occurrences of the series in `path` (none when it is gone or unreadable).
    pub(crate) fn occurrences(&self, path: &str) -> Vec<crate::model::Occurrence> {
        if self.google() {
            return self.google.occurrences(path, self.now);
        }
        let Some(s) = self.server.resources.get(path) else {
            return Vec::new();
        };
        occurrences_of(&s.body, self.now)
    }

    /// The series a revision's remote id [`names`].
    pub(crate) fn path_of(&self, remote_id: &str) -> Option<String> {
        self.ones
            .iter()
            .map(|o| &o.path)
            .find(|p| names(remote_id, p))
            .cloned()
    }

    /// The description of the occurrence of `path` originally at `os` (empty when it has
    /// none), `None` when the calendar no longer has it or it is cancelled.
    pub(crate) fn description_at(&self, path: &str, os: DateTime<Utc>) -> Option<String> {
        self.occurrences(path)
            .into_iter()
            .find(|o| o.original_start == os && o.status != OccurrenceStatus::Cancelled)
            .map(|o| o.description.as_deref().unwrap_or_default().to_string())
    }

    /// Whether the series in `path` is still in the calendar.
    pub(crate) fn exists(&self, path: &str) -> bool {
        if self.google() {
            self.google.is_live(path)
        } else {
            self.server.resources.contains_key(path)
        }
    }

    /// Every text the series in `path` holds (all its descriptions), as people read it.
    pub(crate) fn text_of(&self, path: &str) -> String {
        if self.google() {
            let id = format!("{path}_");
            return self
                .google
                .events
                .values()
                .filter(|e| e.id == path || e.id.starts_with(&id))
                .filter_map(|e| e.description.clone())
                .collect::<Vec<_>>()
                .join("\n");
        }
        self.server
            .resources
            .get(path)
            .map(|s| {
                unfold_lines(&s.body)
                    .join("\n")
                    .replace("\\n", "\n")
                    .replace("\\,", ",")
                    .replace("\\;", ";")
            })
            .unwrap_or_default()
    }

    /// Forgets the change log: every sync token given so far is refused.
    pub(crate) fn compact(&mut self) {
        if self.google() {
            self.google.compact();
        } else {
            self.server.compact();
        }
    }

    /// One action of a person, at random: what people do to a 1:1 invite.
    pub(crate) fn person_acts(&mut self, when: &str) {
        self.person_acts_on(when, None);
    }

    /// [`World::person_acts`] on the 1:1 in `target` when given.
    fn person_acts_on(&mut self, when: &str, target: Option<&str>) {
        let live: Vec<usize> = (0..self.ones.len())
            .filter(|&i| !self.ones[i].deleted)
            .filter(|&i| target.is_none_or(|t| self.ones[i].path == t))
            .collect();
        if live.is_empty() {
            return;
        }
        let one = self.ones[live[self.rng.random_range(0..live.len())]].clone();
        let coming: Vec<_> = self
            .occurrences(&one.path)
            .into_iter()
            .filter(|o| o.start > self.now && o.status != OccurrenceStatus::Cancelled)
            .take(2)
            .collect();
        let Some(occ) = coming.get(self.rng.random_range(0..2).min(coming.len().max(1) - 1)) else {
            return;
        };
        let desc = occ.description.as_deref().unwrap_or("").to_string();
        let os = occ.original_start;
        let action = self.rng.random_range(0..100);
        let n = self.unique();
        let who = if self.rng.random_bool(0.5) {
            one.direct.clone()
        } else {
            "manager".into()
        };
        let edited: Option<(String, String)> = match action {
            0..=19 => tick(&desc).map(|d| (d, "ticks an item".into())),
            20..=44 => {
                let (form, words) = topic(&mut self.rng, n);
                let line = format!("{form}{words}");
                insert_under(&desc, "minutes for you", &line, self.format).map(|d| {
                    self.typed.push(Typed {
                        key: words.clone(),
                        path: one.path.clone(),
                    });
                    (d, format!("types the topic {form}{words}"))
                })
            }
            45..=54 => {
                let words = format!("decided to try pairing n{n}");
                insert_under(&desc, "Notes and action items", &words, self.format).map(|d| {
                    self.typed.push(Typed {
                        key: words.clone(),
                        path: one.path.clone(),
                    });
                    (d, format!("writes the note {words}"))
                })
            }
            55..=64 => delete_item_line(&desc, self.format).map(|(d, line)| {
                // A line taken back before any pass read it is the person's to take back (one
                // read already is an item, which the record keeps: checked after every pass).
                self.typed
                    .retain(|t| !(t.path == one.path && line.contains(&t.key)));
                (d, format!("deletes the line {line:?}"))
            }),
            65..=79 => Some((
                outside_edit(&desc, n, self.rng.random_bool(0.5), self.format),
                "edits the text outside the agenda".into(),
            )),
            80..=87 => {
                let by = Duration::hours(self.rng.random_range(1..30));
                self.move_occurrence(&one, os, by);
                None
            }
            _ => {
                self.cancel_occurrence(&one, os);
                None
            }
        };
        if let Some((text, what)) = edited {
            self.set_description(&one.path, &one.uid, os, &text);
            self.trace(format!(
                "{who} {what} in {} on {} ({when})",
                one.path,
                os.format("%m-%d")
            ));
        }
    }

    fn set_description(&mut self, path: &str, uid: &str, os: DateTime<Utc>, text: &str) {
        if self.google() {
            let now = self.now;
            self.google.edit_instance(path, os, now, |e| {
                e.description = Some(text.to_string());
            });
            return;
        }
        let Some(body) = self.server.resources.get(path).map(|s| s.body.clone()) else {
            return;
        };
        match crate::ics::set_occurrence_description(body.as_bytes(), uid, os, text, self.now) {
            Ok(new) => {
                let new = String::from_utf8(new).expect("our edit keeps UTF-8");
                self.server.store(path, &new);
            }
            Err(e) => self.trace(format!("a person's edit could not be made: {e}")),
        }
    }

    /// The manager moves one occurrence later by `by`.
    fn move_occurrence(&mut self, one: &OneOnOne, os: DateTime<Utc>, by: Duration) {
        self.trace(format!(
            "manager moves {} on {} by {} h",
            one.path,
            os.format("%m-%d"),
            by.num_hours()
        ));
        if self.google() {
            let now = self.now;
            self.google.edit_instance(&one.path, os, now, |e| {
                e.start = Some(google_time(os + by));
                e.end = Some(google_time(os + by + Duration::minutes(30)));
            });
            return;
        }
        let Some(body) = self.server.resources.get(&one.path).map(|s| s.body.clone()) else {
            return;
        };
        // An override for the occurrence (keeping its description), then its times changed.
        let desc = occurrences_of(&body, self.now)
            .into_iter()
            .find(|o| o.original_start == os)
            .and_then(|o| o.description.map(|d| d.to_string()))
            .unwrap_or_default();
        let Ok(with) =
            crate::ics::set_occurrence_description(body.as_bytes(), &one.uid, os, &desc, self.now)
        else {
            return;
        };
        let text = String::from_utf8(with).expect("UTF-8");
        let rid = stamp(os);
        let mut lines = unfold_lines(&text);
        // Set DTSTART/DTEND of the override (the component with that RECURRENCE-ID).
        let mut out = Vec::with_capacity(lines.len());
        let mut comp: Vec<String> = Vec::new();
        let mut in_event = false;
        for l in lines.drain(..) {
            if l == "BEGIN:VEVENT" {
                in_event = true;
                comp.clear();
                comp.push(l);
                continue;
            }
            if in_event {
                let end = l == "END:VEVENT";
                comp.push(l);
                if end {
                    in_event = false;
                    let target = comp
                        .iter()
                        .any(|c| c.starts_with("RECURRENCE-ID") && c.ends_with(&rid));
                    for c in comp.drain(..) {
                        if target && c.starts_with("DTSTART") {
                            out.push(format!("DTSTART:{}", stamp(os + by)));
                        } else if target && c.starts_with("DTEND") {
                            out.push(format!("DTEND:{}", stamp(os + by + Duration::minutes(30))));
                        } else {
                            out.push(c);
                        }
                    }
                }
                continue;
            }
            out.push(l);
        }
        self.server.store(&one.path, &(out.join("\r\n") + "\r\n"));
    }

    /// The manager cancels one occurrence (EXDATE on the rule).
    fn cancel_occurrence(&mut self, one: &OneOnOne, os: DateTime<Utc>) {
        self.trace(format!(
            "manager cancels {} on {}",
            one.path,
            os.format("%m-%d")
        ));
        if self.google() {
            let now = self.now;
            self.google.edit_instance(&one.path, os, now, |e| {
                e.status = Some("cancelled".into());
            });
            return;
        }
        let Some(body) = self.server.resources.get(&one.path).map(|s| s.body.clone()) else {
            return;
        };
        let mut out = Vec::new();
        for l in unfold_lines(&body) {
            let rule = l.starts_with("RRULE");
            out.push(l);
            if rule {
                out.push(format!("EXDATE:{}", stamp(os)));
            }
        }
        self.server.store(&one.path, &(out.join("\r\n") + "\r\n"));
    }

    /// The manager deletes a 1:1 and makes it again (a new UID, the same two people).
    pub(crate) fn recreate(&mut self) {
        let live: Vec<usize> = (0..self.ones.len())
            .filter(|&i| !self.ones[i].deleted)
            .collect();
        if live.is_empty() {
            return;
        }
        let i = live[self.rng.random_range(0..live.len())];
        let old = self.ones[i].clone();
        self.ones[i].deleted = true;
        if self.google() {
            self.google.delete(&old.path);
        } else {
            self.server.delete(&old.path);
        }
        self.trace(format!("manager deletes the series {}", old.path));
        let first = next_slot(self.now);
        self.add_one_on_one(&old.direct, first);
    }

    // ---- the daemon's writes, checked as they arrive -----------------------------------------

    /// Whether the daemon may write into the series in `path` at all (counted as a write).
    fn may_write(&mut self, path: &str) -> bool {
        self.pass_writes += 1;
        if !self.started {
            self.violation(format!("wrote {path} before the account was started"));
        }
        if path == TEAM || !self.ones.iter().any(|o| o.path == path) {
            self.violation(format!("wrote into {path}, which is not a 1:1"));
            return false;
        }
        true
    }

    /// Checks a Google write of the daemon (a PATCH of one instance's description).
    pub(crate) fn daemon_wrote_instance(
        &mut self,
        path: &str,
        os: DateTime<Utc>,
        end: DateTime<Utc>,
        before: &str,
        after: &str,
    ) {
        if self.may_write(path) {
            self.agenda_written(path, os, end, before.into(), after.into());
        }
    }

    /// Checks a CalDAV write of the daemon against the resource it replaces.
    pub(crate) fn daemon_wrote(&mut self, path: &str, before: Option<&str>, after: &str) {
        if !self.may_write(path) {
            return;
        }
        let old = before
            .map(|b| occurrences_of(b, self.now))
            .unwrap_or_default();
        let new = occurrences_of(after, self.now);
        let old_by: BTreeMap<_, _> = old.iter().map(|o| (o.original_start, o)).collect();
        let new_by: BTreeMap<_, _> = new.iter().map(|o| (o.original_start, o)).collect();
        if old_by.keys().ne(new_by.keys()) {
            self.violation(format!("a write changed the occurrences of {path}"));
            return;
        }
        let mut changed = Vec::new();
        for (os, n) in &new_by {
            let o = old_by[os];
            if o.start != n.start || o.end != n.end || o.status != n.status {
                self.violation(format!(
                    "a write moved or cancelled the occurrence of {path} on {os}"
                ));
            }
            let d0 = o.description.as_deref().unwrap_or("");
            let d1 = n.description.as_deref().unwrap_or("");
            if d0 != d1 {
                changed.push((*os, n.end, d0.to_string(), d1.to_string()));
            }
        }
        if changed.len() > 1 {
            self.violation(format!(
                "one write changed {} occurrences of {path}",
                changed.len()
            ));
        }
        for (os, end, d0, d1) in changed {
            self.agenda_written(path, os, end, d0, d1);
        }
    }

    /// Checks the description the daemon wrote into one occurrence, and records the write.
    fn agenda_written(
        &mut self,
        path: &str,
        os: DateTime<Utc>,
        end: DateTime<Utc>,
        d0: String,
        d1: String,
    ) {
        if self.restoring {
            self.trace(format!("a restore writes {path} on {}", os.format("%m-%d")));
            return;
        }
        if end <= self.now {
            self.violation(format!(
                "an agenda written into the past occurrence of {path} on {os}"
            ));
        }
        if let Some(why) = outside_kept(&d0, &d1, self.format) {
            self.trace(format!("before: {d0:?}"));
            self.trace(format!("after: {d1:?}"));
            self.violation(format!("{path} on {os}: {why}"));
        }
        self.trace(format!("daemon writes {path} on {}", os.format("%m-%d")));
        self.writes.push(Write {
            path: path.into(),
            original_start: os,
            before: (!d0.is_empty()).then_some(d0),
            after: d1,
        });
    }
}

/// Whether a revision's remote id names the series in `path`: a CalDAV resource's href ends
/// with it, a Google instance's id starts with it.
pub(crate) fn names(remote_id: &str, path: &str) -> bool {
    remote_id.ends_with(&format!("/{path}")) || remote_id.starts_with(&format!("{path}_"))
}

/// The team meeting's resource.
pub(crate) const TEAM: &str = "team.ics";

/// Why `after` does not keep the text of `before` outside the block, if it does not: the
/// person's bytes before and after the block unchanged, exactly one well-formed block.
pub(crate) fn outside_kept(before: &str, after: &str, format: Format) -> Option<String> {
    let new = match parse_block(after, format, MAX_TEXT) {
        Ok(Some(b)) => b,
        Ok(None) => return Some("the daemon wrote a description without its block".into()),
        Err(e) => return Some(format!("the written description has a bad block: {e}")),
    };
    let (s1, e1) = (new.span.start, new.span.end);
    match parse_block(before, format, MAX_TEXT) {
        Ok(Some(old)) => {
            let (s0, e0) = (old.span.start, old.span.end);
            if before[..s0] != after[..s1] || before[e0..] != after[e1..] {
                return Some("text outside the block changed".into());
            }
        }
        Ok(None) => {
            let head = &after[..s1];
            // The separator: blank lines (Google: `<br>`s).
            let gap = head.get(before.len()..).unwrap_or("x").replace("<br>", "");
            if !head.starts_with(before) || !gap.trim().is_empty() {
                return Some("text before the new block changed".into());
            }
            if !after[e1..].trim().is_empty() {
                return Some("text after the new block appeared".into());
            }
        }
        Err(e) => return Some(format!("written over damaged markers ({e})")),
    }
    None
}

/// The occurrences of the first series in an iCalendar text, around `now`.
pub(crate) fn occurrences_of(body: &str, now: DateTime<Utc>) -> Vec<crate::model::Occurrence> {
    let Ok(cal) = crate::ics::parse(body.as_bytes()) else {
        return Vec::new();
    };
    let Some(series) = cal.series.first() else {
        return Vec::new();
    };
    crate::ics::expand(
        series,
        now - Duration::days(WINDOW_DAYS),
        now + Duration::days(WINDOW_DAYS),
        chrono_tz::UTC,
    )
    .unwrap_or_default()
}

/// An iCalendar UTC stamp.
pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The next weekday 10:00 UTC slot at least a day after `now`.
pub(crate) fn next_slot(now: DateTime<Utc>) -> DateTime<Utc> {
    let day = (now + Duration::days(1)).date_naive();
    day.and_hms_opt(10, 0, 0).expect("10:00 exists").and_utc()
}

/// A weekly series' resource.
fn series_ics(uid: &str, summary: &str, first: DateTime<Utc>, people: &[&str]) -> String {
    let mut s = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//sim//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nRRULE:FREQ=WEEKLY\r\n\
         SUMMARY:{summary}\r\nORGANIZER:mailto:{MANAGER}\r\n",
        stamp(first),
        stamp(first + Duration::minutes(30)),
    );
    for p in people {
        s.push_str(&format!("ATTENDEE;PARTSTAT=ACCEPTED:mailto:{p}\r\n"));
    }
    s.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    s
}

/// The byte range between the block's markers in `desc`, when there is a block.
fn block_range(desc: &str) -> Option<std::ops::Range<usize>> {
    let s = desc.find(crate::agenda::START_MARKER)?;
    let e = desc.find(crate::agenda::END_MARKER)?;
    (s < e).then_some(s..e)
}

/// Ticks the first open item of the block.
fn tick(desc: &str) -> Option<String> {
    let r = block_range(desc)?;
    let at = r.start + desc[r].find("[ ]")?;
    Some(format!("{}[x]{}", &desc[..at], &desc[at + 3..]))
}

/// A topic as people type it: a list mark (or none) and unique words.
fn topic(rng: &mut StdRng, n: u32) -> (&'static str, String) {
    const FORMS: [&str; 7] = ["- ", "* ", "", "[ ] ", "- [ ] ", "1. ", "• "];
    const WORDS: [&str; 4] = [
        "need a new laptop",
        "talk about the offsite",
        "career plan",
        "feedback on the review",
    ];
    let form = FORMS[rng.random_range(0..FORMS.len())];
    let words = format!("{} n{n}", WORDS[rng.random_range(0..WORDS.len())]);
    (form, words)
}

/// `desc` with `line` typed right under the block line that contains `heading` (in Google's
/// HTML, a `<br>` and the line after the bold heading, as its editor does).
fn insert_under(desc: &str, heading: &str, line: &str, format: Format) -> Option<String> {
    let r = block_range(desc)?;
    let h = r.start + desc[r.clone()].find(heading)?;
    let (at, typed) = match format {
        Format::Plain => (h + desc[h..].find('\n')?, format!("\n{line}")),
        Format::GoogleHtml => (h + desc[h..].find("</b>")? + 4, format!("<br>{line}")),
    };
    (at < r.end).then(|| format!("{}{typed}{}", &desc[..at], &desc[at..]))
}

/// Deletes the first item line of the block; returns the description and the line.
fn delete_item_line(desc: &str, format: Format) -> Option<(String, String)> {
    let r = block_range(desc)?;
    let (open, close) = match format {
        Format::Plain => ("\n- [", "\n"),
        Format::GoogleHtml => ("<li>", "</li>"),
    };
    let s = r.start + desc[r.clone()].find(open)?;
    let e = s + 1 + desc[s + 1..].find(close)?;
    let e = if format == Format::GoogleHtml {
        e + close.len()
    } else {
        e
    };
    (e <= r.end).then(|| {
        (
            format!("{}{}", &desc[..s], &desc[e..]),
            desc[s..e].to_string(),
        )
    })
}

/// A person's own text: a join link on top, or a line at the end.
fn outside_edit(desc: &str, n: u32, top: bool, format: Format) -> String {
    let br = match format {
        Format::Plain => "\n",
        Format::GoogleHtml => "<br>",
    };
    if desc.is_empty() {
        return format!("Join: https://meet.example/j/{n}");
    }
    if top {
        format!("Join: https://meet.example/j/{n}{br}{desc}")
    } else {
        format!("{desc}{br}Bring the slides ({n}).")
    }
}

/// A time as Google writes it.
fn google_time(t: DateTime<Utc>) -> crate::provider::google::client::GoogleDateTime {
    crate::provider::google::client::GoogleDateTime {
        date: None,
        date_time: Some(t.to_rfc3339()),
        time_zone: Some("UTC".into()),
    }
}

/// A starting profile of faults and people, drawn from the seed.
pub(crate) fn profile(rng: &mut StdRng) -> Profile {
    let pick = |rng: &mut StdRng, hi: f64| {
        if rng.random_bool(0.5) {
            0.0
        } else {
            rng.random_range(0.0..hi)
        }
    };
    Profile {
        throttle: pick(rng, 0.08),
        server_error: pick(rng, 0.05),
        empty_listing: pick(rng, 0.3),
        short_listing: pick(rng, 0.3),
        people_during_pass: pick(rng, 0.15),
    }
}

/// The server's habits, drawn from the seed.
pub(crate) fn server(rng: &mut StdRng) -> Server {
    let rewrite = match rng.random_range(0..5) {
        0 => Rewrite::Verbatim,
        1 => Rewrite::Crlf,
        2 => Rewrite::Refold,
        3 => Rewrite::Reorder,
        _ => Rewrite::Stamp,
    };
    Server::new(rng.random_bool(0.3), rewrite)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outside_check_catches_a_changed_byte_and_a_second_block() {
        let block = format!(
            "{}\nhello\n{}",
            crate::agenda::START_MARKER,
            crate::agenda::END_MARKER
        );
        let before = format!("Join here\n\n{block}\nafter");
        assert_eq!(outside_kept(&before, &before, Format::Plain), None);
        let changed = before.replace("Join here", "Join there");
        assert!(outside_kept(&before, &changed, Format::Plain).is_some());
        let two = format!("{before}\n{block}");
        assert!(outside_kept(&before, &two, Format::Plain).is_some());
        assert_eq!(
            outside_kept("Join here", &format!("Join here\n\n{block}"), Format::Plain),
            None
        );
        assert!(outside_kept("Join here", &format!("Join\n\n{block}"), Format::Plain).is_some());
    }
}
