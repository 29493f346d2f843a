//! A Google Calendar API v3 test server (axum, in-process, on 127.0.0.1:0), behaving as Google's
//! documentation says: events.list with paging and sync tokens (changes only, deletions as
//! `cancelled`, 410 `fullSyncRequired` on a token it invalidated, 400 for parameters not allowed
//! with `syncToken`), masters + exceptions with `singleEvents=false`, events.instances with their
//! own ids and `originalStartTime`, events.get, PATCH with `If-Match` (412 `conditionNotMet`) and a
//! new etag on every change (patching an instance creates an exception), rate limits on demand,
//! and edits "as a person would in the web UI".
//!
//! It validates every request (method, path, query parameter names, types, enums, repeats) and
//! every request and response body against the discovery document `calendar.v3.json`, recording
//! each violation; tests call `assert_clean()`. It counts requests per bearer token.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use url::Url;

/// Google's documented page-size limit for events.list.
const MAX_PAGE: usize = 2500;
const DEFAULT_PAGE: usize = 250;

// ---------------------------------------------------------------------------------------------
// The discovery document and the validator.

pub struct Discovery {
    doc: Value,
}

impl Discovery {
    pub fn load() -> Self {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/google/calendar.v3.json"
        );
        let text = std::fs::read_to_string(path).expect("read calendar.v3.json");
        let doc: Value = serde_json::from_str(&text).expect("calendar.v3.json is JSON");
        assert!(doc["schemas"]["Event"].is_object(), "no schemas.Event");
        assert!(doc["resources"]["events"]["methods"]["list"].is_object());
        Self { doc }
    }

    /// A method by name: `list` (an events method) or `calendarList.list` (another resource's).
    fn method(&self, name: &str) -> &Value {
        let (resource, method) = name.split_once('.').unwrap_or(("events", name));
        &self.doc["resources"][resource]["methods"][method]
    }

    /// Finds the method a request addresses from its HTTP method and path (relative to the
    /// service path), by the discovery document's own path templates: events methods by their
    /// name (`list`), the others as `resource.method`.
    pub fn route(&self, http: &str, segments: &[String]) -> Option<String> {
        let resources = self.doc["resources"].as_object()?;
        let events = resources.get("events").into_iter().map(|r| ("events", r));
        let others = resources
            .iter()
            .filter(|(k, _)| *k != "events")
            .map(|(k, r)| (k.as_str(), r));
        events.chain(others).find_map(|(resource, r)| {
            r["methods"].as_object()?.iter().find_map(|(name, m)| {
                (m["httpMethod"].as_str()? == http).then_some(())?;
                let tpl: Vec<&str> = m["path"].as_str()?.split('/').collect();
                (tpl.len() == segments.len()).then_some(())?;
                let ok = tpl
                    .iter()
                    .zip(segments)
                    .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s);
                ok.then(|| {
                    if resource == "events" {
                        name.clone()
                    } else {
                        format!("{resource}.{name}")
                    }
                })
            })
        })
    }

    /// Checks query parameters: known names (method or global), location `query`, values of the
    /// declared type/format/enum/range, no repeats unless `repeated`, required ones present.
    pub fn check_query(&self, method: &str, pairs: &[(String, String)], out: &mut Vec<String>) {
        let params = self.method(method)["parameters"].as_object();
        let globals = self.doc["parameters"].as_object();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (k, v) in pairs {
            *counts.entry(k).or_default() += 1;
            let p = params
                .and_then(|p| p.get(k))
                .or_else(|| globals.and_then(|g| g.get(k)));
            let Some(p) = p else {
                out.push(format!(
                    "{method}: query parameter `{k}` is not in the discovery document"
                ));
                continue;
            };
            if p["location"] != "query" {
                out.push(format!(
                    "{method}: `{k}` is a {} parameter, sent in the query",
                    p["location"]
                ));
            }
            check_param(method, k, p, v, out);
        }
        for (k, n) in counts {
            let repeated = params
                .and_then(|p| p.get(k))
                .is_some_and(|p| p["repeated"] == true);
            if n > 1 && !repeated {
                out.push(format!(
                    "{method}: `{k}` given {n} times and is not repeated"
                ));
            }
        }
        for (k, p) in params.into_iter().flatten() {
            if p["location"] == "query"
                && p["required"] == true
                && !pairs.iter().any(|(n, _)| n == k)
            {
                out.push(format!("{method}: required query parameter `{k}` missing"));
            }
        }
    }

    /// Checks a JSON value against `schemas.<name>`.
    pub fn check_schema(&self, name: &str, v: &Value, out: &mut Vec<String>) {
        self.check_value(name, &json!({ "$ref": name }), v, out);
    }

    fn check_value(&self, path: &str, schema: &Value, v: &Value, out: &mut Vec<String>) {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            match self.doc["schemas"].get(r) {
                Some(s) => self.check_value(path, s, v, out),
                None => out.push(format!("{path}: unknown schema {r}")),
            }
            return;
        }
        let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
        match ty {
            "object" => {
                let Some(obj) = v.as_object() else {
                    out.push(format!("{path}: expected an object, got {v}"));
                    return;
                };
                let props = schema.get("properties").and_then(Value::as_object);
                let extra = schema.get("additionalProperties");
                for (k, val) in obj {
                    match (props.and_then(|p| p.get(k)), extra) {
                        (Some(s), _) => self.check_value(&format!("{path}.{k}"), s, val, out),
                        (None, Some(a)) => self.check_value(&format!("{path}[{k}]"), a, val, out),
                        (None, None) => out.push(format!(
                            "{path}.{k}: not a property in the discovery document"
                        )),
                    }
                }
            }
            "array" => {
                let Some(items) = v.as_array() else {
                    out.push(format!("{path}: expected an array, got {v}"));
                    return;
                };
                let item_schema = schema.get("items").cloned().unwrap_or(json!({}));
                for (i, it) in items.iter().enumerate() {
                    self.check_value(&format!("{path}[{i}]"), &item_schema, it, out);
                }
            }
            "string" => {
                let Some(s) = v.as_str() else {
                    out.push(format!("{path}: expected a string, got {v}"));
                    return;
                };
                if let Some(e) = check_format(schema.get("format").and_then(Value::as_str), s) {
                    out.push(format!("{path}: {e}"));
                }
                if let Some(values) = schema.get("enum").and_then(Value::as_array)
                    && !values.iter().any(|x| x == s)
                {
                    out.push(format!("{path}: `{s}` is not one of {values:?}"));
                }
            }
            "integer" => match v.as_i64() {
                None => out.push(format!("{path}: expected an integer, got {v}")),
                Some(n) if schema["format"] == "int32" && i32::try_from(n).is_err() => {
                    out.push(format!("{path}: {n} is out of int32 range"))
                }
                Some(_) => {}
            },
            "number" if !v.is_number() => out.push(format!("{path}: expected a number, got {v}")),
            "boolean" if !v.is_boolean() => {
                out.push(format!("{path}: expected a boolean, got {v}"))
            }
            _ => {}
        }
    }
}

