-- Only resources whose text the cache keeps are ever looked up by UID: a CalDAV resource holding
-- a recurring series, every Google event. The one-off CalDAV meetings that make up most of a
-- calendar (their text is not kept: `raw` is empty) are reached by their remote id alone, so
-- indexing their UIDs cost a first import a third b-tree per row and nothing read it.
DROP INDEX events_uid;
CREATE INDEX events_uid ON events (calendar_id, uid) WHERE raw <> '';
