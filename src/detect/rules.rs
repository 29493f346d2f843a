//! The user's knobs for detection: the longest meeting that can be a 1:1, and title patterns that
//! include or exclude series whatever the signals say.

use std::fmt;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

/// A title pattern from the config.
///
/// Two syntaxes, both case-insensitive:
/// - a glob (the default): `*` matches any run of characters, `?` one character, everything else
///   itself; it must match the whole title (`"Coaching *"`, `"*interview*"`).
/// - a regular expression between slashes (`"/^mentor(ing)?\b/"`), Rust `regex` syntax, which
///   may match anywhere in the title unless anchored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TitlePattern {
    source: String,
    regex: Regex,
}

/// A config title pattern that is not valid.
#[derive(Debug, thiserror::Error)]
#[error("invalid title pattern {pattern:?}: {source}")]
pub struct PatternError {
    pub pattern: String,
    #[source]
    pub source: Box<regex::Error>,
}

impl TitlePattern {
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        let expr = match pattern.strip_prefix('/').and_then(|p| p.strip_suffix('/')) {
            Some(re) if pattern.len() >= 2 => re.to_string(),
            _ => glob_to_regex(pattern),
        };
        let regex = RegexBuilder::new(&expr)
            .case_insensitive(true)
            // Patterns come from a config file: keep a hostile one from eating memory.
            .size_limit(1 << 20)
            .build()
            .map_err(|e| PatternError {
                pattern: pattern.to_string(),
                source: Box::new(e),
            })?;
        Ok(Self {
            source: pattern.to_string(),
            regex,
        })
    }

    pub(crate) fn is_match(&self, title: &str) -> bool {
        self.regex.is_match(title.trim())
    }

    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        &self.source
    }
}

fn glob_to_regex(glob: &str) -> String {
    let mut re = String::from("(?s)^");
    for c in glob.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    re.push('$');
    re
}

impl TryFrom<String> for TitlePattern {
    type Error = PatternError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TitlePattern> for String {
    fn from(p: TitlePattern) -> Self {
        p.source
    }
}

impl fmt::Display for TitlePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for TitlePattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// What the user configured about detection.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectRules {
    /// A recurring meeting longer than this is not a 1:1 (default 90 minutes).
    pub max_length: chrono::Duration,
    /// A series whose title matches one of these is a 1:1 (unless also excluded).
    pub include_titles: Vec<TitlePattern>,
    /// A series whose title matches one of these is not a 1:1. Exclusion beats inclusion: when
    /// in doubt, the daemon stays out of a meeting rather than writing into it.
    pub exclude_titles: Vec<TitlePattern>,
    /// An attendee whose address or display name matches one of these is a meeting bot (an AI
    /// notetaker), not a person: it does not count toward the two people of a 1:1.
    pub notetakers: Vec<TitlePattern>,
}

pub const DEFAULT_MAX_MINUTES: i64 = 90;

/// The meeting bots known by default (`detect.notetakers`; the same list as in
/// `config/default.toml`). By address domain: the services invite their bot under an address of
/// their own domain (Fireflies documents `fred@fireflies.ai`); by name: a bot listed under another
/// address usually says what it is ("Fireflies.ai Notetaker").
pub const DEFAULT_NOTETAKERS: &[&str] = &[
    "*@fireflies.ai",
    "*@otter.ai",
    "*@read.ai",
    "*@fathom.video",
    "*@tldv.io",
    "*@fellow.app",
    "*@avoma.com",
    "*@gong.io",
    "*notetaker*",
    "*note taker*",
];

impl Default for DetectRules {
    fn default() -> Self {
        Self {
            max_length: chrono::Duration::minutes(DEFAULT_MAX_MINUTES),
            include_titles: Vec::new(),
            exclude_titles: Vec::new(),
            notetakers: DEFAULT_NOTETAKERS
                .iter()
                .map(|p| TitlePattern::parse(p).expect("default notetaker patterns are valid"))
                .collect(),
        }
    }
}

