-- A manager's private notes about a 1:1 (issue 13). They live only here: nothing renders them into
-- a calendar description, which every attendee can read.
CREATE TABLE private_notes (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id        BIGINT NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    -- The meeting the note is about, when one was recorded for meeting_date; a note on a day
    -- without a recorded occurrence (not yet within the look-ahead) keeps just the date.
    occurrence_id    BIGINT REFERENCES occurrences (id) ON DELETE SET NULL,
    meeting_date     DATE,
    -- The text, encrypted with the secrets key (secrets::Purpose::PrivateNote): personnel notes
    -- must not be readable from a copy of the database.
    body             BYTEA NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX private_notes_series ON private_notes (series_id, created_at);