fn check_format(format: Option<&str>, s: &str) -> Option<String> {
    match format {
        Some("date-time") => DateTime::parse_from_rfc3339(s)
            .is_err()
            .then(|| format!("`{s}` is not an RFC 3339 date-time")),
        Some("date") => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .is_err()
            .then(|| format!("`{s}` is not a yyyy-mm-dd date")),
        Some("int64") => s
            .parse::<i64>()
            .is_err()
            .then(|| format!("`{s}` is not an int64")),
        Some("uint64") => s
            .parse::<u64>()
            .is_err()
            .then(|| format!("`{s}` is not a uint64")),
        _ => None,
    }
}

fn check_param(method: &str, k: &str, p: &Value, v: &str, out: &mut Vec<String>) {
    let bad = |what: String| format!("{method}: `{k}={v}`: {what}");
    match p["type"].as_str().unwrap_or("string") {
        "boolean" if v != "true" && v != "false" => out.push(bad("not a boolean".into())),
        "integer" => match v.parse::<i64>() {
            Err(_) => out.push(bad("not an integer".into())),
            Ok(n) => {
                if p["format"] == "int32" && i32::try_from(n).is_err() {
                    out.push(bad("out of int32 range".into()));
                }
                let bound = |key: &str| p[key].as_str().and_then(|b| b.parse::<i64>().ok());
                if bound("minimum").is_some_and(|m| n < m) {
                    out.push(bad("below the documented minimum".into()));
                }
                if bound("maximum").is_some_and(|m| n > m) {
                    out.push(bad("above the documented maximum".into()));
                }
            }
        },
        "string" => {
            if let Some(e) = check_format(p["format"].as_str(), v) {
                out.push(bad(e));
            }
            if let Some(values) = p["enum"].as_array()
                && !values.iter().any(|x| x == v)
            {
                out.push(bad(format!("not one of {values:?}")));
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// The server.

/// Failures the next API requests answer with, in order.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 403 with `reason` (`rateLimitExceeded`, `userRateLimitExceeded`, `quotaExceeded`).
    Forbidden403(&'static str),
    /// 429, with `Retry-After: <secs>` when given.
    TooMany429(Option<u64>),
    /// A 5xx answer.
    Server(u16),
    /// A 200 whose body is not what the documentation says (a broken proxy, a truncated answer).
    Garbage(&'static str),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub token: Option<String>,
    pub if_match: Option<String>,
}

struct Cal {
    time_zone: String,
    events: Vec<Value>,
    /// Event id -> the change number of its last modification.
    changed: HashMap<String, u64>,
    seq: u64,
    /// Bumped to invalidate every sync token handed out so far.
    epoch: u64,
}

struct Page {
    method: String,
    query: Vec<(String, String)>,
    items: Vec<Value>,
    next_sync_token: Option<String>,
    page_size: usize,
}

struct St {
    disc: Discovery,
    cals: HashMap<String, Cal>,
    etags: u64,
    clock: DateTime<Utc>,
    pages: HashMap<String, Page>,
    faults: VecDeque<Fault>,
    violations: Vec<String>,
    requests: Vec<Recorded>,
    by_token: HashMap<String, u64>,
    rejected_tokens: HashSet<String>,
    /// Sync token -> the parameters of the listing that handed it out.
    token_params: HashMap<String, Vec<(String, String)>>,
    /// A person's edit that lands just before the next PATCH is applied (a concurrent edit).
    edit_before_patch: Option<(String, String, String)>,
    /// Push channels opened with events.watch (the request bodies).
    channels: Vec<Value>,
    /// Ids of the channels stopped with channels.stop.
    stopped: Vec<String>,
    /// How long channels live, when shorter than asked (Google may grant less than the ttl).
    channel_life: Option<i64>,
}

/// The id Google gives the primary calendar: its owner's address (`primary` is an alias).
pub const PRIMARY_ID: &str = "alice@example.com";

#[derive(Clone)]
pub struct GoogleServer {
    pub addr: std::net::SocketAddr,
    st: Arc<Mutex<St>>,
}

fn err(status: u16, reason: &str, message: &str) -> Response {
    let body = json!({"error": {"code": status, "message": message,
        "errors": [{"domain": "global", "reason": reason, "message": message}]}});
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn decode(seg: &str) -> String {
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(x) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(x);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The form a cancelled exception or deleted event takes in listings.
fn minimal(ev: &Value) -> Value {
    let mut m = serde_json::Map::new();
    for k in [
        "kind",
        "etag",
        "id",
        "status",
        "recurringEventId",
        "originalStartTime",
    ] {
        if let Some(v) = ev.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    Value::Object(m)
}

fn is_cancelled(ev: &Value) -> bool {
    ev["status"] == "cancelled"
}

/// (instant, zone) of an EventDateTime with dateTime.
fn instant(t: &Value) -> Option<(DateTime<Utc>, Tz)> {
    let at = DateTime::parse_from_rfc3339(t["dateTime"].as_str()?)
        .ok()?
        .to_utc();
    let tz = t["timeZone"]
        .as_str()
        .and_then(|z| z.parse().ok())
        .unwrap_or(Tz::UTC);
    Some((at, tz))
}

fn edt(at: DateTime<Utc>, tz: Tz) -> Value {
    json!({"dateTime": at.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, true),
           "timeZone": tz.name()})
}

fn instance_id(master: &str, original: DateTime<Utc>) -> String {
    format!("{master}_{}", original.format("%Y%m%dT%H%M%SZ"))
}

impl St {
    fn next_etag(&mut self) -> String {
        self.etags += 1;
        format!("\"{}\"", 3_181_161_784_712_000u64 + self.etags)
    }

    fn tick(&mut self) -> String {
        self.clock += chrono::Duration::seconds(1);
        rfc3339(self.clock)
    }

    fn cal(&mut self, id: &str) -> Option<&mut Cal> {
        self.cals.get_mut(id)
    }

    fn find(&self, cal: &str, id: &str) -> Option<Value> {
        self.cals
            .get(cal)?
            .events
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
    }

    /// Stores `ev` (replacing the event with its id), with a new etag and change number.
    fn store(&mut self, cal: &str, mut ev: Value) -> Value {
        let etag = self.next_etag();
        let now = self.tick();
        ev["etag"] = json!(etag);
        ev["updated"] = json!(now);
        let c = self.cals.get_mut(cal).expect("calendar exists");
        c.seq += 1;
        let id = ev["id"].as_str().unwrap_or_default().to_string();
        c.changed.insert(id.clone(), c.seq);
        match c.events.iter_mut().find(|e| e["id"] == id.as_str()) {
            Some(slot) => *slot = ev.clone(),
            None => c.events.push(ev.clone()),
        }
        ev
    }

    /// The instances of `master` whose span meets [min, max), exceptions applied.
    fn expand(
        &self,
        cal: &str,
        master: &Value,
        min: DateTime<Utc>,
        max: DateTime<Utc>,
        show_deleted: bool,
    ) -> Result<Vec<Value>, String> {
        let (start, tz) =
            instant(&master["start"]).ok_or("the test server expands timed events only")?;
        let (end, _) = instant(&master["end"]).ok_or("master without end.dateTime")?;
        let len = end - start;
        let local = start.with_timezone(&tz).naive_local();
        let mut text = format!(
            "DTSTART;TZID={}:{}",
            tz.name(),
            local.format("%Y%m%dT%H%M%S")
        );
        for line in master["recurrence"].as_array().into_iter().flatten() {
            text.push('\n');
            text.push_str(line.as_str().unwrap_or_default());
        }
        let set: rrule::RRuleSet = text.parse().map_err(|e| format!("recurrence: {e}"))?;
        let rtz = rrule::Tz::Tz(tz);
        let after = (min - len - chrono::Duration::seconds(1)).with_timezone(&rtz);
        let before = max.with_timezone(&rtz);
        let starts = set.after(after).before(before).all(2000).dates;
        let mid = master["id"].as_str().unwrap_or_default();
        let mut out = Vec::new();
        for s in starts {
            let s = s.with_timezone(&Utc);
            if !(s < max && s + len > min) {
                continue;
            }
            let id = instance_id(mid, s);
            if let Some(ex) = self.find(cal, &id) {
                if is_cancelled(&ex) {
                    if show_deleted {
                        out.push(ex);
                    }
                } else {
                    out.push(ex);
                }
                continue;
            }
            out.push(self.synthesize(master, s, len, tz));
        }
        Ok(out)
    }

    fn synthesize(&self, master: &Value, s: DateTime<Utc>, len: chrono::Duration, tz: Tz) -> Value {
        let mut inst = master.clone();
        let obj = inst.as_object_mut().expect("event object");
        obj.remove("recurrence");
        let mid = master["id"].as_str().unwrap_or_default();
        obj.insert("id".into(), json!(instance_id(mid, s)));
        obj.insert("recurringEventId".into(), json!(mid));
        obj.insert("originalStartTime".into(), edt(s, tz));
        obj.insert("start".into(), edt(s, tz));
        obj.insert("end".into(), edt(s + len, tz));
        inst
    }

    /// An event by id, or the instance an instance id names (synthesized when no exception
    /// exists): (event, is_new_exception).
    fn resolve(&self, cal: &str, id: &str) -> Option<(Value, bool)> {
        if let Some(e) = self.find(cal, id) {
            return Some((e, false));
        }
        let (mid, suffix) = id.rsplit_once('_')?;
        let at = chrono::NaiveDateTime::parse_from_str(suffix, "%Y%m%dT%H%M%SZ").ok()?;
        let at = Utc.from_utc_datetime(&at);
        let master = self.find(cal, mid)?;
        if is_cancelled(&master) {
            return None;
        }
        let inst = self
            .expand(cal, &master, at, at + chrono::Duration::seconds(1), true)
            .ok()?
            .into_iter()
            .find(|e| e["id"] == id)?;
        Some((inst, true))
    }
}

impl GoogleServer {
    pub async fn start() -> Self {
        let st = St {
            disc: Discovery::load(),
            cals: HashMap::new(),
            etags: 0,
            clock: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            pages: HashMap::new(),
            faults: VecDeque::new(),
            violations: Vec::new(),
            requests: Vec::new(),
            by_token: HashMap::new(),
            rejected_tokens: HashSet::new(),
            token_params: HashMap::new(),
            edit_before_patch: None,
            channels: Vec::new(),
            stopped: Vec::new(),
            channel_life: None,
        };
        let st = Arc::new(Mutex::new(st));
        let app = Router::new().fallback(handle).with_state(st.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let s = Self { addr, st };
        s.add_calendar("primary", "Europe/Berlin");
        s
    }

    /// The API base a client is given (`.../calendar/v3/`).
    pub fn api_base(&self) -> Url {
        Url::parse(&format!("http://{}/calendar/v3/", self.addr)).unwrap()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, St> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_calendar(&self, id: &str, time_zone: &str) {
        self.lock().cals.insert(
            id.into(),
            Cal {
                time_zone: time_zone.into(),
                events: vec![],
                changed: HashMap::new(),
                seq: 0,
                epoch: 1,
            },
        );
    }

    /// Adds an event as Google would store it (kind, etag, iCalUID, timestamps filled in). The
    /// result is checked against `schemas.Event`.
    pub fn insert(&self, cal: &str, mut ev: Value) -> Value {
        let mut st = self.lock();
        let id = ev["id"].as_str().expect("an id").to_string();
        let now = rfc3339(st.clock);
        let o = ev.as_object_mut().expect("an object");
        o.entry("kind").or_insert(json!("calendar#event"));
        o.entry("status").or_insert(json!("confirmed"));
        o.entry("iCalUID")
            .or_insert(json!(format!("{id}@google.com")));
        o.entry("created").or_insert(json!(now));
        o.entry("sequence").or_insert(json!(0));
        o.entry("eventType").or_insert(json!("default"));
        o.entry("htmlLink").or_insert(json!(format!(
            "https://www.google.com/calendar/event?eid={id}"
        )));
        let ev = st.store(cal, ev);
        let mut v = Vec::new();
        st.disc.check_schema("Event", &ev, &mut v);
        assert!(v.is_empty(), "test fixture is not a valid Event: {v:?}");
        ev
    }

    /// A person edits the description in Google's web UI (which writes HTML); an instance id
    /// makes an exception, as "this event only" does.
    pub fn web_edit_description(&self, cal: &str, id: &str, html: &str) -> Value {
        self.web_edit(cal, id, |e| e["description"] = json!(html))
    }

    /// A person changes an event (or one instance) in the web UI.
    pub fn web_edit(&self, cal: &str, id: &str, f: impl FnOnce(&mut Value)) -> Value {
        let mut st = self.lock();
        let (mut ev, _) = st.resolve(cal, id).expect("event or instance exists");
        f(&mut ev);
        st.store(cal, ev)
    }

    /// Deletes an event: it stays, as `cancelled`, for sync tokens to report.
    pub fn delete(&self, cal: &str, id: &str) {
        self.web_edit(cal, id, |e| e["status"] = json!("cancelled"));
    }

    /// Every sync token handed out for `cal` becomes invalid (410 on next use).
    pub fn invalidate_sync_tokens(&self, cal: &str) {
        self.lock().cal(cal).expect("calendar").epoch += 1;
    }

    /// Just before the next PATCH is applied, a person sets the description of `id` (an
    /// instance id makes an exception) to `html`: the edit lands between the client's read and
    /// its write.
    pub fn edit_before_next_patch(&self, cal: &str, id: &str, html: &str) {
        self.lock().edit_before_patch = Some((cal.into(), id.into(), html.into()));
    }

    /// The push channels opened so far (events.watch request bodies: id, address, token...).
    pub fn channels(&self) -> Vec<Value> {
        self.lock().channels.clone()
    }

    /// Channels opened from now on live `secs` seconds, whatever the client asked for.
    pub fn set_channel_life(&self, secs: i64) {
        self.lock().channel_life = Some(secs);
    }

    /// Ids of the channels stopped so far.
    pub fn stopped_channels(&self) -> Vec<String> {
        self.lock().stopped.clone()
    }

    pub fn push_fault(&self, f: Fault) {
        self.lock().faults.push_back(f);
    }

    /// Answers 401 to this bearer token from now on.
    pub fn reject_token(&self, token: &str) {
        self.lock().rejected_tokens.insert(token.into());
    }

    pub fn event(&self, cal: &str, id: &str) -> Option<Value> {
        self.lock().find(cal, id)
    }

    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// Fails the test on any violation of the discovery document seen so far.
    pub fn assert_clean(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "requests or answers that break calendar.v3.json:\n{}",
            v.join("\n")
        );
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Requests made with this bearer token.
    pub fn requests_by(&self, token: &str) -> u64 {
        self.lock().by_token.get(token).copied().unwrap_or(0)
    }
}

async fn handle(
    State(st): State<Arc<Mutex<St>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = st.lock().unwrap_or_else(|e| e.into_inner());
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    st.requests.push(Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: query.clone(),
        token: token.clone(),
        if_match: if_match.clone(),
    });
    let Some(rest) = uri.path().strip_prefix("/calendar/v3/") else {
        st.violations.push(format!(
            "{method} {}: outside the service path /calendar/v3/",
            uri.path()
        ));
        return err(404, "notFound", "Not Found");
    };
    let segments: Vec<String> = rest.split('/').map(decode).collect();
    let Some(name) = st.disc.route(method.as_str(), &segments) else {
        st.violations.push(format!(
            "{method} {}: no such method in calendar.v3.json",
            uri.path()
        ));
        return err(404, "notFound", "Not Found");
    };
    let mut v = Vec::new();
    st.disc.check_query(&name, &query, &mut v);
    st.violations.extend(v);
    let Some(tok) = token else {
        st.violations
            .push(format!("{method} {}: no bearer token", uri.path()));
        return err(401, "required", "Login Required.");
    };
    *st.by_token.entry(tok.clone()).or_default() += 1;
    if st.rejected_tokens.contains(&tok) {
        return err(401, "authError", "Invalid Credentials");
    }
    if let Some(f) = st.faults.pop_front() {
        return match f {
            Fault::Forbidden403(reason) => err(403, reason, "Rate Limit Exceeded"),
            Fault::TooMany429(after) => {
                let mut r = err(429, "rateLimitExceeded", "Too Many Requests");
                if let Some(s) = after {
                    r.headers_mut()
                        .insert(header::RETRY_AFTER, s.to_string().parse().unwrap());
                }
                r
            }
            Fault::Server(code) => err(code, "backendError", "Backend Error"),
            Fault::Garbage(body) => (StatusCode::OK, body.to_string()).into_response(),
        };
    }
    if name == "calendarList.list" {
        return calendar_list(&mut st);
    }
    if name == "channels.stop" {
        return stop_channel(&mut st, &body);
    }
    let cal = match segments[1].as_str() {
        PRIMARY_ID => "primary".to_string(),
        other => other.to_string(),
    };
    if !st.cals.contains_key(&cal) {
        return err(404, "notFound", "Not Found");
    }
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    match name.as_str() {
        "list" => list(&mut st, &cal, &query),
        "instances" => instances(&mut st, &cal, &segments[3], &query),
        "get" => match st.resolve(&cal, &segments[3]) {
            Some((ev, _)) => respond(&mut st, "Event", ev),
            None => err(404, "notFound", "Not Found"),
        },
        "patch" => {
            if let Some((c, id, html)) = st.edit_before_patch.take() {
                let (mut ev, _) = st.resolve(&c, &id).expect("event or instance exists");
                ev["description"] = json!(html);
                st.store(&c, ev);
            }
            patch(
                &mut st,
                &cal,
                &segments[3],
                if_match,
                q("sendUpdates"),
                &body,
            )
        }
        "watch" => watch(&mut st, &cal, &body),
        other => {
            st.violations.push(format!(
                "{other}: the client called a method it should not need"
            ));
            err(501, "notImplemented", "not implemented by the test server")
        }
    }
}

/// events.watch: opens a channel as Google does (the address must be https), answering with its
/// `resourceId` and an expiry `params.ttl` seconds from now (real time, as Google's).
fn watch(st: &mut St, cal: &str, body: &[u8]) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        st.violations.push("watch: the body is not JSON".into());
        return err(400, "parseError", "Parse Error");
    };
    let mut v = Vec::new();
    st.disc.check_schema("Channel", &req, &mut v);
    st.violations
        .extend(v.into_iter().map(|e| format!("watch body: {e}")));
    let address = req["address"].as_str().unwrap_or_default();
    if !address.starts_with("https://")
        || !matches!(req["type"].as_str(), Some("web_hook" | "webhook"))
    {
        return err(
            400,
            "push.webhookUrlNotHttps",
            "WebHook callback must be HTTPS",
        );
    }
    let ttl: i64 = req["params"]["ttl"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(604_800);
    let life = st.channel_life.unwrap_or(ttl).min(2_592_000);
    let expiration = Utc::now() + chrono::Duration::seconds(life);
    st.channels.push(req.clone());
    let answer = json!({"kind": "api#channel", "id": req["id"], "resourceId": format!("res-{cal}"),
        "resourceUri": format!("https://www.googleapis.com/calendar/v3/calendars/{cal}/events"),
        "expiration": expiration.timestamp_millis().to_string()});
    respond(st, "Channel", answer)
}

/// channels.stop: the body names a channel this server opened (id and resourceId).
fn stop_channel(st: &mut St, body: &[u8]) -> Response {
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut v = Vec::new();
    st.disc.check_schema("Channel", &req, &mut v);
    st.violations
        .extend(v.into_iter().map(|e| format!("channels.stop body: {e}")));
    let id = req["id"].as_str().unwrap_or_default().to_string();
    let known = st.channels.iter().any(|c| c["id"] == id.as_str());
    if !known || req["resourceId"].as_str().is_none() {
        return err(404, "notFound", "Channel not found");
    }
    st.stopped.push(id);
    StatusCode::NO_CONTENT.into_response()
}

/// calendarList.list: the primary calendar under its real id, and every other calendar.
fn calendar_list(st: &mut St) -> Response {
    let mut ids: Vec<&String> = st.cals.keys().collect();
    ids.sort();
    let items: Vec<Value> = ids
        .into_iter()
        .map(|id| {
            let c = &st.cals[id];
            let (real, primary) = if id == "primary" {
                (PRIMARY_ID, true)
            } else {
                (id.as_str(), false)
            };
            let mut e = json!({"kind": "calendar#calendarListEntry", "etag": "\"1\"",
                "id": real, "summary": real, "timeZone": c.time_zone, "accessRole": "owner",
                "defaultReminders": []});
            if primary {
                e["primary"] = json!(true);
            }
            e
        })
        .collect();
    let body = json!({"kind": "calendar#calendarList", "etag": "\"1\"", "items": items});
    respond(st, "CalendarList", body)
}

/// Sends `v` after checking it against `schemas.<schema>`.
fn respond(st: &mut St, schema: &str, v: Value) -> Response {
    let mut out = Vec::new();
    st.disc.check_schema(schema, &v, &mut out);
    st.violations
        .extend(out.into_iter().map(|e| format!("answer: {e}")));
    (StatusCode::OK, axum::Json(v)).into_response()
}

/// Parameters Google refuses together with `syncToken` (guides/sync).
const NOT_WITH_SYNC_TOKEN: [&str; 8] = [
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
];

fn page_size(st: &mut St, query: &[(String, String)]) -> usize {
    let n = query
        .iter()
        .find(|(k, _)| k == "maxResults")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(DEFAULT_PAGE);
    if n > MAX_PAGE {
        st.violations.push(format!(
            "maxResults={n}: above Google's documented maximum of {MAX_PAGE}"
        ));
    }
    n.clamp(1, MAX_PAGE)
}

fn events_envelope(st: &St, cal: &str) -> Value {
    let tz = st.cals[cal].time_zone.clone();
    json!({"kind": "calendar#events", "etag": format!("\"p{}\"", st.etags), "summary": cal,
           "updated": rfc3339(st.clock), "timeZone": tz, "accessRole": "owner",
           "defaultReminders": []})
}

/// Serves the next page of `items` (paging state kept under a fresh page token).
fn serve_pages(
    st: &mut St,
    cal: &str,
    method: &str,
    query: &[(String, String)],
    mut items: Vec<Value>,
    next_sync_token: Option<String>,
    size: usize,
) -> Response {
    let mut body = events_envelope(st, cal);
    if items.len() > size {
        let rest = items.split_off(size);
        let token = uuid::Uuid::new_v4().simple().to_string();
        st.pages.insert(
            token.clone(),
            Page {
                method: method.into(),
                query: query
                    .iter()
                    .filter(|(k, _)| k != "pageToken")
                    .cloned()
                    .collect(),
                items: rest,
                next_sync_token,
                page_size: size,
            },
        );
        body["nextPageToken"] = json!(token);
    } else if let Some(t) = next_sync_token {
        // Google requires every later request with this token to repeat these parameters.
        let same: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "pageToken" | "syncToken" | "maxResults"))
            .cloned()
            .collect();
        st.token_params.insert(t.clone(), same);
        body["nextSyncToken"] = json!(t);
    }
    body["items"] = Value::Array(items);
    respond(st, "Events", body)
}

fn continue_paging(
    st: &mut St,
    cal: &str,
    method: &str,
    query: &[(String, String)],
    token: &str,
) -> Response {
    let Some(page) = st.pages.remove(token) else {
        return err(400, "invalid", "Invalid pageToken");
    };
    let same: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| k != "pageToken")
        .cloned()
        .collect();
    if page.method != method || page.query != same {
        st.violations.push(format!(
            "{method}: page request with parameters {same:?} differing from the first page's {:?}",
            page.query
        ));
        return err(400, "invalid", "Page token used with different parameters");
    }
    serve_pages(
        st,
        cal,
        method,
        query,
        page.items,
        page.next_sync_token,
        page.page_size,
    )
}

fn list(st: &mut St, cal: &str, query: &[(String, String)]) -> Response {
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if let Some(p) = q("pageToken") {
        return continue_paging(st, cal, "list", query, &p);
    }
    let size = page_size(st, query);
    let show_deleted = q("showDeleted").as_deref() == Some("true");
    if q("singleEvents").as_deref() == Some("true") {
        st.violations
            .push("list: singleEvents=true: the client is to list masters and exceptions".into());
    }
    let c = &st.cals[cal];
    let (items, token) = match q("syncToken") {
        Some(tok) => {
            let c = &st.cals[cal];
            if let Some(bad) = NOT_WITH_SYNC_TOKEN.iter().find(|k| q(k).is_some()) {
                return err(
                    400,
                    "invalid",
                    &format!("{bad} cannot be used with syncToken"),
                );
            }
            let now: Vec<(String, String)> = query
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "pageToken" | "syncToken" | "maxResults"))
                .cloned()
                .collect();
            if let Some(then) = st.token_params.get(&tok)
                && *then != now
            {
                st.violations.push(format!(
                    "list: syncToken used with parameters {now:?}, not those of the listing that \
                     gave it {then:?}"
                ));
            }
            let parsed = tok
                .strip_prefix("sync-")
                .and_then(|t| t.split_once('-'))
                .and_then(|(e, s)| Some((e.parse::<u64>().ok()?, s.parse::<u64>().ok()?)));
            let Some((epoch, since)) = parsed else {
                return err(400, "invalid", "Invalid sync token value.");
            };
            if epoch != c.epoch {
                return err(
                    410,
                    "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                );
            }
            let mut changed: Vec<(u64, Value)> = c
                .events
                .iter()
                .filter_map(|e| {
                    let n = *c.changed.get(e["id"].as_str()?)?;
                    (n > since).then(|| {
                        (
                            n,
                            if is_cancelled(e) {
                                minimal(e)
                            } else {
                                e.clone()
                            },
                        )
                    })
                })
                .collect();
            changed.sort_by_key(|(n, _)| *n);
            (
                changed.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
                format!("sync-{}-{}", c.epoch, c.seq),
            )
        }
        None => {
            if q("timeMin").is_some() || q("timeMax").is_some() || q("q").is_some() {
                st.violations
                    .push("list: filters the test server does not implement".into());
            }
            // singleEvents=false and showDeleted=false: cancelled exceptions are still listed
            // (the events.list reference on showDeleted); deleted masters are not.
            let items = c
                .events
                .iter()
                .filter(|e| !is_cancelled(e) || show_deleted || e.get("recurringEventId").is_some())
                .map(|e| {
                    if is_cancelled(e) {
                        minimal(e)
                    } else {
                        e.clone()
                    }
                })
                .collect();
            (items, format!("sync-{}-{}", c.epoch, c.seq))
        }
    };
    serve_pages(st, cal, "list", query, items, Some(token), size)
}

fn instances(st: &mut St, cal: &str, id: &str, query: &[(String, String)]) -> Response {
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if let Some(p) = q("pageToken") {
        return continue_paging(st, cal, "instances", query, &p);
    }
    let Some(master) = st.find(cal, id) else {
        return err(404, "notFound", "Not Found");
    };
    if is_cancelled(&master) {
        return err(410, "deleted", "Resource has been deleted");
    }
    if master.get("recurrence").is_none() {
        return err(400, "invalid", "Not a recurring event");
    }
    let t = |k: &str| {
        q(k).and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
            .map(|d| d.to_utc())
    };
    let min = t("timeMin").unwrap_or(DateTime::<Utc>::MIN_UTC);
    let max = t("timeMax").unwrap_or_else(|| st.clock + chrono::Duration::days(730));
    let show_deleted = q("showDeleted").as_deref() == Some("true");
    let size = page_size(st, query);
    match st.expand(cal, &master, min, max, show_deleted) {
        Ok(items) => {
            let items = items
                .into_iter()
                .map(|e| if is_cancelled(&e) { minimal(&e) } else { e })
                .collect();
            serve_pages(st, cal, "instances", query, items, None, size)
        }
        Err(e) => {
            st.violations.push(format!("instances: {e}"));
            err(500, "backendError", &e)
        }
    }
}

fn patch(
    st: &mut St,
    cal: &str,
    id: &str,
    if_match: Option<String>,
    send_updates: Option<String>,
    body: &[u8],
) -> Response {
    let Ok(patch) = serde_json::from_slice::<Value>(body) else {
        st.violations.push("patch: the body is not JSON".into());
        return err(400, "parseError", "Parse Error");
    };
    let mut v = Vec::new();
    st.disc.check_schema("Event", &patch, &mut v);
    st.violations
        .extend(v.into_iter().map(|e| format!("patch body: {e}")));
    if send_updates.as_deref() != Some("none") {
        st.violations.push(format!(
            "patch of {id} with sendUpdates={send_updates:?}: guests would be mailed"
        ));
    }
    let Some((mut ev, _new_exception)) = st.resolve(cal, id) else {
        return err(404, "notFound", "Not Found");
    };
    if let Some(m) = &if_match
        && ev["etag"].as_str() != Some(m.as_str())
    {
        return err(412, "conditionNotMet", "Precondition Failed");
    }
    for (k, val) in patch.as_object().into_iter().flatten() {
        if matches!(
            k.as_str(),
            "id" | "etag" | "kind" | "recurringEventId" | "iCalUID" | "updated"
        ) {
            continue;
        }
        if val.is_null() {
            ev.as_object_mut().unwrap().remove(k);
        } else {
            ev[k] = val.clone();
        }
    }
    let ev = st.store(cal, ev);
    respond(st, "Event", ev)
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

/// A weekly 30-minute 1:1 between alice (the calendar owner) and `other`, at `start_local` in
/// `tz`, as Google stores a recurring event.
pub fn weekly_one_on_one(id: &str, start_local: &str, tz: &str, other: &str) -> Value {
    let tzz: Tz = tz.parse().unwrap();
    let local = chrono::NaiveDateTime::parse_from_str(start_local, "%Y-%m-%dT%H:%M:%S").unwrap();
    let start = tzz.from_local_datetime(&local).single().unwrap().to_utc();
    json!({
        "id": id,
        "summary": format!("Alice / {other}"),
        "description": "",
        "start": edt(start, tzz),
        "end": edt(start + chrono::Duration::minutes(30), tzz),
        "recurrence": ["RRULE:FREQ=WEEKLY"],
        "organizer": {"email": "alice@example.com", "self": true},
        "creator": {"email": "alice@example.com", "self": true},
        "attendees": [
            {"email": "alice@example.com", "organizer": true, "self": true,
             "responseStatus": "accepted"},
            {"email": format!("{}@example.com", other.to_lowercase()), "displayName": other,
             "responseStatus": "needsAction"}
        ],
        "reminders": {"useDefault": true}
    })
}

/// A single (non-recurring) event.
pub fn single_event(id: &str, start_utc: &str, minutes: i64) -> Value {
    let start = DateTime::parse_from_rfc3339(start_utc).unwrap().to_utc();
    json!({
        "id": id, "summary": format!("event {id}"),
        "start": {"dateTime": rfc3339(start)},
        "end": {"dateTime": rfc3339(start + chrono::Duration::minutes(minutes))},
    })
}