impl DetectRules {
    /// Rules from config values: the maximum length in minutes and the two pattern lists.
    pub(crate) fn new<S: AsRef<str>>(
        max_minutes: u32,
        include: &[S],
        exclude: &[S],
    ) -> Result<Self, PatternError> {
        let parse = |v: &[S]| {
            v.iter()
                .map(|p| TitlePattern::parse(p.as_ref()))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            max_length: chrono::Duration::minutes(i64::from(max_minutes)),
            include_titles: parse(include)?,
            exclude_titles: parse(exclude)?,
            notetakers: Self::default().notetakers,
        })
    }

    /// Rules from the `[detect]` config section.
    pub(crate) fn from_config(c: &crate::config::DetectConfig) -> Result<Self, PatternError> {
        let mut rules = Self::new(c.max_length_minutes, &c.include_titles, &c.exclude_titles)?;
        rules.notetakers = c
            .notetakers
            .iter()
            .map(|p| TitlePattern::parse(p))
            .collect::<Result<_, _>>()?;
        Ok(rules)
    }

    /// The notetaker pattern that `p`'s address or display name matches, if any.
    pub(crate) fn notetaker(&self, p: &crate::model::Person) -> Option<&TitlePattern> {
        let email = p.email.as_ref().map(|e| e.as_str());
        let fields = [email, p.name.as_deref()];
        self.notetakers
            .iter()
            .find(|pat| fields.iter().flatten().any(|f| pat.is_match(f)))
    }

    pub(crate) fn excluding(&self, title: &str) -> Option<&TitlePattern> {
        self.exclude_titles.iter().find(|p| p.is_match(title))
    }

    pub(crate) fn including(&self, title: &str) -> Option<&TitlePattern> {
        self.include_titles.iter().find(|p| p.is_match(title))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_whole_title_case_insensitively() {
        let p = TitlePattern::parse("Coaching *").unwrap();
        assert!(p.is_match("coaching with Alice"));
        assert!(!p.is_match("Team coaching with Alice"));
        let q = TitlePattern::parse("*interview*").unwrap();
        assert!(q.is_match("Onsite INTERVIEW loop"));
        let dots = TitlePattern::parse("a.b?").unwrap();
        assert!(dots.is_match("A.bc") && !dots.is_match("axbc"));
    }

    #[test]
    fn slashes_make_a_regex_that_matches_anywhere() {
        let p = TitlePattern::parse(r"/mentor(ing)?\b/").unwrap();
        assert!(p.is_match("Weekly Mentoring"));
        assert!(!p.is_match("Mentors guild"));
    }

    #[test]
    fn invalid_regex_is_a_typed_error_naming_the_pattern() {
        let err = DetectRules::new(90, &["/(unclosed/"], &[] as &[&str]).unwrap_err();
        assert_eq!(err.pattern, "/(unclosed/");
        assert!(err.to_string().contains("/(unclosed/"));
    }

    #[test]
    fn rules_come_from_the_detect_config_section() {
        let c = crate::config::DetectConfig {
            max_length_minutes: 45,
            include_titles: vec!["Coaching *".into()],
            exclude_titles: vec!["/[/".into()],
            notetakers: vec!["*@bot.example".into()],
        };
        let err = DetectRules::from_config(&c).unwrap_err();
        assert_eq!(err.pattern, "/[/");
        let c = crate::config::DetectConfig {
            exclude_titles: vec![],
            ..c
        };
        let r = DetectRules::from_config(&c).unwrap();
        assert_eq!(r.max_length, chrono::Duration::minutes(45));
        assert!(r.including("coaching Alice").is_some());
        // The configured list replaces the default one.
        assert!(r.notetaker(&person("rec@bot.example", None)).is_some());
        assert!(r.notetaker(&person("fred@fireflies.ai", None)).is_none());
    }

    fn person(email: &str, name: Option<&str>) -> crate::model::Person {
        crate::model::Person {
            email: crate::model::EmailAddress::parse(email),
            name: name.map(str::to_string),
        }
    }

    #[test]
    fn default_notetakers_match_bot_addresses_and_names_not_people() {
        let r = DetectRules::default();
        for email in [
            "fred@fireflies.ai",
            "Fred@Fireflies.AI",
            "assistant@otter.ai",
            "bot@read.ai",
            "notetaker@fathom.video",
            "recorder@tldv.io",
            "x@fellow.app",
            "x@avoma.com",
            "recorder@gong.io",
        ] {
            assert!(r.notetaker(&person(email, None)).is_some(), "{email}");
        }
        let named = person(
            "bot-7f3a@calendar-bots.example",
            Some("Fireflies.ai Notetaker"),
        );
        assert_eq!(r.notetaker(&named).map(|p| p.as_str()), Some("*notetaker*"));
        for email in [
            "alice@example.com",
            "fred@fireflies.ai.example.com",
            "fred@notfireflies.ai",
            "otter@example.com",
        ] {
            assert!(r.notetaker(&person(email, None)).is_none(), "{email}");
        }
        assert!(
            r.notetaker(&person("a@example.com", Some("Alice Reed")))
                .is_none()
        );
    }

    #[test]
    fn a_notetaker_regex_may_match_anywhere() {
        let c = crate::config::DetectConfig {
            max_length_minutes: 90,
            include_titles: vec![],
            exclude_titles: vec![],
            notetakers: vec![r"/^recorder\+.*@corp\.example$/".into()],
        };
        let r = DetectRules::from_config(&c).unwrap();
        assert!(
            r.notetaker(&person("recorder+42@corp.example", None))
                .is_some()
        );
        assert!(
            r.notetaker(&person("recorder@corp.example", None))
                .is_none()
        );
    }

    #[test]
    fn patterns_deserialize_from_strings() {
        let v: Vec<TitlePattern> = serde_json::from_str(r#"["Coaching *", "/^x/"]"#).unwrap();
        assert_eq!(v[0].as_str(), "Coaching *");
        assert!(serde_json::from_str::<Vec<TitlePattern>>(r#"["/[/"]"#).is_err());
    }
}
