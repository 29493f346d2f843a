//! Layered configuration: the embedded `config/default.toml`, then the user's file, then the
//! environment (`ONEONONE__SECTION__KEY`). Validated once at start-up; every error names the key.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;
use serde::Deserialize;

/// The defaults, with a comment on every key. `oneonone config print-default` prints this.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Prefix of environment overrides: `ONEONONE__SERVER__LISTEN` sets `server.listen`.
pub(crate) const ENV_PREFIX: &str = "ONEONONE__";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: TOML syntax error at line {line}, column {column}: {message}")]
    Syntax {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("config key `{key}`: {message}")]
    Key { key: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub sync: SyncConfig,
    pub agenda: AgendaConfig,
    pub detect: DetectConfig,
    pub network: NetworkConfig,
    pub secrets: SecretsConfig,
    pub google: GoogleConfig,
    pub web: WebConfig,
    /// What loading noticed without refusing it (an old key still read), for the log once it
    /// starts ([`Config::log_warnings`]) and `config check`.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// The Google Calendar provider: the OAuth client and the endpoints (see `[google]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleConfig {
    pub client_id: String,
    pub client_secret: secrecy::SecretString,
    pub auth_url: url::Url,
    pub token_url: url::Url,
    pub revoke_url: url::Url,
    pub api_base: url::Url,
    /// Deprecated: read into `server.public_url` when that is empty (see [`Config::load`]).
    pub push_url: String,
    pub requests_per_minute: u32,
    pub consent_timeout_secs: u64,
}

/// The web pages: sign-in sessions and their cookie.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    pub cookie_secure: CookieSecure,
    pub session_hours: u32,
    pub signin_attempts_per_minute: u32,
    /// Open topics one direct may have through their link at a time.
    pub direct_topics_max_open: u32,
    /// Topic additions and removals through one direct's link per minute (burst as large).
    pub direct_link_posts_per_minute: u32,
}

/// When the session cookie carries `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CookieSecure {
    /// When the request came over https (a proxy's `X-Forwarded-Proto: https`).
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    pub allow_http: bool,
    /// Calendar server answers larger than this are refused (per resource where possible).
    pub max_response_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub admin_token: secrecy::SecretString,
    /// Wrong admin API tokens allowed per client address per minute.
    pub api_wrong_tokens_per_minute: u32,
    /// Where people reach the daemon (`https://oneonone.example.com`); empty when unknown.
    pub public_url: String,
    pub shutdown_timeout_secs: u64,
}

impl ServerConfig {
    /// `public_url` without a trailing slash, when set.
    pub(crate) fn public_base(&self) -> Option<&str> {
        Some(self.public_url.trim_end_matches('/')).filter(|u| !u.is_empty())
    }

    /// `public_url` without a trailing slash, when it is an https URL: what links written into
    /// invites and Google's push channels are built on (a plain http address would send the
    /// direct's secret over the network in clear, and Google pushes only to https).
    pub(crate) fn public_https_base(&self) -> Option<&str> {
        self.public_base().filter(|u| {
            u.get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        })
    }

    /// Why the direct's link is not in the invites, when `public_url` is not an https URL.
    pub(crate) fn link_missing_why(&self) -> Option<&'static str> {
        match (self.public_base(), self.public_https_base()) {
            (_, Some(_)) => None,
            (None, _) => Some(
                "The direct's link is not in the invites: set server.public_url to this \
                 daemon's https address.",
            ),
            (Some(_), None) => Some(
                "The direct's link is not in the invites: server.public_url is not an https \
                 address.",
            ),
        }
    }
}

/// The fewest characters an admin token may have.
pub(crate) const MIN_ADMIN_TOKEN_CHARS: usize = 24;

