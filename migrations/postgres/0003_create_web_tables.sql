-- The web pages (issue 9): the admin token generated on first start, sign-in sessions and the
-- direct's links. Only SHA-256 digests of the tokens are kept: a copy of the database does not
-- let anyone sign in or open a direct's link.

-- At most one row: the digest of the admin token generated when `server.admin_token` is empty.
CREATE TABLE web_admin_token (
    id               BIGINT PRIMARY KEY CHECK (id = 1),
    token_hash       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE web_sessions (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash       TEXT NOT NULL UNIQUE,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

-- A series has at most one live link; rotating revokes the old one and inserts a new one.
CREATE TABLE series_links (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id        BIGINT NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    token_hash       TEXT NOT NULL UNIQUE,
    created_at       TIMESTAMPTZ NOT NULL,
    revoked_at       TIMESTAMPTZ
);
CREATE INDEX series_links_series ON series_links (series_id);
