-- Session 16: a revision written by `oneonone restore` names the revision it undid, so
-- `history` shows it as the restore it is, not as one more write of the daemon.
ALTER TABLE description_revisions ADD COLUMN restores BIGINT REFERENCES description_revisions (id) ON DELETE SET NULL;
-- Each deleted revision (an account's purge) looks for the restores that name it.
CREATE INDEX description_revisions_restores ON description_revisions (restores);
