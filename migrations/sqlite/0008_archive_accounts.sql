-- Issue 24: removing an account archives it. Its series, history, items and notes stay readable,
-- and connecting the same calendar again brings them back; only `accounts remove --purge` deletes.
-- An archived account is `disabled` (no pass claims it), has no credentials and no cached events.
ALTER TABLE accounts ADD COLUMN archived_at TEXT;
