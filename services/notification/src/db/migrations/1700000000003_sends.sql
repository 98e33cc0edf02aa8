-- Up Migration
-- One row per stored send (notification.requested), written in the same transaction as its
-- inbox rows: who sent it, and which of the user ids it named matched no user in the directory
-- (those store nothing; a request naming 1 000 made-up ids costs this one row, not 1 000).
-- The send status (GET /notifications/:id) reads it with the inbox rows of the send.
CREATE TABLE sends (
  notification_id uuid PRIMARY KEY,
  sender_id uuid,
  title text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  unknown_user_ids uuid[] NOT NULL DEFAULT '{}'
);
-- Retention prunes sends by age, with their inbox rows.
CREATE INDEX sends_created_at_idx ON sends (created_at);

-- Down Migration
DROP TABLE sends;
