//! What a meeting's title says about it: 1:1 spellings in several languages, "Alice / Sam" name
//! pairs, and the words that mark a meeting as something else (an interview, a standup, a hold).

use std::sync::LazyLock;

use regex::Regex;

use crate::model::Person;

/// Spellings of "1:1" that are safe to look for anywhere in a title. Digit forms are bounded by
/// ASCII word boundaries so times ("11:15") and dates ("2021-11-01") do not match while
/// "1on1ミーティング" does; CJK forms have no word boundaries, so they are plain substrings.
static ONE_ON_ONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)
        (?-u:\b)1\s?(?: : | - | on | -on- | \s?to\s? | x | v | a | op | на )\s?1s?(?-u:\b)
      | (?-u:\b)1o1s?(?-u:\b)
      | \bone[-\s]?(?:on|to)[-\s]?ones?\b
      | \bo3s?\b
      | t[eê]te[-\s]?[aà][-\s]?t[eê]te
      | face[-\s][aà][-\s]face
      | einzelgespr[äa]ch | zweiergespr[äa]ch | mitarbeitergespr[äa]ch | jour[-\s]fixe
      | \buno\s+a\s+uno\b | \bum\s+a\s+um\b | \bjeden\s+na\s+jeden\b | один\s+на\s+одного?
      | reuni[oó]n\s+individual | reuni[ãa]o\s+individual | incontro\s+individuale
      | entretien\s+individuel | point\s+individuel
      | \b(?:één|een)[-\s]op[-\s](?:één|een)\b
      | medarbetarsamtal | enskilt\s+samtal
      | [1一][对對対][1一] | ワンオンワン | 원온원 | 面談
    ",
    )
    .expect("static 1:1 regex compiles")
});

/// Words that make a meeting something other than a 1:1 even with two people: hiring meetings and
/// placeholders that hold time rather than meet someone. These beat a 1:1 spelling in the title.
static HARD_NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)
        \b(?: interviews? | interviewing | candidates? | phone\s+screen | screening | debrief
            | hiring\s+(?:panel|committee|sync) | vorstellungsgespr[äa]ch | entrevista
            | hold | blocker | blocked | block | busy | focus(?:\s+time)? | ooo | pto
            | out\s+of\s+(?:the\s+)?office | vacation | holidays? | do\s+not\s+(?:book|schedule)
            | dnb | no\s+meetings | urlaub | abwesend | commute | travel(?:ling)?\s+time
        )\b
    ",
    )
    .expect("static negative regex compiles")
});

/// Group rituals: a meeting so titled is not a 1:1 unless the title also spells out a 1:1.
static SOFT_NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)
        \b(?: stand-?ups? | stand\s+up | daily\s+scrum | scrum | all[-\s]hands | town\s?hall
            | retros? | retrospectives? | trainings? | workshops? | webinars? | demo\s+day
            | sprint\s+planning | sprint\s+review | planning\s+poker | office\s+hours
            | book\s+club | reading\s+group | brown\s+bag | happy\s+hour | offsite | kick-?off
            | pairing | pair\s+programming | mob\s+programming | guild | community\s+of\s+practice
        )\b
    ",
    )
    .expect("static soft negative regex compiles")
});

/// Separators people put between two names: "Alice / Sam", "Alice <> Sam", "Alice x Sam",
/// "Alice & Sam", "Alice | Sam", "Alice + Sam", "Alice - Sam".
static PAIR_SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*(?:/|<->|<>|&|\+|\|)\s*|\s+(?:x|–|—|-|:|und|and|et|y)\s+")
        .expect("static separator regex compiles")
});

/// What the title says, strongest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TitleSignal {
    /// A spelling of "1:1" (the matched text).
    OneOnOne(String),
    /// Two names around a separator, one of them a participant's.
    NamePair,
    /// Hiring or placeholder words (the matched word).
    HardNegative(String),
    /// A group ritual (the matched word).
    SoftNegative(String),
}

/// The signals found in `title`, judged against the people who are in the meeting (for name
/// pairs). `others` are the non-owner humans.
pub(crate) fn signals(title: &str, others: &[&Person]) -> Vec<TitleSignal> {
    let mut out = Vec::new();
    if let Some(m) = ONE_ON_ONE.find(title) {
        out.push(TitleSignal::OneOnOne(m.as_str().to_string()));
    }
    if names_a_pair(title, others) {
        out.push(TitleSignal::NamePair);
    }
    if let Some(m) = HARD_NEGATIVE.find(title) {
        out.push(TitleSignal::HardNegative(m.as_str().to_lowercase()));
    }
    if let Some(m) = SOFT_NEGATIVE.find(title) {
        out.push(TitleSignal::SoftNegative(m.as_str().to_lowercase()));
    }
    out
}

