-- Issue 22: nothing vanishes from the record, "held" is not overstated, times in the event's zone.

-- When and through what an item was closed (ticked, dropped by deleting its line, or closed from
-- the CLI, the API or the web): `updated_at` moves with later edits, and `source` says only where
-- the item came from. Items closed before this migration take their last update as the best
-- evidence of when; how is then unknown, except for those closed in a meeting (the invite).
ALTER TABLE items ADD COLUMN closed_at TEXT;
ALTER TABLE items ADD COLUMN closed_via TEXT CHECK (closed_via IN ('calendar', 'cli', 'api', 'web'));
UPDATE items SET closed_at = updated_at WHERE state <> 'open';
UPDATE items SET closed_via = 'calendar' WHERE state <> 'open' AND closed_in IS NOT NULL;

-- A person's word on whether a meeting took place (`oneonone meeting held|skipped`, the API, the
-- web page's buttons); it wins over everything the calendar says.
ALTER TABLE occurrences ADD COLUMN marked TEXT CHECK (marked IN ('held', 'skipped'));
ALTER TABLE occurrences ADD COLUMN marked_at TEXT;
ALTER TABLE occurrences ADD COLUMN marked_via TEXT CHECK (marked_via IN ('cli', 'api', 'web'));
-- The last time a pass took in a person's change to this occurrence's block (a tick, an edit, a
-- new or deleted line, notes): evidence that the meeting took place when it is after its start.
ALTER TABLE occurrences ADD COLUMN edited_at TEXT;

-- The series' own time zone (IANA name), as its events give it; NULL until a pass sees it (then
-- the calendar's zone, then agenda.default_timezone, are used to show its times).
ALTER TABLE series ADD COLUMN timezone TEXT;
