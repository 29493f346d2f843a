-- Issue 24: a 1:1 survives a new series. When a manager deletes a recurring 1:1 and creates a new
-- one with the same direct, the new series continues the old one: its open items move over and
-- the history reads through to the old meetings. `oneonone series split` undoes it.

-- How often the series meets, as detection read it from its rule: in words ("weekly") and as the
-- typical gap in days (7). Kept because a deleted series' rule is gone from the calendar cache.
ALTER TABLE series ADD COLUMN cadence TEXT;
ALTER TABLE series ADD COLUMN cadence_days DOUBLE PRECISION;
-- The series this one continues, why, and since when (NULL: it continues none).
ALTER TABLE series ADD COLUMN continues_series_id BIGINT REFERENCES series (id) ON DELETE SET NULL;
ALTER TABLE series ADD COLUMN continues_reason TEXT;
ALTER TABLE series ADD COLUMN continued_at TIMESTAMPTZ;
-- A series is continued by at most one.
CREATE UNIQUE INDEX series_continues ON series (continues_series_id)
    WHERE continues_series_id IS NOT NULL;

-- The series an open item was moved from when its series was continued: a split moves it back.
ALTER TABLE items ADD COLUMN moved_from_series_id BIGINT REFERENCES series (id) ON DELETE SET NULL;

-- Pairs a person split (`oneonone series split`): detection never links them again.
CREATE TABLE series_splits (
    series_id         BIGINT NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    earlier_series_id BIGINT NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    split_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (series_id, earlier_series_id)
);