/// True when the title is "X <sep> Y" (after an optional leading word like "Sync" or "1:1") and
/// X or Y names one of `others` by first name, full name or email local part. Requiring a
/// participant's name keeps "Design / Review" or "Eng & Product" from counting.
fn names_a_pair(title: &str, others: &[&Person]) -> bool {
    let Some(sep) = PAIR_SEPARATOR.find(title) else {
        return false;
    };
    let left = title[..sep.start()].trim();
    let right = title[sep.end()..].trim();
    if left.is_empty() || right.is_empty() {
        return false;
    }
    // A side is the last two words before the separator and the first two after it, so
    // "Weekly sync Alice / Sam (Berlin)" compares "sync Alice" and "Sam (Berlin)".
    let left_words: Vec<String> = words(left).into_iter().rev().take(2).collect();
    let right_words: Vec<String> = words(right).into_iter().take(2).collect();
    others.iter().any(|p| {
        let names = name_tokens(p);
        names
            .iter()
            .any(|n| left_words.contains(n) || right_words.contains(n))
    })
}

/// Lower-cased alphabetic words of `s`.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The tokens a title might use to name `p`: words of the display name and of the email's local
/// part ("alice.martin" -> "alice", "martin"), at least two letters long unless non-Latin (a
/// Japanese or Chinese name is often one or two characters: "森").
pub(crate) fn name_tokens(p: &Person) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(n) = &p.name {
        out.extend(words(n));
    }
    if let Some(e) = &p.email {
        out.extend(words(e.local_part()));
    }
    out.retain(|w| w.chars().count() >= 2 || !w.is_ascii());
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EmailAddress;

    fn alice() -> Person {
        Person {
            email: EmailAddress::parse("alice.martin@example.com"),
            name: Some("Alice Martin".into()),
        }
    }

    fn one_on_one(title: &str) -> bool {
        signals(title, &[])
            .iter()
            .any(|s| matches!(s, TitleSignal::OneOnOne(_)))
    }

    #[test]
    fn one_on_one_spellings_in_several_languages_are_recognised() {
        for t in [
            "1:1 Alice / Sam",
            "Alice 1-1",
            "1on1 w/ Alice",
            "1 on 1",
            "Weekly 1-on-1",
            "One-on-one: Alice",
            "one on one",
            "One-to-one with Alice",
            "Alice O3",
            "Tête-à-tête Alice",
            "tete a tete",
            "Einzelgespräch Alice",
            "Jour fixe Alice / Sam",
            "Jour-Fixe",
            "1对1 Alice",
            "1対1",
            "一对一",
            "Alice 1:1s",
            "Reunión individual",
            "Entretien individuel",
            "Één-op-één Alice",
            "Medarbetarsamtal",
            "1on1ミーティング",
        ] {
            assert!(one_on_one(t), "{t:?} should read as a 1:1");
        }
    }

    #[test]
    fn times_dates_and_ordinary_words_are_not_one_on_one() {
        for t in [
            "Standup 11:15",
            "Release 2021-11-01",
            "Q3 planning",
            "Onboarding",
            "Someone else",
            "Pro3 launch",
            "Weekly catch-up",
        ] {
            assert!(!one_on_one(t), "{t:?} should not read as a 1:1");
        }
    }

    #[test]
    fn name_pair_needs_a_participant_name_on_one_side() {
        let a = alice();
        for t in [
            "Alice / Sam",
            "Alice <> Sam",
            "Alice x Sam",
            "Alice & Sam",
            "Sync Alice/Sam",
            "Sam | Alice",
            "Sam + Alice weekly",
            "Martin - Sam",
        ] {
            assert!(
                signals(t, &[&a]).contains(&TitleSignal::NamePair),
                "{t:?} should be a name pair"
            );
        }
        for t in ["Design / Review", "Eng & Product", "Alice", "Sam x Bob"] {
            assert!(
                !signals(t, &[&a]).contains(&TitleSignal::NamePair),
                "{t:?} should not be a name pair"
            );
        }
    }

    #[test]
    fn negative_words_are_split_into_hard_and_soft() {
        let hard = |t: &str| {
            signals(t, &[])
                .iter()
                .any(|s| matches!(s, TitleSignal::HardNegative(_)))
        };
        let soft = |t: &str| {
            signals(t, &[])
                .iter()
                .any(|s| matches!(s, TitleSignal::SoftNegative(_)))
        };
        for t in [
            "Interview: Jane Doe",
            "Candidate sync",
            "HOLD",
            "Blocker",
            "OOO",
            "Focus time",
        ] {
            assert!(hard(t), "{t:?} should be a hard negative");
        }
        for t in [
            "Standup",
            "Daily stand-up",
            "All-hands",
            "Sprint retro",
            "Training",
        ] {
            assert!(soft(t), "{t:?} should be a soft negative");
            assert!(!hard(t), "{t:?} should not be a hard negative");
        }
        assert!(!hard("Blockers and priorities") && !soft("Retrograde"));
    }
}
