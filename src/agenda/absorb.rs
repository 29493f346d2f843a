//! Plans what a block read back means for the series' items: ticks, new lines, edits, deletions
//! and free notes, by comparing it with the block as last written (a three-way view: what we
//! wrote, what is there now, what the store holds).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::block::defuse_opt_out;
use super::block::{ParsedBlock, ParsedLine, START_MARKER, strip_number};
use super::lines::collapse;
use super::render::{LineKind, RenderedBlock, RenderedLine, is_fold_text, split_carry_label};
use super::types::{Anchor, Area, Item, ItemState, Note, Section};

/// One change to the series' items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AbsorbAction {
    /// Ticked: done, closed in this occurrence.
    Close { id: i64 },
    /// Unticked again before the meeting closed.
    Reopen { id: i64 },
    /// A new `- [ ]` line. `done` when it was typed already ticked; `in_notes` when typed in the
    /// notes area (it stays there until the meeting closes).
    Create {
        section: Section,
        text: String,
        done: bool,
        in_notes: bool,
        position: i64,
    },
    /// The person reordered the lines of an area: this item's new position.
    Place { id: i64, position: i64 },
    /// The line of this item was edited (not a new item).
    Edit { id: i64, text: String },
    /// The line of this item was moved under another section's heading.
    Move {
        id: i64,
        section: Section,
        in_notes: bool,
    },
    /// The line was deleted: dropped for good.
    Drop { id: i64 },
}

impl AbsorbPlan {
    /// The notes with `Anchor::Created { index }` replaced by the id of the item the `index`-th
    /// `Create` made (`created`: those ids, in the order of the plan's `Create` actions).
    pub(crate) fn notes_with_ids(&self, created: &[i64]) -> Vec<Note> {
        self.notes
            .iter()
            .cloned()
            .map(|mut n| {
                if let Some(Anchor::Created { index }) = n.after {
                    n.after = created.get(index).map(|&id| Anchor::Item { id });
                }
                n
            })
            .collect()
    }
}

/// What to do with the series after reading one block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AbsorbPlan {
    pub actions: Vec<AbsorbAction>,
    /// Every free line now in the block, in order: the occurrence's notes (replace the old ones).
    pub notes: Vec<Note>,
    /// False when none of the written headings was found: the block's structure is gone (a client
    /// mangled it, or everything was cleared), so no item was dropped for being missing.
    pub structure_found: bool,
}

/// The line a note follows, before candidates are resolved to items.
#[derive(Debug, Clone)]
enum Pending {
    Line(String),
    Cand(usize),
}

/// An item line found in the block: a checkbox line, or (in a topic area) a plain line.
#[derive(Debug, Clone)]
struct Candidate {
    area: Area,
    section: Section,
    checked: bool,
    /// Typed without a checkbox (`- x`, `* x`, `1. x`, `x`): it says nothing about done or not.
    plain: bool,
    text: String,
}

/// When a block is read, relative to its meeting: this decides what a line typed without a
/// checkbox in a topic area means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// Before the meeting starts: a new line in a topic area (the direct's, the follow-ups, the
    /// manager's) is a topic of that area, whatever its form.
    BeforeMeeting,
    /// From the start of the meeting on: lines typed without a checkbox are notes about the
    /// topics they follow (the meeting's minutes), not new topics to carry. Checkbox lines are
    /// still items.
    Started,
}

/// An item line of the written block.
#[derive(Debug, Clone)]
struct Written {
    id: i64,
    area: Area,
    /// The heading it was written under (index among the written headings).
    heading: Option<usize>,
    section: Section,
    done: bool,
    text: String,
}

/// The form lines are compared in: whitespace collapsed, lower case, no end punctuation.
pub(crate) fn key(s: &str) -> String {
    collapse(s)
        .to_lowercase()
        .trim_end_matches(['.', '!', '?', ';', ',', ':'])
        .trim_end()
        .to_string()
}

/// The item text of a read-back line: without the carry labels the renderer adds.
fn strip_carried(text: &str) -> String {
    split_carry_label(text).0
}

/// How many item lines (checkboxes with text) each area of a read-back block holds, the areas
/// told apart by the headings of the block that was written: what a meeting had on its agenda.
pub fn items_per_area(
    written: &RenderedBlock,
    parsed: &ParsedBlock,
) -> std::collections::BTreeMap<Area, u32> {
    let mut headings: Vec<(Area, String)> = written
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Heading)
        .map(|l| (l.area, key(&l.text)))
        .collect();
    let mut out = std::collections::BTreeMap::new();
    let mut area = Area::Top;
    for line in &parsed.lines {
        let k = key(&line.canonical());
        if let Some(i) = headings.iter().position(|(_, h)| *h == k) {
            area = headings.remove(i).0;
            continue;
        }
        if let ParsedLine::Checkbox { text, .. } = line
            && !strip_carried(text).is_empty()
        {
            *out.entry(area).or_insert(0) += 1;
        }
    }
    out
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// How alike two item texts are, 0..=1: the better of edit-distance similarity and word overlap
/// (shared words over the shorter text's words), so both typo fixes and added words match.
fn similarity(a: &str, b: &str) -> f64 {
    let (ka, kb) = (key(a), key(b));
    let lev = strsim::normalized_levenshtein(&ka, &kb);
    let (wa, wb) = (words(a), words(b));
    let min = wa.len().min(wb.len());
    let overlap = if min == 0 {
        0.0
    } else {
        let shared = wa.iter().filter(|w| wb.contains(w)).count().min(min);
        shared as f64 / wa.len().max(wb.len()).min(min * 2) as f64
    };
    lev.max(overlap)
}

/// Threshold for a match by similarity; lower when the line sits where the item was.
const MATCH: f64 = 0.5;
const MATCH_IN_PLACE: f64 = 0.3;
/// Upper bound of line/item pairs scored by similarity in one section.
const MAX_PAIRS: usize = 40_000;

/// Characters of a direct's link token (32 random bytes, URL-safe base64 without padding).
const LINK_TOKEN_CHARS: usize = 43;

/// True when `text` holds a direct's private link (`…/d/<token>`) as the daemon writes it into
/// the direct's section: such a line is the template's, whatever words surround it.
pub(crate) fn holds_direct_link(text: &str) -> bool {
    text.match_indices("/d/").any(|(at, _)| {
        let token = &text[at + 3..];
        let n = token
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(token.len());
        n == LINK_TOKEN_CHARS && text[..at].contains("://")
    })
}

/// The key of a template line as a reader sees it (a standing question reads `- text`).
pub(crate) fn line_key(l: &RenderedLine) -> String {
    match l.kind {
        LineKind::Bullet => key(&format!("- {}", l.text)),
        _ => key(&l.text),
    }
}