/// Why `token` is too weak to be the admin token, if it is: shorter than
/// [`MIN_ADMIN_TOKEN_CHARS`], or not random-looking (few different characters, as in
/// `aaaa…` or `123123…`, or blanks, which a random token never holds). Entropy cannot be
/// measured from one sample; this catches the tokens a person makes up.
pub(crate) fn admin_token_weakness(token: &str) -> Option<String> {
    let n = token.chars().count();
    if n < MIN_ADMIN_TOKEN_CHARS {
        return Some(format!(
            "is {n} characters long; it must be at least {MIN_ADMIN_TOKEN_CHARS} random characters"
        ));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("holds blanks or control characters; it must be random characters".into());
    }
    let distinct = token
        .chars()
        .collect::<std::collections::HashSet<_>>()
        .len();
    if distinct < 8 {
        return Some(format!(
            "uses only {distinct} different characters; it must look random"
        ));
    }
    None
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: DatabaseUrl,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
}

/// A database URL whose `Debug`/`Display` hide the password.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String")]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }

    /// `host:port` of a PostgreSQL URL (for error messages), or the path of a SQLite URL.
    pub(crate) fn location(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(u) if self.is_postgres() => format!(
                "{}:{}",
                u.host_str().unwrap_or("localhost"),
                u.port().unwrap_or(5432)
            ),
            _ => self
                .0
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:")
                .to_string(),
        }
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let ok_scheme = ["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|p| s.starts_with(p));
        if !ok_scheme {
            return Err(format!(
                "`{}` is not a database URL: expected sqlite://PATH or postgres://USER@HOST:PORT/DB",
                redact_url(&s)
            ));
        }
        if s.starts_with("postgres") {
            let u = url::Url::parse(&s).map_err(|e| format!("invalid PostgreSQL URL: {e}"))?;
            if u.host_str().is_none_or(str::is_empty) {
                return Err("PostgreSQL URL has no host".into());
            }
        }
        Ok(Self(s))
    }
}

fn redact_url(s: &str) -> String {
    match url::Url::parse(s) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => s.to_string(),
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", redact_url(&self.0))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    pub interval_secs: u64,
    pub jitter: f64,
    pub concurrency: usize,
    pub request_timeout_secs: u64,
    pub lease_secs: u64,
    pub pass_timeout_secs: u64,
    pub max_writes_per_pass: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgendaConfig {
    pub lookahead_days: u32,
    pub max_description_bytes: usize,
    /// The agenda block's byte budget (capped by what `max_description_bytes` leaves beside the
    /// text around the block, see `agenda::block_budget`): past it, the last items fold into
    /// one line.
    pub max_block_bytes: usize,
    pub default_timezone: Tz,
    /// Path of the user's agenda template; empty for the built-in one.
    pub template_file: String,
    /// What happens to the agenda of a 1:1 with a notetaker invited.
    pub when_notetaker: WhenNotetaker,
    /// The direct's section of the invite carries their private link (needs an https
    /// `server.public_url`).
    pub direct_link_in_invite: bool,
    /// How long before a meeting the direct's section asks for a topic when none is queued;
    /// 0: never.
    pub nudge_before_hours: u32,
}

/// `agenda.when_notetaker`: the agenda of a 1:1 with a meeting bot invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenNotetaker {
    /// Written as usual (the bot reads the invite like the two people do).
    Write,
    /// Nothing written into that series' invites.
    Skip,
}

impl AgendaConfig {
    /// `nudge_before_hours` as a duration; `None` when nudges are off.
    pub(crate) fn nudge_before(&self) -> Option<chrono::Duration> {
        (self.nudge_before_hours > 0)
            .then(|| chrono::Duration::hours(i64::from(self.nudge_before_hours)))
    }

