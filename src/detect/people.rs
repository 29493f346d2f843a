//! Who is in a meeting: the organizer and the attendees counted once each, with rooms, resources,
//! calendar addresses and the owner's own aliases told apart from the other humans.

use crate::model::{
    Attendee, CalendarUserType, EmailAddress, Event, Owner, ParticipationStatus, Person, Role,
};

/// What kind of participant an address is, when it is not a human being.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonHuman {
    /// A room or a bookable resource (projector, car).
    Room,
    /// A mailing list or group: many people behind one address.
    Group,
    /// A calendar's own address (Google secondary or imported calendars).
    Calendar,
    /// A shared role mailbox (support@, recruiting@): a team behind one address.
    Mailbox,
}

/// One distinct human other than the owner.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Human {
    pub person: Person,
    pub is_organizer: bool,
}

/// The meeting's participants, sorted out.
#[derive(Debug, Clone, Default)]
pub(crate) struct Participants {
    /// The owner is the organizer or an attendee under one of their addresses.
    pub owner_listed: bool,
    /// The owner is the organizer.
    pub owner_organizes: bool,
    /// Every listing of the owner as attendee says DECLINED.
    pub owner_declined: bool,
    /// Nobody organizes and the owner is not listed: an event the owner put in their own
    /// calendar, so they are taken to be in it.
    pub owner_implied: bool,
    /// An address taken to be the owner's because none of their known ones is listed.
    pub owner_alias_guess: Option<EmailAddress>,
    /// The organizer, when there is one and it is not the owner.
    pub foreign_organizer: Option<Person>,
    /// Humans other than the owner who take part (declined and non-participants left out).
    pub others: Vec<Human>,
    /// Humans other than the owner who declined.
    pub declined: Vec<Person>,
    /// Groups, rooms and calendar addresses, in file order.
    pub non_humans: Vec<(Person, NonHuman)>,
    /// Meeting bots (AI notetakers) listed as attendees, in file order: not people.
    pub notetakers: Vec<Person>,
}

impl Participants {
    pub(crate) fn groups(&self) -> impl Iterator<Item = &Person> {
        self.non_humans
            .iter()
            .filter(|(_, k)| matches!(k, NonHuman::Group | NonHuman::Mailbox))
            .map(|(p, _)| p)
    }

    pub(crate) fn owner_in_meeting(&self) -> bool {
        self.owner_listed || self.owner_implied
    }
}

/// Sorts out the organizer and attendees of `ev` for `owner`; attendees matching `rules`'
/// notetaker patterns are bots.
pub(crate) fn participants(ev: &Event, owner: &Owner, rules: &super::DetectRules) -> Participants {
    let mut out = Participants::default();
    let mut owner_answers: Vec<ParticipationStatus> = Vec::new();
    // The event is in the owner's calendar, so when none of their known addresses is in it, an
    // address with the same local part at another domain is almost surely theirs (an old domain
    // after a rename, a second company domain).
    let listed = ev
        .organizer
        .iter()
        .chain(ev.attendees.iter().map(|a| &a.person));
    let exact = listed.clone().any(|p| is_exact_owner(p, owner));
    let guess = (!exact)
        .then(|| {
            listed
                .filter_map(|p| p.email.clone())
                .find(|e| alias_guess(e, owner))
        })
        .flatten();
    let is_owner = |p: &Person| {
        is_exact_owner(p, owner) || (guess.is_some() && p.email.as_ref() == guess.as_ref())
    };

    if let Some(org) = &ev.organizer {
        match classify(org, CalendarUserType::Individual) {
            // A shared mailbox that sends an invitation (recruiting@ booking an interview) does
            // not attend it; as organizer it says no more than a calendar address.
            Some(NonHuman::Mailbox) => out.non_humans.push((org.clone(), NonHuman::Calendar)),
            Some(kind) => out.non_humans.push((org.clone(), kind)),
            None if is_owner(org) => {
                out.owner_listed = true;
                out.owner_organizes = true;
            }
            None => {
                out.foreign_organizer = Some(org.clone());
                out.others.push(Human {
                    person: org.clone(),
                    is_organizer: true,
                });
            }
        }
    }

    for a in &ev.attendees {
        let p = &a.person;
        // A bot listed as a room or resource is one already; otherwise its pattern decides
        // before any guess from words (a bot's address may look like a shared mailbox).
        if !matches!(
            a.cutype,
            CalendarUserType::Room | CalendarUserType::Resource
        ) && !is_owner(p)
            && rules.notetaker(p).is_some()
        {
            if !out.notetakers.iter().any(|q| same_person(q, p)) {
                out.notetakers.push(p.clone());
            }
            continue;
        }
        if let Some(kind) = classify(p, a.cutype) {
            if !out.non_humans.iter().any(|(q, _)| same_person(q, p)) {
                out.non_humans.push((p.clone(), kind));
            }
            continue;
        }
        if is_owner(p) {
            out.owner_listed = true;
            owner_answers.push(a.partstat);
            continue;
        }
        if !takes_part(a) {
            if a.partstat == ParticipationStatus::Declined
                && !out.declined.iter().any(|q| same_person(q, p))
            {
                out.declined.push(p.clone());
            }
            continue;
        }
        // The organizer listed again as attendee, or one person listed twice.
        if !out.others.iter().any(|h| same_person(&h.person, p)) {
            out.others.push(Human {
                person: p.clone(),
                is_organizer: false,
            });
        }
    }

    // An organizer who lists themself as attendee and declines is not in the meeting (an
    // assistant who books a 1:1 for their manager does this).
    if let Some(org) = &out.foreign_organizer
        && ev
            .attendees
            .iter()
            .any(|a| same_person(&a.person, org) && a.partstat == ParticipationStatus::Declined)
    {
        out.others.retain(|h| !same_person(&h.person, org));
        if !out.declined.iter().any(|q| same_person(q, org)) {
            out.declined.push(org.clone());
        }
    }

    out.owner_declined = !owner_answers.is_empty()
        && owner_answers
            .iter()
            .all(|s| *s == ParticipationStatus::Declined);
    out.owner_implied = !out.owner_listed && ev.organizer.is_none();
    out.owner_alias_guess = guess.filter(|_| out.owner_listed);
    out
}