/// True when `line` answers the standing question `question`: it begins with the question's
/// text (case, spacing and end punctuation aside; a bullet or number before it aside) and goes on
/// with more words, as in `- How are things going? Good, busy with the launch`.
pub(crate) fn answers(question: &str, line: &str) -> bool {
    let q = key(question);
    let l = key(line);
    let l = l.strip_prefix("- ").unwrap_or(&l);
    let l = strip_number(l);
    !q.is_empty()
        && l.strip_prefix(q.as_str()).is_some_and(|rest| {
            rest.starts_with(|c: char| !c.is_alphanumeric())
                && rest.chars().any(char::is_alphanumeric)
        })
}

/// Sets the positions of created items and, when people reordered the lines of an area, of the
/// existing ones: items keep the order they have in the block. Reordered means: in another
/// order than the block was written in (`written_order`, the item ids of the written block), so
/// an order changed in the store since the write (`item move`, the web page) is kept; with no
/// record of the written order, than the store's.
fn place_items(
    items: &[Item],
    written_order: &[i64],
    cands: &[Candidate],
    cand_anchor: &[Option<Anchor>],
    create_at: &[usize],
    plan: &mut AbsorbPlan,
) {
    let by_id: HashMap<i64, &Item> = items.iter().map(|i| (i.id, i)).collect();
    for area in [Area::Direct, Area::FollowUps, Area::Manager, Area::Notes] {
        let entries: Vec<&Anchor> = cands
            .iter()
            .zip(cand_anchor)
            .filter(|(c, _)| c.area == area)
            .filter_map(|(_, a)| a.as_ref())
            .collect();
        let existing: Vec<i64> = entries
            .iter()
            .filter_map(|a| match a {
                Anchor::Item { id } => Some(*id),
                _ => None,
            })
            .collect();
        let as_written: Vec<i64> = written_order
            .iter()
            .copied()
            .filter(|id| existing.contains(id))
            .collect();
        let mut sorted = existing.clone();
        if as_written.len() == existing.len() {
            sorted = as_written;
        } else {
            sorted.sort_by_key(|id| (by_id.get(id).map_or(0, |i| i.position), *id));
        }
        let first_create = entries
            .iter()
            .position(|a| matches!(a, Anchor::Created { .. }));
        let creates_last = first_create.is_none_or(|f| {
            entries[f..]
                .iter()
                .all(|a| matches!(a, Anchor::Created { .. }))
        });
        let section = area.section().unwrap_or(Section::Action);
        let set_create = |plan: &mut AbsorbPlan, index: usize, pos: i64| {
            if let Some(AbsorbAction::Create { position, .. }) =
                create_at.get(index).and_then(|&i| plan.actions.get_mut(i))
            {
                *position = pos;
            }
        };
        if existing == sorted && creates_last {
            // In order already: new lines go after every item of their section.
            let mut next = items
                .iter()
                .filter(|i| i.section == section)
                .map(|i| i.position + 1)
                .max()
                .unwrap_or(0);
            for a in &entries {
                if let Anchor::Created { index } = a {
                    set_create(plan, *index, next);
                    next += 1;
                }
            }
        } else {
            for (pos, a) in (0_i64..).zip(&entries) {
                match a {
                    Anchor::Item { id } => {
                        if by_id.get(id).is_some_and(|i| i.position != pos) {
                            plan.actions.push(AbsorbAction::Place {
                                id: *id,
                                position: pos,
                            });
                        }
                    }
                    Anchor::Created { index } => set_create(plan, *index, pos),
                    Anchor::Line { .. } => {}
                }
            }
        }
    }
}

/// Plans the changes a block read back before its meeting implies:
/// [`plan_absorb_at`]`(.., Moment::BeforeMeeting)`.
pub fn plan_absorb(items: &[Item], written: &RenderedBlock, parsed: &ParsedBlock) -> AbsorbPlan {
    plan_absorb_at(items, written, parsed, Moment::BeforeMeeting)
}