    /// The agenda template named by `template_file` (compiled and checked), or the built-in one.
    pub(crate) fn template(&self) -> Result<crate::agenda::Template, ConfigError> {
        let path = self.template_file.as_str();
        if path.is_empty() {
            return Ok(crate::agenda::Template::default_template());
        }
        let bad = |message: String| ConfigError::Key {
            key: "agenda.template_file".into(),
            message,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read {path}: {e}")))?;
        crate::agenda::Template::new(&text).map_err(|e| bad(format!("{path}: {e}")))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectConfig {
    pub max_length_minutes: u32,
    pub include_titles: Vec<String>,
    pub exclude_titles: Vec<String>,
    /// Address or name patterns of meeting bots (AI notetakers): not people.
    pub notetakers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    pub key_file: PathBuf,
}

/// Where the user's layer comes from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub file: Option<PathBuf>,
    /// Environment variables to read overrides from (normally `std::env::vars()`).
    pub env: Vec<(String, String)>,
}

impl Sources {
    /// The file from `--config` or else `ONEONONE_CONFIG`, and the process environment.
    pub(crate) fn from_process(cli_file: Option<PathBuf>) -> Self {
        let file = cli_file.or_else(|| std::env::var_os("ONEONONE_CONFIG").map(PathBuf::from));
        Self {
            file,
            env: std::env::vars().collect(),
        }
    }
}

impl Config {
    /// The defaults alone.
    pub fn defaults() -> Self {
        Self::load(&Sources::default()).expect("the embedded default config is valid")
    }

    pub fn load(sources: &Sources) -> Result<Self, ConfigError> {
        let mut table = parse_toml(DEFAULT_TOML, "config/default.toml (embedded)")?;
        if let Some(path) = &sources.file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let origin = path.display().to_string();
            let user = parse_toml(&text, &origin)?;
            merge(&mut table, user, "", &origin)?;
        }
        let mut env: Vec<_> = sources
            .env
            .iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        env.sort();
        for (var, value) in env {
            apply_env(&mut table, var, value)?;
        }
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let key = e.path().to_string();
                let message = e.into_inner().to_string();
                ConfigError::Key { key, message }
            })?;
        config.read_old_keys()?;
        config.validate()?;
        Ok(config)
    }

    /// Keys of earlier versions still read, each with a warning naming its new place:
    /// `google.push_url` is the daemon's public address, now `server.public_url`.
    fn read_old_keys(&mut self) -> Result<(), ConfigError> {
        let old = std::mem::take(&mut self.google.push_url);
        if old.is_empty() {
            return Ok(());
        }
        if url::Url::parse(&old).map_or(true, |u| u.scheme() != "https") {
            return Err(ConfigError::Key {
                key: "google.push_url".into(),
                message: "must be an https URL, or empty; it is now server.public_url: set that \
                          instead"
                    .into(),
            });
        }
        let new = self.server.public_url.trim_end_matches('/');
        if new.is_empty() {
            self.server.public_url = old;
            self.warnings.push(
                "google.push_url is deprecated: it is read as server.public_url; rename it to \
                 server.public_url"
                    .into(),
            );
        } else if new == old.trim_end_matches('/') {
            self.warnings.push(
                "google.push_url is deprecated and repeats server.public_url: remove it".into(),
            );
        } else {
            self.warnings.push(format!(
                "google.push_url is deprecated and ignored: server.public_url ({new}) is used; \
                 remove google.push_url"
            ));
        }
        Ok(())
    }

    /// Logs what loading noticed ([`Config::warnings`]); called once logging is set up.
    pub(crate) fn log_warnings(&self) {
        for w in &self.warnings {
            tracing::warn!(config = %w, "configuration");
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| {
            Err(ConfigError::Key {
                key: key.into(),
                message: message.into(),
            })
        };
        let token = secrecy::ExposeSecret::expose_secret(&self.server.admin_token);
        if !token.is_empty()
            && let Some(why) = admin_token_weakness(token)
        {
            return bad(
                "server.admin_token",
                &format!(
                    "{why}. Make one with `openssl rand -base64 32`, or leave it empty to have \
                     one generated on first start"
                ),
            );
        }
        if self.server.api_wrong_tokens_per_minute == 0 {
            return bad("server.api_wrong_tokens_per_minute", "must be at least 1");
        }
        if let Err(why) = check_public_url(&self.server.public_url) {
            return bad("server.public_url", &why);
        }
        if self.sync.interval_secs == 0 {
            return bad("sync.interval_secs", "must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.sync.jitter) {
            return bad("sync.jitter", "must be between 0.0 and 1.0");
        }
        if self.sync.concurrency == 0 {
            return bad("sync.concurrency", "must be at least 1");
        }
        if self.sync.request_timeout_secs == 0 {
            return bad("sync.request_timeout_secs", "must be at least 1");
        }
        if self.sync.lease_secs < 2 {
            return bad("sync.lease_secs", "must be at least 2");
        }
        if self.sync.pass_timeout_secs == 0 {
            return bad("sync.pass_timeout_secs", "must be at least 1");
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections", "must be at least 1");
        }
        if self.agenda.lookahead_days == 0 {
            return bad("agenda.lookahead_days", "must be at least 1");
        }
        if self.agenda.max_block_bytes < 2048 {
            return bad("agenda.max_block_bytes", "must be at least 2048");
        }
        if self.web.direct_topics_max_open == 0 {
            return bad("web.direct_topics_max_open", "must be at least 1");
        }
        if self.web.direct_link_posts_per_minute == 0 {
            return bad("web.direct_link_posts_per_minute", "must be at least 1");
        }
        if self.web.session_hours == 0 {
            return bad("web.session_hours", "must be at least 1");
        }
        if self.web.signin_attempts_per_minute == 0 {
            return bad("web.signin_attempts_per_minute", "must be at least 1");
        }
        if self.network.max_response_bytes < 4096 {
            return bad("network.max_response_bytes", "must be at least 4096");
        }
        if self.detect.max_length_minutes == 0 {
            return bad("detect.max_length_minutes", "must be at least 1");
        }
        for (key, list) in [
            ("detect.include_titles", &self.detect.include_titles),
            ("detect.exclude_titles", &self.detect.exclude_titles),
            ("detect.notetakers", &self.detect.notetakers),
        ] {
            for (i, pattern) in list.iter().enumerate() {
                if pattern.trim().is_empty() {
                    return bad(
                        &format!("{key}[{i}]"),
                        "an empty pattern would match every title",
                    );
                }
            }
        }
        if let Err(e) = crate::detect::DetectRules::from_config(&self.detect) {
            let list = if self.detect.include_titles.contains(&e.pattern) {
                "detect.include_titles"
            } else if self.detect.notetakers.contains(&e.pattern) {
                "detect.notetakers"
            } else {
                "detect.exclude_titles"
            };
            return bad(list, &e.to_string());
        }
        if self.google.consent_timeout_secs == 0 {
            return bad("google.consent_timeout_secs", "must be at least 1");
        }
        if self.google.requests_per_minute == 0 {
            return bad("google.requests_per_minute", "must be at least 1");
        }
        if !self.google.api_base.path().ends_with('/') {
            return bad("google.api_base", "must end with a slash (…/calendar/v3/)");
        }
        self.agenda.template()?;
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return bad("log.level", &format!("not a valid level filter: {e}"));
        }
        Ok(())
    }
}

