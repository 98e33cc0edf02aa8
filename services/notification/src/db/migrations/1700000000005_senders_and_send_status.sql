-- Up Migration
-- Senders' names: the directory keeps each user's name as auth announces it (user.upserted), or
-- as auth answers a lookup for a sender the directory has no name for yet. Inbox rows and send
-- statuses show it through their send's sender_id; users announced before this have none until
-- they send (looked up then) or are announced again (npm run directory:rebuild).
ALTER TABLE directory_users ADD COLUMN name text;

-- The send status counts the rows of one send that are read: an index of read rows only, by
-- send, makes that an index scan over exactly those rows (no counter to keep, so no hot row
-- when the thousands of recipients of one broadcast read it at once). Rows stored per send are
-- counted on the unique (notification_id, user_id) index the same way.
CREATE INDEX inbox_items_notification_read_idx ON inbox_items (notification_id) WHERE read_at IS NOT NULL;

-- Down Migration
DROP INDEX inbox_items_notification_read_idx;
ALTER TABLE directory_users DROP COLUMN name;