/// The headings of the default template before the short one (the daemon's own words in invites
/// written by earlier versions): the area each starts. They are read when the block as written
/// is unknown (nothing recorded for this occurrence), so an upgrade still finds each area.
fn legacy_heading(k: &str) -> Option<Area> {
    let minutes_for = |tail: &str| {
        k.strip_suffix(tail)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    if minutes_for(" minutes for you") {
        Some(Area::Direct)
    } else if minutes_for(" minutes for me")
        || k == "follow-ups"
        || (k.starts_with("follow-ups from ") && k.len() < 40)
    {
        // In the old template the manager's half opened on the follow-ups.
        Some(Area::FollowUps)
    } else if k.starts_with("topics from ") {
        Some(Area::Manager)
    } else if k == "notes and action items for next time" {
        Some(Area::Notes)
    } else {
        None
    }
}

/// The fixed lines of the default template before the short one: the daemon's words, neither a
/// note nor an item when read back from an invite an earlier version wrote.
fn legacy_fixed(k: &str) -> bool {
    [
        "nothing queued yet: add your topics as - [ ] lines",
        "nothing to follow up on",
        "follow-ups",
        "write notes below; - [ ] lines become action items",
    ]
    .contains(&k)
        || (k.starts_with("follow-ups from ") && k.len() < 40)
        || (k.ends_with(" goes first") && k.len() < 120)
        || (k.starts_with("1:1 ") && k.ends_with("· maintained by oneonone"))
}

/// Plans the changes a block read back implies.
///
/// - `items`: the series' items as the store holds them now (any state).
/// - `written`: the block as this daemon last wrote it into this occurrence. When unknown (a
///   block found but never written by this store), pass a fresh render of the current state
///   through [`RenderedBlock::without_items`]: lines then match items by text and nothing is
///   dropped for being missing.
/// - `parsed`: the block found in the description now.
/// - `moment`: before the meeting, a new line in a topic area is a topic whatever its form;
///   from its start, only checkbox lines are (see [`Moment`]).
///
/// A line that only repeats a heading or a fixed line of the template is never an item (it is
/// kept as a note); the daemon's own words from an earlier template are skipped.
pub fn plan_absorb_at(
    items: &[Item],
    written: &RenderedBlock,
    parsed: &ParsedBlock,
    moment: Moment,
) -> AbsorbPlan {
    let by_id: HashMap<i64, &Item> = items.iter().map(|i| (i.id, i)).collect();
    let headings: Vec<(Area, String)> = written
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Heading)
        .map(|l| (l.area, key(&l.text)))
        .collect();
    let mut heading_used = vec![false; headings.len()];
    // Per area: a copy of a standing question typed in another area is that person's line, not
    // the template's (see the lookup below).
    let mut fixed: HashMap<(Area, String), usize> = HashMap::new();
    for l in &written.lines {
        if matches!(
            l.kind,
            LineKind::Title | LineKind::Fixed | LineKind::Bullet | LineKind::Folded
        ) {
            *fixed.entry((l.area, line_key(l))).or_default() += 1;
        }
        // A question an answer stood in for: the question typed back alone is still the
        // template's line.
        if let (LineKind::Note, Some(q)) = (&l.kind, &l.label) {
            *fixed.entry((l.area, key(&format!("- {q}")))).or_default() += 1;
        }
    }
    let mut heading_at: Option<usize> = None;
    let written_items: Vec<Written> = written
        .lines
        .iter()
        .filter_map(|l| match l.kind {
            LineKind::Heading => {
                heading_at = Some(heading_at.map_or(0, |h| h + 1));
                None
            }
            LineKind::Item { id, done } => Some(Written {
                id,
                area: l.area,
                heading: heading_at,
                // The section it was written in: one moved in the store since (`item move`,
                // the web page) is not moved back by its line still standing there.
                section: l
                    .area
                    .section()
                    .or(by_id.get(&id).map(|i| i.section))
                    .unwrap_or(Section::Action),
                done,
                text: l.text.clone(),
            }),
            _ => None,
        })
        .collect();

    let mut plan = AbsorbPlan::default();
    let mut area = Area::Top;
    // What the next note follows; candidates are resolved to items after matching.
    let mut last = Pending::Line(key(START_MARKER));
    let mut pending_notes: Vec<(Note, Pending)> = Vec::new();
    let mut cands: Vec<Candidate> = Vec::new();
    let mut areas_found: Vec<Area> = Vec::new();
    // The texts a plain line typed after the meeting started must have to be an item's line
    // (an item whose checkbox a client or a person removed): any other is a note.
    let item_keys: std::collections::HashSet<String> = written_items
        .iter()
        .map(|w| key(&w.text))
        .chain(
            items
                .iter()
                .filter(|i| i.state != ItemState::Dropped)
                .map(|i| key(&i.text)),
        )
        .collect();
    // Every template line, used or not: a copy of one is a repeated prompt, not a topic.
    // (A standing question counts with its dash and without: `How are things going?` typed
    // again is a repeat too.)
    let prompts: std::collections::HashSet<String> = headings
        .iter()
        .map(|(_, h)| h.clone())
        .chain(fixed.keys().map(|(_, k)| k.clone()))
        .chain(
            fixed
                .keys()
                .filter_map(|(_, k)| k.strip_prefix("- ").map(str::to_string)),
        )
        .collect();
    // A block in an earlier template's words (an upgrade, and nothing recorded of writing it):
    // its headings are read where the written block's are absent, and its fixed lines skipped.
    let keys: Vec<String> = parsed.lines.iter().map(|l| key(&l.canonical())).collect();
    let absent: Vec<Area> = headings
        .iter()
        .filter(|(_, h)| !keys.contains(h))
        .map(|(a, _)| *a)
        .collect();
    let legacy = keys
        .iter()
        .any(|k| legacy_heading(k).is_some_and(|a| absent.contains(&a)));
    // The standing questions (the template's bullets, and those an answer stood in for) and
    // the key of each as a line.
    let questions: Vec<(String, String)> = written
        .lines
        .iter()
        .filter_map(|l| match (&l.kind, &l.label) {
            (LineKind::Bullet, _) => Some(l.text.clone()),
            (LineKind::Note, Some(q)) => Some(q.clone()),
            _ => None,
        })
        .map(|q| (q.clone(), key(&format!("- {q}"))))
        .collect();
    // The question the lines indented below it answer (the key of its line).
    let mut under_question: Option<String> = None;
    for (n, line) in parsed.lines.iter().enumerate() {
        let canon = line.canonical();
        let k = key(&canon);
        let indented = parsed.indented.get(n).copied().unwrap_or(false);
        if let Some(h) = (0..headings.len()).find(|&h| !heading_used[h] && headings[h].1 == k) {
            heading_used[h] = true;
            area = headings[h].0;
            areas_found.push(area);
            plan.structure_found = true;
            last = Pending::Line(k);
            under_question = None;
            continue;
        }
        // The template's line in this area; or in an area whose heading is gone from the block
        // (its lines now read as under the previous heading).
        let entry = fixed
            .iter()
            .filter(|((a, key), n)| **n > 0 && *key == k && (*a == area || absent.contains(a)))
            .map(|(e, _)| e.clone())
            .min_by_key(|(a, _)| (*a != area, *a));
        if let Some(n) = entry.and_then(|e| fixed.get_mut(&e)) {
            *n -= 1;
            under_question = questions.iter().any(|(_, q)| *q == k).then(|| k.clone());
            last = Pending::Line(k);
            continue;
        }
        // An answer to a standing question is a note of the meeting, never an item: the
        // question typed on with more words, or a line indented under the question (or under
        // an answer to it). A line with an item's text stays that item's.
        if let ParsedLine::Bullet(text) | ParsedLine::Text(text) = line
            && !item_keys.contains(&key(&strip_carried(strip_number(text))))
        {
            let answered = questions
                .iter()
                .find(|(q, _)| answers(q, text))
                .map(|(_, qk)| qk.clone())
                .or_else(|| under_question.clone().filter(|_| indented));
            if let Some(qk) = answered {
                pending_notes.push((
                    Note {
                        area,
                        text: canon,
                        after: None,
                    },
                    Pending::Line(qk.clone()),
                ));
                under_question = Some(qk);
                continue;
            }
        }
        under_question = None;
        if let Some(a) =
            legacy_heading(&k).filter(|a| legacy && absent.contains(a) && !areas_found.contains(a))
        {
            area = a;
            areas_found.push(area);
            last = Pending::Line(k);
            continue;
        }
        if legacy && legacy_fixed(&k) {
            continue;
        }
        // A fold line with another count than the block compared with (a block this store
        // has no record of writing): it stands for items in the store, not for a note.
        if is_fold_text(&canon) {
            last = Pending::Line(k);
            continue;
        }
        // A line with a direct's link the written block does not show (an earlier render's:
        // before a rotation, in a restored revision): the daemon's words, never a topic.
        if let ParsedLine::Bullet(text) | ParsedLine::Text(text) = line
            && holds_direct_link(text)
        {
            last = Pending::Line(k);
            continue;
        }
        match line {
            ParsedLine::Checkbox { text, .. } if strip_carried(text).is_empty() => {}
            ParsedLine::Checkbox { checked, text } if area.section().is_some() => {
                last = Pending::Cand(cands.len());
                cands.push(Candidate {
                    area,
                    section: area.section().unwrap_or(Section::Action),
                    checked: *checked,
                    plain: false,
                    text: strip_carried(text),
                });
            }
            ParsedLine::Bullet(text) | ParsedLine::Text(text)
                if matches!(area, Area::Direct | Area::FollowUps | Area::Manager)
                    && !prompts.contains(&k)
                    && !prompts.contains(&key(text))
                    && !strip_carried(strip_number(text)).is_empty()
                    && (moment == Moment::BeforeMeeting
                        || item_keys.contains(&key(&strip_carried(strip_number(text))))) =>
            {
                last = Pending::Cand(cands.len());
                cands.push(Candidate {
                    area,
                    section: area.section().unwrap_or(Section::Action),
                    checked: false,
                    plain: true,
                    text: strip_carried(strip_number(text)),
                });
            }
            _ => pending_notes.push((
                Note {
                    area,
                    text: canon,
                    after: None,
                },
                last.clone(),
            )),
        }
    }

    // pairs[c] = index into written_items matched to candidate c.
    let mut pairs: Vec<Option<usize>> = vec![None; cands.len()];
    let mut w_used = vec![false; written_items.len()];
    for section in [Section::Direct, Section::Manager, Section::Action] {
        let cs: Vec<usize> = (0..cands.len())
            .filter(|&c| cands[c].section == section)
            .collect();
        let ws: Vec<usize> = (0..written_items.len())
            .filter(|&w| written_items[w].section == section)
            .collect();
        // 1. The same text (case, spacing and end punctuation aside), in order.
        for &c in &cs {
            let kc = key(&cands[c].text);
            if let Some(&w) = ws
                .iter()
                .find(|&&w| !w_used[w] && key(&written_items[w].text) == kc)
            {
                w_used[w] = true;
                pairs[c] = Some(w);
            }
        }
        // 2. Edited text: the most similar first; a line where the item was needs less.
        let free_c: Vec<usize> = cs.iter().copied().filter(|&c| pairs[c].is_none()).collect();
        // A line whose item is gone from the store since the write (dropped: a retry after a
        // 412 absorbs against the same written block, the first attempt's drop applied) cannot
        // take an edited line: that line would be skipped with it, and it is someone's text.
        let free_w: Vec<usize> = ws
            .iter()
            .copied()
            .filter(|&w| !w_used[w])
            .filter(|&w| {
                by_id
                    .get(&written_items[w].id)
                    .is_some_and(|i| i.state != ItemState::Dropped)
            })
            .collect();
        let mut scored: Vec<(f64, usize, usize, usize)> = Vec::new();
        // A description stuffed with lines would make this quadratic pass slow: past the bound,
        // only exact matches count (the rest become new items and dropped ones, nothing lost).
        let affordable = free_c.len().saturating_mul(free_w.len()) <= MAX_PAIRS;
        for (rc, &c) in free_c.iter().enumerate().filter(|_| affordable) {
            if cands[c].plain && moment == Moment::Started {
                continue;
            }
            for (rw, &w) in free_w.iter().enumerate() {
                let s = similarity(&cands[c].text, &written_items[w].text);
                let need = if rc == rw && free_c.len() == free_w.len() {
                    MATCH_IN_PLACE
                } else {
                    MATCH
                };
                if s >= need {
                    scored.push((s, rc.abs_diff(rw), c, w));
                }
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (_, _, c, w) in scored {
            if pairs[c].is_none() && !w_used[w] {
                w_used[w] = true;
                pairs[c] = Some(w);
            }
        }
    }
    // 3. A line moved under another section's heading, text unchanged.
    for c in 0..cands.len() {
        if pairs[c].is_some() {
            continue;
        }
        let kc = key(&cands[c].text);
        if let Some(w) =
            (0..written_items.len()).find(|&w| !w_used[w] && key(&written_items[w].text) == kc)
        {
            w_used[w] = true;
            pairs[c] = Some(w);
        }
    }

    let mut claimed: Vec<i64> = Vec::new();
    // The anchor each candidate line resolves to.
    let mut cand_anchor: Vec<Option<Anchor>> = vec![None; cands.len()];
    let mut creates = 0;
    // Index in `plan.actions` of each Create, in order.
    let mut create_at: Vec<usize> = Vec::new();
    for (c, cand) in cands.iter().enumerate() {
        match pairs[c] {
            Some(w) => {
                let w = &written_items[w];
                let Some(item) = by_id.get(&w.id) else {
                    continue;
                };
                if item.state == ItemState::Dropped {
                    continue;
                }
                cand_anchor[c] = Some(Anchor::Item { id: w.id });
                // A line without a checkbox says nothing about done: the item stays as it is.
                if !cand.plain && cand.checked != w.done {
                    if cand.checked && item.state == ItemState::Open {
                        plan.actions.push(AbsorbAction::Close { id: w.id });
                    } else if !cand.checked && item.state == ItemState::Done {
                        plan.actions.push(AbsorbAction::Reopen { id: w.id });
                    }
                }
                if collapse(&cand.text) != collapse(&w.text) {
                    plan.actions.push(AbsorbAction::Edit {
                        id: w.id,
                        text: collapse(&cand.text),
                    });
                }
                // A line under another section's heading moved there, unless the heading of its
                // own area is gone: then it only looks moved because that heading was deleted.
                // (An area may have several headings: the one it was under counts.)
                let own_heading_found = w.heading.map_or(areas_found.contains(&w.area), |h| {
                    heading_used.get(h).copied().unwrap_or(false)
                });
                if cand.section != w.section && own_heading_found {
                    plan.actions.push(AbsorbAction::Move {
                        id: w.id,
                        section: cand.section,
                        in_notes: cand.area == Area::Notes,
                    });
                }
            }
            None => {
                // An item the store has but the written block did not show (added since, or the
                // written block is unknown): the same text is that item, not a new one.
                let kc = key(&cand.text);
                // Done items count too (those closed in this occurrence are the only done ones
                // the caller passes): a ticked line read again must not become a second item.
                // The line shows the text as rendered: the opt-out marker made inert.
                let known = items.iter().find(|i| {
                    i.state != ItemState::Dropped
                        && i.section == cand.section
                        && !claimed.contains(&i.id)
                        && !written_items.iter().any(|w| w.id == i.id)
                        && (key(&i.text) == kc || key(&defuse_opt_out(&i.text)) == kc)
                });
                if let Some(item) = known {
                    claimed.push(item.id);
                    cand_anchor[c] = Some(Anchor::Item { id: item.id });
                    match (cand.checked, item.state) {
                        _ if cand.plain => {}
                        (true, ItemState::Open) => {
                            plan.actions.push(AbsorbAction::Close { id: item.id });
                        }
                        (false, ItemState::Done) => {
                            plan.actions.push(AbsorbAction::Reopen { id: item.id });
                        }
                        _ => {}
                    }
                } else {
                    cand_anchor[c] = Some(Anchor::Created { index: creates });
                    creates += 1;
                    create_at.push(plan.actions.len());
                    plan.actions.push(AbsorbAction::Create {
                        section: cand.section,
                        text: collapse(&cand.text),
                        done: cand.checked,
                        in_notes: cand.area == Area::Notes,
                        position: 0,
                    });
                }
            }
        }
    }
    let written_order: Vec<i64> = written_items.iter().map(|w| w.id).collect();
    place_items(
        items,
        &written_order,
        &cands,
        &cand_anchor,
        &create_at,
        &mut plan,
    );
    plan.notes = pending_notes
        .into_iter()
        .map(|(mut note, anchor)| {
            note.after = match anchor {
                Pending::Line(key) => Some(Anchor::Line { key }),
                Pending::Cand(c) => cand_anchor[c].clone(),
            };
            note
        })
        .collect();
    if plan.structure_found {
        for (w, used) in written_items.iter().zip(&w_used) {
            if *used {
                continue;
            }
            if by_id
                .get(&w.id)
                .is_some_and(|i| i.state != ItemState::Dropped)
            {
                plan.actions.push(AbsorbAction::Drop { id: w.id });
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carried_label_is_stripped() {
        assert_eq!(strip_carried("Ship it (carried x3)"), "Ship it");
        assert_eq!(
            strip_carried("Ship it (carried xx)"),
            "Ship it (carried xx)"
        );
        assert_eq!(strip_carried("(carried x2)"), "");
        assert_eq!(
            strip_carried("Ship it (carried x3: decide, delegate or drop)"),
            "Ship it"
        );
        assert_eq!(
            strip_carried("Ship it (carried x12: Decide, delegate or drop) "),
            "Ship it"
        );
        // Text typed after the label (at the end of the line) is the item's; the label is not.
        assert_eq!(
            strip_carried("Ship it (carried x3: decide, delegate or drop) by Friday"),
            "Ship it by Friday"
        );
        assert_eq!(
            strip_carried("Ship it (carried x2) now (carried x2)"),
            "Ship it now"
        );
        // A person's own parentheses are their text.
        assert_eq!(
            strip_carried("Ship it (carried x3: ask Bob)"),
            "Ship it (carried x3: ask Bob)"
        );
        assert_eq!(strip_carried("Ship it (carried x)"), "Ship it (carried x)");
        assert_eq!(strip_carried("é  (carried x2)éé"), "é éé");
        assert_eq!(
            split_carry_label("a (carried x3: DECIDE, delegate or drop)"),
            ("a".to_string(), Some((3, true)))
        );
        assert_eq!(
            split_carry_label("a (carried x2) b"),
            ("a b".to_string(), Some((2, false)))
        );
    }

    #[test]
    fn similarity_accepts_small_edits_and_rejects_other_topics() {
        assert!(similarity("Review roadmap", "Review Q3 roadmap with Sam") >= MATCH);
        assert!(similarity("Promotion case", "Promotion cse") >= MATCH);
        assert!(similarity("Promotion case", "Team offsite budget") < MATCH_IN_PLACE);
    }
}

#[cfg(test)]
mod plan_tests {
    use super::plan_tests_support::*;
    use super::*;

    #[test]
    fn rewritten_line_in_place_is_an_edit_not_a_new_item() {
        let items = [
            it(1, Section::Direct, "Promotion"),
            it(2, Section::Direct, "Holidays in May"),
            it(3, Section::Direct, "Desk move"),
        ];
        let w = written(&items);
        let text = w
            .text
            .replace("- [ ] Holidays in May", "- [ ] Vacation plans: May")
            .replace("- [ ] Promotion", "- [ ] promotion.");
        let p = plan(&items, &w, &text);
        assert_eq!(
            p.actions,
            [
                AbsorbAction::Edit {
                    id: 1,
                    text: "promotion.".into()
                },
                AbsorbAction::Edit {
                    id: 2,
                    text: "Vacation plans: May".into()
                }
            ]
        );
    }

    #[test]
    fn unrelated_new_line_with_a_deleted_one_is_create_and_drop() {
        let items = [
            it(1, Section::Direct, "Promotion"),
            it(2, Section::Direct, "Holidays in May"),
        ];
        let w = written(&items);
        let text = w.text.replace("- [ ] Holidays in May", "").replace(
            "- [ ] Promotion",
            "- [ ] Promotion\n- [ ] Kubernetes migration",
        );
        let p = plan(&items, &w, &text);
        assert_eq!(
            p.actions,
            [
                AbsorbAction::Create {
                    section: Section::Direct,
                    text: "Kubernetes migration".into(),
                    done: false,
                    in_notes: false,
                    position: 1
                },
                AbsorbAction::Drop { id: 2 }
            ]
        );
    }

    #[test]
    fn untick_reopens_and_moved_line_changes_section() {
        let mut items = [
            it(1, Section::Direct, "Promotion"),
            it(2, Section::Manager, "Budget"),
        ];
        items[1].state = ItemState::Done;
        let w = written(&items);
        assert!(w.text.contains("- [x] Budget"));
        let text = w
            .text
            .replace("- [x] Budget", "- [ ] Budget")
            .replace("- [ ] Promotion\n", "")
            .replace(
                "Notes and action items\n",
                "Notes and action items\n- [ ] Promotion\n",
            );
        let p = plan(&items, &w, &text);
        assert_eq!(
            p.actions,
            [
                AbsorbAction::Reopen { id: 2 },
                AbsorbAction::Move {
                    id: 1,
                    section: Section::Action,
                    in_notes: true
                }
            ]
        );
    }

    #[test]
    fn deleted_heading_does_not_move_its_items() {
        let items = [it(1, Section::Manager, "Budget")];
        let w = written(&items);
        let text = w.text.replace("Topics from Max\n", "");
        let p = plan(&items, &w, &text);
        assert!(p.actions.is_empty(), "{:?}", p.actions);
        // The standing questions, now under the previous heading, are still the template's.
        assert!(p.notes.is_empty(), "{:?}", p.notes);
    }

    #[test]
    fn google_checklist_glyphs_and_typed_ticked_lines() {
        let items = [it(1, Section::Direct, "Promotion")];
        let w = written(&items);
        let text = w
            .text
            .replace("- [ ] Promotion", "☑ Promotion\n✅ Already sorted");
        let p = plan(&items, &w, &text);
        assert_eq!(
            p.actions,
            [
                AbsorbAction::Close { id: 1 },
                AbsorbAction::Create {
                    section: Section::Direct,
                    text: "Already sorted".into(),
                    done: true,
                    in_notes: false,
                    position: 1
                }
            ]
        );
    }
}

#[cfg(test)]
mod three_way_tests {
    use super::plan_tests_support::*;
    use super::*;

    #[test]
    fn cli_edit_after_the_write_is_not_undone_by_an_untouched_line() {
        let mut items = [it(1, Section::Direct, "Promotion")];
        let w = written(&items);
        items[0].text = "Promotion case for June".into();
        let p = plan(&items, &w, &w.text);
        assert!(p.actions.is_empty(), "{:?}", p.actions);
    }

    #[test]
    fn item_dropped_from_the_cli_is_not_revived_by_its_old_line() {
        let mut items = [it(1, Section::Direct, "Promotion")];
        let w = written(&items);
        items[0].state = ItemState::Dropped;
        let text = w.text.replace("- [ ] Promotion", "- [x] Promotion");
        assert!(plan(&items, &w, &text).actions.is_empty());
    }

    #[test]
    fn item_added_from_the_cli_after_the_write_is_not_dropped() {
        let mut items = vec![it(1, Section::Direct, "Promotion")];
        let w = written(&items);
        items.push(it(2, Section::Manager, "Budget"));
        assert!(plan(&items, &w, &w.text).actions.is_empty());
    }
}

#[cfg(test)]
mod plan_tests_support {
    use chrono::TimeZone;

    use super::*;
    use crate::agenda::block::parse_block;
    use crate::agenda::render::{Template, render};
    use crate::agenda::types::Format;

    pub(super) fn it(id: i64, section: Section, text: &str) -> Item {
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

    pub(super) fn written(items: &[Item]) -> RenderedBlock {
        let start = chrono_tz::Europe::Berlin
            .with_ymd_and_hms(2026, 3, 3, 10, 0, 0)
            .unwrap();
        let input = crate::agenda::render::AgendaInput {
            direct_name: "Ann",
            manager_name: "Max",
            items,
            notes: &[],
            last_meeting: None,
            start,
            length: chrono::Duration::minutes(30),
            cancelled_in_a_row: 0,
            last_closed: Default::default(),
            prompt: Default::default(),
        };
        render(&input, Format::Plain, &Template::default_template()).unwrap()
    }

    pub(super) fn plan(items: &[Item], w: &RenderedBlock, text: &str) -> AbsorbPlan {
        let parsed = parse_block(text, Format::Plain, usize::MAX)
            .unwrap()
            .unwrap();
        plan_absorb(items, w, &parsed)
    }
}

#[cfg(test)]
mod reabsorb_tests {
    use super::plan_tests_support::{it, plan, written};
    use super::*;

    #[test]
    fn an_order_changed_in_the_store_since_the_write_is_not_put_back_by_the_invite() {
        let mut items = [
            it(1, Section::Manager, "Budget"),
            it(2, Section::Manager, "Hiring"),
            it(3, Section::Manager, "Offsite"),
        ];
        for (n, i) in items.iter_mut().enumerate() {
            i.position = n as i64;
        }
        let w = written(&items);
        // Reordered on the web page: Offsite first. The invite still shows the old order.
        items[2].position = -1;
        let p = plan(&items, &w, &w.text);
        assert_eq!(p.actions, [], "the invite's old order undid the reorder");
        // Reordered in the invite: that order is taken.
        let swapped = w
            .text
            .replace("- [ ] Budget\n", "")
            .replace("- [ ] Offsite\n", "- [ ] Offsite\n- [ ] Budget\n");
        let p = plan(&items, &w, &swapped);
        assert!(
            p.actions
                .contains(&AbsorbAction::Place { id: 1, position: 2 }),
            "{:?}",
            p.actions
        );
    }

    #[test]
    fn an_item_moved_to_another_section_in_the_store_is_not_moved_back_by_the_invite() {
        let mut items = [
            it(1, Section::Direct, "Promotion"),
            it(2, Section::Manager, "Budget"),
        ];
        let w = written(&items);
        items[0].section = Section::Manager;
        let p = plan(&items, &w, &w.text);
        assert_eq!(p.actions, [], "moved back to where the invite shows it");
    }

    #[test]
    fn a_ticked_line_read_again_does_not_become_a_second_item() {
        // The block shows a done item (closed in this occurrence); we have no record of writing
        // it (a crash, a 412 retry): reading it again must find the item, not create one.
        let mut done = it(7, Section::Action, "Send the plan");
        done.state = ItemState::Done;
        let shown = written(std::slice::from_ref(&done));
        let base = shown.without_items();
        let p = plan(std::slice::from_ref(&done), &base, &shown.text);
        assert!(
            !p.actions
                .iter()
                .any(|a| matches!(a, AbsorbAction::Create { .. })),
            "{:?}",
            p.actions
        );
        // Unticked again by a person: reopened, still one item.
        let unticked = shown
            .text
            .replace("- [x] Send the plan", "- [ ] Send the plan");
        let p = plan(std::slice::from_ref(&done), &base, &unticked);
        assert_eq!(p.actions, vec![AbsorbAction::Reopen { id: 7 }]);
    }
}

#[cfg(test)]
mod fold_tests {
    use chrono::TimeZone;

    use super::plan_tests_support::{it, plan};
    use super::*;
    use crate::agenda::block::parse_block;
    use crate::agenda::render::{AgendaInput, Template, render_within};
    use crate::agenda::types::Format;

    fn within(items: &[Item], format: Format, max: usize) -> RenderedBlock {
        let input = AgendaInput {
            direct_name: "Ann",
            manager_name: "Max",
            items,
            notes: &[],
            last_meeting: None,
            start: chrono_tz::Europe::Berlin
                .with_ymd_and_hms(2026, 3, 3, 10, 0, 0)
                .unwrap(),
            length: chrono::Duration::minutes(30),
            cancelled_in_a_row: 0,
            last_closed: Default::default(),
            prompt: Default::default(),
        };
        render_within(&input, format, &Template::default_template(), max).unwrap()
    }

    /// Three manager topics and a flood of long direct topics.
    fn flood(n: i64) -> Vec<Item> {
        let mut items: Vec<Item> = (1..=3)
            .map(|i| it(i, Section::Manager, &format!("Manager topic {i}")))
            .collect();
        for i in 0..n {
            let mut t = it(
                100 + i,
                Section::Direct,
                &format!("Topic {i} {}", "x".repeat(200)),
            );
            t.position = i;
            items.push(t);
        }
        items
    }

    #[test]
    fn folded_items_are_not_read_back_as_deleted() {
        const MAX: usize = 8 * 1024;
        for format in [Format::Plain, Format::GoogleHtml] {
            let items = flood(60);
            let w = within(&items, format, MAX);
            assert!(w.text.len() <= MAX, "{format:?}: {} bytes", w.text.len());
            let shown = w.item_ids();
            let folded = items.len() - shown.len();
            assert!(folded > 20, "{format:?}: only {folded} folded");
            // The manager's topics stay; the flood's last topics fold into one line.
            assert!((1..=3).all(|id| shown.contains(&id)), "{shown:?}");
            assert!(!shown.contains(&(100 + 59)));
            let fold = format!("… and {folded} more topics on the page");
            assert!(w.text.contains(&fold), "{format:?}: {}", w.text);
            assert!(
                w.lines
                    .iter()
                    .any(|l| l.kind == LineKind::Folded && l.text == fold)
            );
            // Same state, same bytes.
            assert_eq!(w, within(&items, format, MAX));

            // The next pass reads the invite back unchanged: nothing dropped, nothing new, and
            // the fold line is not a note.
            let parsed = parse_block(&w.text, format, usize::MAX).unwrap().unwrap();
            let p = plan_absorb(&items, &w, &parsed);
            assert!(p.actions.is_empty(), "{format:?}: {:?}", p.actions);
            assert!(p.notes.is_empty(), "{format:?}: {:?}", p.notes);

            // No record of writing it (a crash): compared with a fresh render that folds
            // another count (more topics since, or another budget), still nothing dropped,
            // created or kept as a note.
            let fresh = within(&items, format, MAX / 2);
            assert!(!fresh.text.contains(&fold), "the premise: another count");
            let base = fresh.without_items();
            let p = plan_absorb(&items, &base, &parsed);
            assert!(
                p.actions
                    .iter()
                    .all(|a| !matches!(a, AbsorbAction::Drop { .. } | AbsorbAction::Create { .. })),
                "{format:?}: {:?}",
                p.actions
            );
            assert!(p.notes.is_empty(), "{format:?}: {:?}", p.notes);
        }
    }

    #[test]
    fn a_line_deleted_beside_a_fold_drops_only_that_item() {
        let items = flood(60);
        let w = within(&items, Format::Plain, 8 * 1024);
        let first = items.iter().find(|i| i.id == 100).unwrap();
        let text = w.text.replace(&format!("- [ ] {}\n", first.text), "");
        assert_ne!(text, w.text);
        let p = plan(&items, &w, &text);
        assert_eq!(p.actions, [AbsorbAction::Drop { id: 100 }]);
    }

    #[test]
    fn a_block_within_budget_is_not_folded() {
        let items = flood(3);
        let full = within(&items, Format::Plain, usize::MAX);
        assert_eq!(within(&items, Format::Plain, full.text.len()), full);
        assert!(full.lines.iter().all(|l| l.kind != LineKind::Folded));
        // One byte less folds the last topic of the fullest section.
        let tight = within(&items, Format::Plain, full.text.len() - 1);
        assert!(tight.text.len() < full.text.len());
        assert!(
            tight.text.contains("… and 1 more topic on the page"),
            "{}",
            tight.text
        );
    }
}

#[cfg(test)]
mod answer_tests {
    use chrono::TimeZone;

    use super::plan_tests_support::{it, plan, written};
    use super::*;
    use crate::agenda::block::parse_block;
    use crate::agenda::render::{Template, render};
    use crate::agenda::types::Format;

    /// The block for `items` with `notes`, in `format`.
    fn with_notes(items: &[Item], notes: &[Note], format: Format) -> RenderedBlock {
        let start = chrono_tz::Europe::Berlin
            .with_ymd_and_hms(2026, 3, 3, 10, 0, 0)
            .unwrap();
        let input = crate::agenda::render::AgendaInput {
            direct_name: "Ann",
            manager_name: "Max",
            items,
            notes,
            last_meeting: None,
            start,
            length: chrono::Duration::minutes(30),
            cancelled_in_a_row: 0,
            last_closed: Default::default(),
            prompt: Default::default(),
        };
        render(&input, format, &Template::default_template()).unwrap()
    }

    /// Reads `text` against `w`, renders the notes back, and reads that against what was
    /// rendered: an answer stays a note (no item, the same notes) through the round trip.
    /// Returns the notes and the text rendered.
    fn round_trip(items: &[Item], w: &RenderedBlock, text: &str, f: Format) -> (Vec<Note>, String) {
        let read = |w: &RenderedBlock, t: &str| {
            let parsed = parse_block(t, f, usize::MAX).unwrap().unwrap();
            plan_absorb(items, w, &parsed)
        };
        let p = read(w, text);
        assert!(p.actions.is_empty(), "{:?}", p.actions);
        let again = with_notes(items, &p.notes, f);
        let p2 = read(&again, &again.text);
        assert!(p2.actions.is_empty(), "{:?}", p2.actions);
        assert_eq!(p2.notes, p.notes, "{}", again.text);
        // Stable: the same notes render the same bytes.
        assert_eq!(with_notes(items, &p2.notes, f).text, again.text);
        (p.notes, again.text)
    }

    #[test]
    fn answers_compare_like_a_reader() {
        let q = "How are things going?";
        assert!(answers(
            q,
            "- How are things going? Good, busy with the launch"
        ));
        assert!(answers(q, "how are things  going - fine"));
        assert!(answers(q, "1. HOW ARE THINGS GOING: tired"));
        assert!(!answers(q, "- How are things going?"));
        assert!(!answers(q, "How are things going?!"));
        assert!(!answers(q, "How are things goingwell"));
        assert!(!answers(q, "Any feedback for me? no"));
    }

    #[test]
    fn a_question_typed_on_with_an_answer_is_a_note_shown_in_its_place() {
        let items = [it(1, Section::Manager, "Q2 planning")];
        let w = written(&items);
        let text = w.text.replace(
            "- How are things going?",
            "- How are things going? Good, busy with the launch",
        );
        let (notes, shown) = round_trip(&items, &w, &text, Format::Plain);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].area, Area::Manager);
        assert_eq!(
            notes[0].text,
            "- How are things going? Good, busy with the launch"
        );
        // The question once: the answer stands where it was.
        assert_eq!(shown.matches("How are things going?").count(), 1, "{shown}");
        assert!(
            shown.contains("\n- How are things going? Good, busy with the launch\n- Any feedback")
        );
    }

    #[test]
    fn the_answer_taken_back_leaves_the_question_not_a_topic() {
        let items = [it(1, Section::Manager, "Q2 planning")];
        let w = written(&items);
        let text = w.text.replace(
            "- How are things going?",
            "- How are things going? Good, busy with the launch",
        );
        let p = plan(&items, &w, &text);
        let answered = with_notes(&items, &p.notes, Format::Plain);
        let back = answered.text.replace(
            "- How are things going? Good, busy with the launch",
            "- How are things going?",
        );
        let p = plan(&items, &answered, &back);
        assert!(p.actions.is_empty() && p.notes.is_empty(), "{p:?}");
    }

    #[test]
    fn a_line_indented_under_a_question_is_its_answer() {
        let items = [it(1, Section::Manager, "Q2 planning")];
        let w = written(&items);
        let text = w.text.replace(
            "- How are things going?\n",
            "- How are things going?\n  pretty good, a bit tired\n\t- Launch is on track\n",
        );
        let (notes, shown) = round_trip(&items, &w, &text, Format::Plain);
        let texts: Vec<&str> = notes.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(texts, ["pretty good, a bit tired", "- Launch is on track"]);
        assert!(notes.iter().all(|n| n.area == Area::Manager));
        assert!(
            shown.contains(
                "- How are things going?\n  pretty good, a bit tired\n  - Launch is on track\n"
            ),
            "{shown}"
        );
        assert_eq!(shown.matches("How are things going?").count(), 1);
    }

    #[test]
    fn an_answer_in_a_nested_google_list_is_a_note_and_stays_nested() {
        let items = [it(1, Section::Manager, "Q2 planning")];
        let w = with_notes(&items, &[], Format::GoogleHtml);
        let text = w.text.replace(
            "<li>How are things going?</li>",
            "<li>How are things going?<ul><li>pretty good, a bit tired</li></ul></li>",
        );
        assert_ne!(text, w.text);
        let (notes, shown) = round_trip(&items, &w, &text, Format::GoogleHtml);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].text, "- pretty good, a bit tired");
        assert!(shown.contains("&nbsp;&nbsp;- pretty good"), "{shown}");
    }

    #[test]
    fn an_unindented_new_line_after_the_questions_is_still_a_topic() {
        let w = written(&[]);
        let text = w.text.replace(
            "- Anything I can do to help?\n",
            "- Anything I can do to help?\n- Conference budget\n",
        );
        let p = plan(&[], &w, &text);
        assert!(
            matches!(&p.actions[..], [AbsorbAction::Create { section: Section::Manager, text, .. }] if text == "Conference budget"),
            "{:?}",
            p.actions
        );
    }

    #[test]
    fn an_item_whose_text_begins_like_a_question_stays_that_item() {
        let items = [it(1, Section::Manager, "How are things going with hiring")];
        let w = written(&items);
        let p = plan(&items, &w, &w.text);
        assert!(p.actions.is_empty() && p.notes.is_empty(), "{p:?}");
    }

    #[test]
    fn a_deleted_question_creates_and_drops_nothing() {
        let items = [it(1, Section::Manager, "Q2 planning")];
        let w = written(&items);
        let text = w.text.replace("- Any feedback for me?\n", "");
        assert_ne!(text, w.text);
        let p = plan(&items, &w, &text);
        assert!(p.actions.is_empty() && p.notes.is_empty(), "{p:?}");
    }

    #[test]
    fn a_line_under_minutes_for_me_is_a_managers_topic() {
        let w = written(&[]);
        let text = w
            .text
            .replace("15 minutes for me\n", "15 minutes for me\n- Team offsite\n");
        assert_ne!(text, w.text);
        let p = plan(&[], &w, &text);
        assert!(
            matches!(&p.actions[..], [AbsorbAction::Create { section: Section::Manager, text, in_notes: false, .. }] if text == "Team offsite"),
            "{:?}",
            p.actions
        );
    }
}

#[cfg(test)]
mod direct_prompt_tests {
    use chrono::TimeZone;

    use super::plan_tests_support::it;
    use super::*;
    use crate::agenda::block::parse_block;
    use crate::agenda::render::{AgendaInput, DirectPrompt, Template, render};
    use crate::agenda::types::Format;

    const LINK: &str = "https://1on1.example.com/d/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const OTHER: &str = "https://1on1.example.com/d/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

    fn block(items: &[Item], link: Option<&str>, nudge: bool, f: Format) -> RenderedBlock {
        let input = AgendaInput {
            direct_name: "Ann",
            manager_name: "Max",
            items,
            notes: &[],
            last_meeting: None,
            start: chrono_tz::Europe::Berlin
                .with_ymd_and_hms(2026, 3, 3, 10, 0, 0)
                .unwrap(),
            length: chrono::Duration::minutes(30),
            cancelled_in_a_row: 0,
            last_closed: Default::default(),
            prompt: DirectPrompt {
                link: link.map(str::to_string),
                nudge,
            },
        };
        render(&input, f, &Template::default_template()).unwrap()
    }

    fn read(items: &[Item], w: &RenderedBlock, text: &str, f: Format) -> AbsorbPlan {
        let parsed = parse_block(text, f, usize::MAX).unwrap().unwrap();
        plan_absorb(items, w, &parsed)
    }

    #[test]
    fn the_link_and_the_nudge_are_the_templates_lines_not_topics() {
        let items = [it(1, Section::Manager, "Budget")];
        for f in [Format::Plain, Format::GoogleHtml] {
            for (link, nudge) in [(Some(LINK), false), (Some(LINK), true), (None, true)] {
                let w = block(&items, link, nudge, f);
                assert_eq!(w.nudged, nudge);
                let p = read(&items, &w, &w.text, f);
                assert!(p.actions.is_empty(), "{f:?}: {:?}", p.actions);
                assert!(p.notes.is_empty(), "{f:?}: {:?}", p.notes);
            }
            // Google links the URL when it saves the description: the line still reads the same.
            let w = block(&items, Some(LINK), true, f);
            if f == Format::GoogleHtml {
                let linked = w.text.replacen(
                    LINK,
                    &format!("<a href=\"https://www.google.com/url?q={LINK}\">{LINK}</a>"),
                    1,
                );
                assert_ne!(linked, w.text);
                let p = read(&items, &w, &linked, f);
                assert!(p.actions.is_empty() && p.notes.is_empty(), "{p:?}");
                let parsed = parse_block(&linked, f, usize::MAX).unwrap().unwrap();
                assert!(crate::agenda::same_block(&parsed, &w));
            }
        }
    }

    #[test]
    fn a_line_typed_under_the_nudge_is_the_directs_topic() {
        let w = block(&[], Some(LINK), true, Format::Plain);
        let text = w.text.replacen(
            &format!("Add your topics: {LINK}"),
            &format!("Add your topics: {LINK}\nMy promotion case"),
            1,
        );
        let p = read(&[], &w, &text, Format::Plain);
        assert!(
            matches!(
                p.actions.as_slice(),
                [AbsorbAction::Create { section: Section::Direct, text, .. }] if text == "My promotion case"
            ),
            "{:?}",
            p.actions
        );
    }

    #[test]
    fn a_line_typed_where_an_item_dropped_since_the_write_stood_is_a_new_topic() {
        // Seed 346 of the simulator: the first attempt of a write drops "feedback on the
        // review" (deleted in the invite), the PATCH meets a 412 because the direct typed a
        // topic in its place meanwhile; the retry reads against the same written block.
        let items = [it(1, Section::Direct, "feedback on the review n4")];
        let w = block(&items, None, false, Format::Plain);
        // The store hands the agenda step no dropped item: the written line's item is gone.
        let items: [Item; 0] = [];
        let text = w.text.replacen(
            "- [ ] feedback on the review n4",
            "- talk about the offsite n10",
            1,
        );
        let p = read(&items, &w, &text, Format::Plain);
        assert!(
            p.actions.iter().any(|a| matches!(a,
                AbsorbAction::Create { text, .. } if text == "talk about the offsite n10")),
            "{:?}",
            p.actions
        );
        // The dropped item's own line, still there, does not bring it back.
        let p = read(&items, &w, &w.text, Format::Plain);
        assert!(p.actions.is_empty(), "{:?}", p.actions);
    }

    #[test]
    fn an_earlier_link_line_is_never_a_topic() {
        // The block written shows the new link; the invite still holds the old one (a restored
        // revision, or a rotation seen before the record of its write).
        let w = block(&[], Some(OTHER), false, Format::Plain);
        let old = block(&[], Some(LINK), false, Format::Plain);
        let p = read(&[], &w, &old.text, Format::Plain);
        assert!(p.actions.is_empty(), "{:?}", p.actions);
        assert!(holds_direct_link(&format!("Add your topics: {LINK}")));
        assert!(holds_direct_link(&format!("- see {LINK}.")));
        assert!(!holds_direct_link("Read https://example.com/d/short first"));
        assert!(!holds_direct_link(
            "/d/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        ));
    }
}