/// `server.public_url`: empty, or an absolute http(s) URL with a host and nothing after the path
/// (the daemon's links are built by appending to it).
fn check_public_url(raw: &str) -> Result<(), String> {
    if raw.is_empty() {
        return Ok(());
    }
    let u = url::Url::parse(raw).map_err(|e| {
        format!("`{raw}` is not an absolute URL ({e}); expected e.g. https://oneonone.example.com")
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("`{raw}` must start with https:// (or http://)"));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{raw}` has no host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not hold a user name or password".into());
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(format!(
            "`{raw}` must not have a query or fragment: links are built by appending to it"
        ));
    }
    Ok(())
}

fn parse_toml(text: &str, origin: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>().map_err(|e| {
        let (line, column) = e
            .span()
            .map(|span| line_col(text, span.start))
            .unwrap_or((0, 0));
        ConfigError::Syntax {
            origin: origin.to_string(),
            line,
            column,
            message: e.message().to_string(),
        }
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Overlays `user` on `base`. Keys absent from the defaults are unknown: reported with their path.
fn merge(
    base: &mut toml::Table,
    user: toml::Table,
    prefix: &str,
    origin: &str,
) -> Result<(), ConfigError> {
    for (key, value) in user {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (base.get_mut(&key), value) {
            (None, _) => {
                return Err(ConfigError::Key {
                    key: path,
                    message: format!(
                        "unknown key (in {origin}); see `oneonone config print-default`"
                    ),
                });
            }
            (Some(toml::Value::Table(b)), toml::Value::Table(u)) => merge(b, u, &path, origin)?,
            (Some(toml::Value::Table(_)), _) => {
                return Err(ConfigError::Key {
                    key: path,
                    message: format!("must be a section ([{key}]), in {origin}"),
                });
            }
            (Some(slot), value) => *slot = value,
        }
    }
    Ok(())
}

fn apply_env(table: &mut toml::Table, var: &str, raw: &str) -> Result<(), ConfigError> {
    let path: Vec<String> = var[ENV_PREFIX.len()..]
        .split("__")
        .map(str::to_ascii_lowercase)
        .collect();
    if path.len() < 2 || path.iter().any(String::is_empty) {
        return Err(ConfigError::Env {
            var: var.into(),
            message: "expected ONEONONE__SECTION__KEY".into(),
        });
    }
    // Read the value as TOML (numbers, booleans, arrays); anything else is a plain string.
    let value = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let mut nested = value;
    for key in path.iter().rev() {
        let mut t = toml::Table::new();
        t.insert(key.clone(), nested);
        nested = toml::Value::Table(t);
    }
    let toml::Value::Table(user) = nested else {
        unreachable!("built as a table above")
    };
    merge(table, user, "", &format!("environment variable {var}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(file: Option<&str>, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = file.map(|text| {
            let p = dir.path().join("user.toml");
            std::fs::write(&p, text).unwrap();
            p
        });
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(&Sources { file: path, env })
    }

    #[test]
    fn defaults_load_and_match_documented_values() {
        let c = Config::defaults();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database.url.expose(), "sqlite://data/oneonone.db");
        assert_eq!(c.sync.interval_secs, 60);
        assert_eq!(c.agenda.lookahead_days, 8);
        assert_eq!(c.detect.max_length_minutes, 90);
        // The documented default list is the one detection uses without a config.
        assert_eq!(c.detect.notetakers, crate::detect::DEFAULT_NOTETAKERS);
        assert_eq!(c.agenda.when_notetaker, WhenNotetaker::Write);
    }

    #[test]
    fn when_notetaker_and_notetakers_are_read_and_checked() {
        let c = load(
            Some(
                "[agenda]\nwhen_notetaker = \"skip\"\n[detect]\nnotetakers = [\"*@bot.example\"]\n",
            ),
            &[],
        )
        .unwrap();
        assert_eq!(c.agenda.when_notetaker, WhenNotetaker::Skip);
        assert_eq!(c.detect.notetakers, ["*@bot.example"]);
        let err = load(Some("[agenda]\nwhen_notetaker = \"later\"\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("when_notetaker"), "{err}");
        let err = load(Some("[detect]\nnotetakers = [\"/(bot/\"]\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("detect.notetakers"), "{err}");
        let err = load(Some("[detect]\nnotetakers = [\" \"]\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("detect.notetakers[0]"), "{err}");
    }

    #[test]
    fn user_file_overrides_defaults_and_env_overrides_file() {
        let c = load(
            Some("[server]\nlisten = \"0.0.0.0:9000\"\n[sync]\ninterval_secs = 30\n"),
            &[("ONEONONE__SYNC__INTERVAL_SECS", "15"), ("UNRELATED", "x")],
        )
        .unwrap();
        assert_eq!(c.server.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.sync.interval_secs, 15);
    }

    #[test]
    fn env_value_that_is_not_toml_is_a_string() {
        let c = load(
            None,
            &[("ONEONONE__DATABASE__URL", "postgres://u@db.internal:5433/x")],
        )
        .unwrap();
        assert!(c.database.url.is_postgres());
        assert_eq!(c.database.url.location(), "db.internal:5433");
    }

    #[test]
    fn unknown_key_is_named_with_its_section() {
        let err = load(Some("[server]\nlisten_addr = \"1.2.3.4:1\"\n"), &[]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`server.listen_addr`"), "{msg}");
        assert!(msg.contains("unknown key"), "{msg}");
        let err = load(None, &[("ONEONONE__SYNC__INTERVALL", "3")]).unwrap_err();
        assert!(err.to_string().contains("`sync.intervall`"), "{err}");
    }

    #[test]
    fn bad_value_names_the_key() {
        let err = load(Some("[server]\nlisten = \"not an address\"\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("`server.listen`"), "{err}");
        let err = load(Some("[database]\nurl = \"mysql://x\"\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("`database.url`"), "{err}");
        let err = load(Some("[sync]\njitter = 3.0\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("`sync.jitter`"), "{err}");
        let err = load(Some("[detect]\nexclude_titles = [\"/(unclosed/\"]\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("`detect.exclude_titles`"), "{err}");
        let err = load(Some("[web]\nsession_hours = 0\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("`web.session_hours`"), "{err}");
        let err = load(Some("[web]\ncookie_secure = \"sometimes\"\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("`web.cookie_secure`"), "{err}");
        let err = load(Some("[agenda]\ndefault_timezone = \"Mars/Olympus\"\n"), &[]).unwrap_err();
        assert!(
            err.to_string().contains("`agenda.default_timezone`"),
            "{err}"
        );
    }

    #[test]
    fn syntax_error_names_file_line_and_column() {
        let err = load(
            Some("[server]\nlisten = \"127.0.0.1:1\"\nshutdown_timeout_secs = = 3\n"),
            &[],
        )
        .unwrap_err();
        match err {
            ConfigError::Syntax { line, origin, .. } => {
                assert_eq!(line, 3);
                assert!(origin.ends_with("user.toml"));
            }
            other => panic!("expected a syntax error, got {other}"),
        }
    }

    #[test]
    fn admin_token_never_shows_in_debug() {
        let token = "s3cr3t-token-0123456789abcdef";
        let c = load(None, &[("ONEONONE__SERVER__ADMIN_TOKEN", token)]).unwrap();
        assert!(!format!("{c:?}").contains(token));
    }

    #[test]
    fn a_short_or_made_up_admin_token_is_refused_with_how_to_make_one() {
        for weak in [
            "abc",
            "hunter2hunter2hunter2",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "123412341234123412341234",
            "correct horse battery staple",
        ] {
            let err = load(None, &[("ONEONONE__SERVER__ADMIN_TOKEN", weak)]).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("`server.admin_token`"), "{weak}: {msg}");
            assert!(msg.contains("openssl rand -base64 32"), "{weak}: {msg}");
            assert!(!msg.contains(weak), "the token is not echoed: {msg}");
        }
        // What `openssl rand -base64 32` and `-hex 16` make, and empty (generate one), pass.
        for strong in [
            "3q2+7wAAAP8Q8E9oZ0tF1mVQbq5s1tN2Vb1x0Qk8c9s=",
            "9f86d081884c7d659a2feaa0c55ad015",
            "",
        ] {
            load(None, &[("ONEONONE__SERVER__ADMIN_TOKEN", strong)]).unwrap();
        }
    }

    #[test]
    fn public_url_must_be_an_absolute_http_url_to_build_links_on() {
        for good in [
            "",
            "https://1on1.example.com",
            "http://10.0.0.5:8080/oneonone/",
        ] {
            let c = load(None, &[("ONEONONE__SERVER__PUBLIC_URL", good)]).unwrap();
            assert_eq!(
                c.server.public_base(),
                Some(good.trim_end_matches('/')).filter(|g| !g.is_empty())
            );
        }
        for bad in [
            "oneonone.example.com",
            "/relative",
            "ftp://example.com",
            "https://example.com/?x=1",
            "https://user:pw@example.com",
        ] {
            let err = load(None, &[("ONEONONE__SERVER__PUBLIC_URL", bad)]).unwrap_err();
            assert!(
                err.to_string().contains("`server.public_url`"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_old_google_push_url_is_read_as_public_url_with_a_warning_naming_it() {
        let old = [("ONEONONE__GOOGLE__PUSH_URL", "https://1on1.example.com/")];
        let c = load(None, &old).unwrap();
        assert_eq!(c.server.public_base(), Some("https://1on1.example.com"));
        assert_eq!(
            c.server.public_https_base(),
            Some("https://1on1.example.com")
        );
        assert!(c.google.push_url.is_empty(), "read once, in one place");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].contains("google.push_url")
                && c.warnings[0].contains("server.public_url"),
            "{:?}",
            c.warnings
        );
        // Both set: the new key wins, and the warning says the old one is ignored.
        let c = load(
            Some("[server]\npublic_url = \"https://new.example.com\"\n"),
            &old,
        )
        .unwrap();
        assert_eq!(c.server.public_base(), Some("https://new.example.com"));
        assert!(c.warnings[0].contains("ignored"), "{:?}", c.warnings);
        // The same address twice: only asked to remove the old key.
        let c = load(
            Some("[server]\npublic_url = \"https://1on1.example.com\"\n"),
            &old,
        )
        .unwrap();
        assert!(c.warnings[0].contains("remove it"), "{:?}", c.warnings);
        // Still checked as before: https only.
        let err = load(
            None,
            &[("ONEONONE__GOOGLE__PUSH_URL", "http://x.example.com")],
        )
        .unwrap_err();
        assert!(err.to_string().contains("`google.push_url`"), "{err}");
        assert!(load(None, &[]).unwrap().warnings.is_empty());
    }

    #[test]
    fn links_in_invites_need_an_https_public_url_and_say_why_not() {
        let c = load(None, &[]).unwrap();
        assert!(c.agenda.direct_link_in_invite);
        let why = c.server.link_missing_why().unwrap();
        assert!(why.contains("server.public_url"), "{why}");
        let c = load(
            None,
            &[("ONEONONE__SERVER__PUBLIC_URL", "http://10.0.0.5:8080")],
        )
        .unwrap();
        assert_eq!(c.server.public_https_base(), None);
        assert!(c.server.link_missing_why().unwrap().contains("https"));
        let c = load(
            None,
            &[("ONEONONE__SERVER__PUBLIC_URL", "https://1on1.example.com/")],
        )
        .unwrap();
        assert_eq!(c.server.link_missing_why(), None);
    }

    #[test]
    fn the_nudge_defaults_to_a_day_before_and_zero_turns_it_off() {
        let c = Config::defaults();
        assert_eq!(c.agenda.nudge_before(), Some(chrono::Duration::hours(24)));
        let c = load(Some("[agenda]\nnudge_before_hours = 0\n"), &[]).unwrap();
        assert_eq!(c.agenda.nudge_before(), None);
        let err = load(Some("[agenda]\nnudge_before_hours = -1\n"), &[]).unwrap_err();
        assert!(err.to_string().contains("nudge_before_hours"), "{err}");
    }

    #[test]
    fn database_password_never_shows_in_debug_or_display() {
        let c = load(
            None,
            &[("ONEONONE__DATABASE__URL", "postgres://u:hunter2@h:5432/d")],
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.database.url.to_string().contains("hunter2"));
    }

    #[test]
    fn embedded_default_file_documents_every_key() {
        // Each key line must be preceded by a comment line (the promise of config/default.toml).
        let lines: Vec<&str> = DEFAULT_TOML.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with('[') {
                continue;
            }
            assert!(
                lines[..i]
                    .iter()
                    .rev()
                    .take_while(|l| !l.trim().is_empty())
                    .any(|l| l.trim().starts_with('#')),
                "key without a comment: {t}"
            );
        }
    }

    #[test]
    fn block_budget_and_link_limits_name_their_key() {
        for (file, key) in [
            (
                "[agenda]\nmax_block_bytes = 100\n",
                "agenda.max_block_bytes",
            ),
            (
                "[web]\ndirect_topics_max_open = 0\n",
                "web.direct_topics_max_open",
            ),
            (
                "[web]\ndirect_link_posts_per_minute = 0\n",
                "web.direct_link_posts_per_minute",
            ),
        ] {
            let err = load(Some(file), &[]).unwrap_err();
            assert!(
                err.to_string().contains(&format!("`{key}`")),
                "{file}: {err}"
            );
        }
    }
}
