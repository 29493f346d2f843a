-- Connecting an account writes nothing (DESIGN.md guarantee 12): its passes are previews (import
-- and detection, no calendar write) until the person starts it (`sync --once`, `run`, or
-- "Start" on the web page), which sets this. NULL: waiting to be started.
ALTER TABLE accounts ADD COLUMN writing_started_at TEXT;
-- Every account connected before this column existed was already writing: it counts as started.
UPDATE accounts SET writing_started_at = created_at;