/// Whether an attendee is in the meeting: not declined, not delegated away, not an FYI copy.
fn takes_part(a: &Attendee) -> bool {
    !matches!(
        a.partstat,
        ParticipationStatus::Declined | ParticipationStatus::Delegated
    ) && a.role != Role::NonParticipant
}

fn is_exact_owner(p: &Person, owner: &Owner) -> bool {
    p.email.as_ref().is_some_and(|e| owner.is(e))
}

/// Same local part as one of the owner's addresses, at another domain.
fn alias_guess(e: &EmailAddress, owner: &Owner) -> bool {
    owner
        .emails
        .iter()
        .any(|o| o.local_part() == e.local_part() && o != e)
}

/// Same email, or (when either has no email) the same display name.
fn same_person(a: &Person, b: &Person) -> bool {
    match (&a.email, &b.email) {
        (Some(x), Some(y)) => x == y,
        _ => match (norm_name(a), norm_name(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

fn norm_name(p: &Person) -> Option<String> {
    let n = p.name.as_deref()?.trim().to_lowercase();
    (!n.is_empty()).then_some(n)
}

const ROOM_WORDS: &[&str] = &[
    "room",
    "rooms",
    "conf",
    "conference",
    "confroom",
    "meetingroom",
    "boardroom",
    "salle",
    "raum",
    "besprechungsraum",
    "konferenzraum",
    "sala",
    "resource",
    "projector",
    "beamer",
];

const GROUP_WORDS: &[&str] = &[
    "team", "teams", "all", "everyone", "staff", "list", "group", "dl", "managers", "leads",
    "members", "announce",
];

/// Whole local parts that name a role, not a person.
const ROLE_MAILBOXES: &[&str] = &[
    "support",
    "help",
    "helpdesk",
    "info",
    "hello",
    "contact",
    "sales",
    "billing",
    "finance",
    "accounts",
    "legal",
    "press",
    "marketing",
    "hr",
    "people",
    "it",
    "ops",
    "security",
    "admin",
    "office",
    "reception",
    "recruiting",
    "recruitment",
    "talent",
    "jobs",
    "careers",
    "noreply",
    "no-reply",
    "calendar",
];

/// `None` for a human; otherwise what else the address is. CUTYPE decides when it says room,
/// resource or group; without it (Google, many servers) the address and name are read.
pub(crate) fn classify(p: &Person, cutype: CalendarUserType) -> Option<NonHuman> {
    match cutype {
        CalendarUserType::Room | CalendarUserType::Resource => return Some(NonHuman::Room),
        CalendarUserType::Group => return Some(NonHuman::Group),
        CalendarUserType::Individual | CalendarUserType::Unknown => {}
    }
    if let Some(kind) = p.email.as_ref().and_then(classify_email) {
        return Some(kind);
    }
    let name_words = p.name.as_deref().map(tokens).unwrap_or_default();
    if name_words.iter().any(|w| ROOM_WORDS.contains(&w.as_str())) {
        return Some(NonHuman::Room);
    }
    None
}

fn classify_email(email: &EmailAddress) -> Option<NonHuman> {
    let domain = email.as_str().rsplit('@').next().unwrap_or_default();
    if domain == "resource.calendar.google.com" {
        return Some(NonHuman::Room);
    }
    if domain.ends_with("calendar.google.com") {
        return Some(NonHuman::Calendar);
    }
    if ROLE_MAILBOXES.contains(&email.local_part()) {
        return Some(NonHuman::Mailbox);
    }
    let local = tokens(email.local_part());
    if local.iter().any(|w| ROOM_WORDS.contains(&w.as_str())) {
        return Some(NonHuman::Room);
    }
    if local.iter().any(|w| GROUP_WORDS.contains(&w.as_str())) {
        return Some(NonHuman::Group);
    }
    None
}

/// Lower-cased words split on anything that is not a letter.
fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(email: &str) -> Person {
        Person {
            email: EmailAddress::parse(email),
            name: None,
        }
    }

    #[test]
    fn rooms_groups_and_calendars_are_not_humans() {
        let ind = CalendarUserType::Individual;
        let cases = [
            ("c_1889abc@resource.calendar.google.com", NonHuman::Room),
            ("c_abc123@group.calendar.google.com", NonHuman::Calendar),
            ("conf-berlin-4.12@example.com", NonHuman::Room),
            ("eng-team@example.com", NonHuman::Group),
            ("all@example.com", NonHuman::Group),
            ("support@example.com", NonHuman::Mailbox),
            ("Recruiting@example.com", NonHuman::Mailbox),
        ];
        for (email, kind) in cases {
            assert_eq!(classify(&person(email), ind), Some(kind), "{email}");
        }
        assert_eq!(classify(&person("alice@example.com"), ind), None);
        assert_eq!(classify(&person("allison@example.com"), ind), None);
        assert_eq!(classify(&person("it.nguyen@example.com"), ind), None);
        assert_eq!(
            classify(&person("alice@example.com"), CalendarUserType::Room),
            Some(NonHuman::Room)
        );
        let named_room = Person {
            email: EmailAddress::parse("b4-12@example.com"),
            name: Some("Meeting Room 4.12 (6)".into()),
        };
        assert_eq!(classify(&named_room, ind), Some(NonHuman::Room));
    }
}
