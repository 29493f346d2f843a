-- The whole data model of DESIGN.md. Times are stored as UTC RFC 3339 text (sqlx's chrono mapping).
-- States are checked enums so that no code path can store a state the rest of the code cannot read.

CREATE TABLE accounts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    provider         TEXT NOT NULL CHECK (provider IN ('caldav', 'google')),
    display_name     TEXT NOT NULL,
    -- Non-secret connection settings (server URL, user name, owner addresses) as JSON.
    settings         TEXT NOT NULL DEFAULT '{}',
    -- Password or refresh token, encrypted (see the `secrets` module); never plain text.
    credentials      BLOB,
    state            TEXT NOT NULL DEFAULT 'active'
                     CHECK (state IN ('active', 'needs_reconnect', 'disabled')),
    lease_owner      TEXT,
    lease_expires_at TEXT,
    next_due_at      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    last_success_at  TEXT,
    last_error_at    TEXT,
    last_error_kind  TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX accounts_due ON accounts (state, next_due_at);

CREATE TABLE calendars (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- CalDAV collection URL or Google calendar id.
    remote_id        TEXT NOT NULL,
    display_name     TEXT NOT NULL DEFAULT '',
    timezone         TEXT,
    sync_token       TEXT,
    ctag             TEXT,
    last_full_sync_at TEXT,
    enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    UNIQUE (account_id, remote_id)
);

CREATE TABLE events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    calendar_id      INTEGER NOT NULL REFERENCES calendars (id) ON DELETE CASCADE,
    -- CalDAV resource href or Google event id.
    remote_id        TEXT NOT NULL,
    uid              TEXT NOT NULL,
    recurrence_id    TEXT,
    etag             TEXT,
    payload_hash     TEXT NOT NULL,
    summary          TEXT,
    start_at         TEXT,
    end_at           TEXT,
    status           TEXT NOT NULL DEFAULT 'confirmed'
                     CHECK (status IN ('confirmed', 'tentative', 'cancelled')),
    raw              TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (calendar_id, remote_id)
);
CREATE INDEX events_uid ON events (calendar_id, uid);

CREATE TABLE series (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    calendar_id      INTEGER NOT NULL REFERENCES calendars (id) ON DELETE CASCADE,
    uid              TEXT NOT NULL,
    summary          TEXT NOT NULL DEFAULT '',
    manager_email    TEXT,
    direct_email     TEXT,
    direct_name      TEXT,
    one_on_one       INTEGER NOT NULL DEFAULT 0 CHECK (one_on_one IN (0, 1)),
    -- Whether the calendar owner organizes it: we only write where they do.
    owner_is_organizer INTEGER NOT NULL DEFAULT 1 CHECK (owner_is_organizer IN (0, 1)),
    confidence       REAL NOT NULL DEFAULT 0,
    detection_reason TEXT NOT NULL DEFAULT '',
    override         TEXT NOT NULL DEFAULT 'auto' CHECK (override IN ('auto', 'included', 'excluded')),
    template         TEXT,
    -- The last problem with this series' block (damaged markers...), shown to the user.
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (calendar_id, uid)
);

CREATE TABLE occurrences (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    series_id        INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    -- The start the recurrence rule gives it (its identity, RECURRENCE-ID), UTC.
    original_start   TEXT NOT NULL,
    start_at         TEXT NOT NULL,
    end_at           TEXT NOT NULL,
    remote_id        TEXT,
    status           TEXT NOT NULL DEFAULT 'upcoming'
                     CHECK (status IN ('upcoming', 'held', 'cancelled', 'moved')),
    agenda_hash      TEXT,
    -- The block as we last wrote it (JSON of agenda::RenderedBlock): the base of the three-way
    -- comparison that tells a person's edit from our own text.
    written_block    TEXT,
    -- The final block as it stood when the meeting closed, and its free notes (JSON).
    final_agenda     TEXT,
    notes            TEXT,
    -- What the meeting closed, carried and moved on (JSON), for `oneonone history`.
    summary          TEXT,
    closed_at        TEXT,
    UNIQUE (series_id, original_start),
    -- A closed occurrence is never 'upcoming'.
    CHECK (closed_at IS NULL OR status <> 'upcoming')
);

CREATE TABLE items (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    series_id        INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    section          TEXT NOT NULL CHECK (section IN ('direct', 'manager', 'action')),
    text             TEXT NOT NULL CHECK (length(text) > 0),
    state            TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'dropped')),
    created_in       INTEGER REFERENCES occurrences (id) ON DELETE SET NULL,
    closed_in        INTEGER REFERENCES occurrences (id) ON DELETE SET NULL,
    -- An action item typed in the notes area of the current occurrence (stays there until it closes).
    in_notes         INTEGER NOT NULL DEFAULT 0 CHECK (in_notes IN (0, 1)),
    times_carried    INTEGER NOT NULL DEFAULT 0 CHECK (times_carried >= 0),
    source           TEXT NOT NULL CHECK (source IN ('calendar', 'cli', 'api', 'web')),
    position         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX items_series_state ON items (series_id, state);

CREATE TABLE description_revisions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    series_id        INTEGER REFERENCES series (id) ON DELETE SET NULL,
    occurrence_id    INTEGER REFERENCES occurrences (id) ON DELETE SET NULL,
    calendar_id      INTEGER NOT NULL REFERENCES calendars (id) ON DELETE CASCADE,
    remote_id        TEXT NOT NULL,
    -- The occurrence this description belongs to (UTC), so a restore targets the same instance.
    original_start   TEXT,
    etag_before      TEXT,
    -- The full description we replaced (NULL: there was none), and what we wrote instead.
    description_before TEXT,
    description_after  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    -- Set once the server accepted the write: a revision without it never took effect.
    applied_at       TEXT,
    restored_at      TEXT
);

CREATE TABLE sync_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL for a scheduler pass that found no account due.
    account_id       INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    daemon_id        TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    accounts         INTEGER NOT NULL DEFAULT 0,
    requests         INTEGER NOT NULL DEFAULT 0,
    events_seen      INTEGER NOT NULL DEFAULT 0,
    writes           INTEGER NOT NULL DEFAULT 0,
    conflicts        INTEGER NOT NULL DEFAULT 0,
    outcome          TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'ok', 'failed', 'abandoned')),
    error            TEXT
);
CREATE INDEX sync_runs_account ON sync_runs (account_id, started_at);
CREATE INDEX sync_runs_started ON sync_runs (started_at);
