-- Up Migration
-- One row per recipient of a notification. seq orders a user's inbox (its hex form is the
-- public id); (notification_id, user_id) is unique, which makes a redelivered message a no-op.
CREATE TABLE inbox_items (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  notification_id uuid NOT NULL,
  user_id uuid NOT NULL,
  type text NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz,
  CONSTRAINT inbox_items_notification_user_key UNIQUE (notification_id, user_id)
);
-- Paging a user's inbox newest first, and counting what is unread without scanning the rest.
CREATE INDEX inbox_items_user_seq_idx ON inbox_items (user_id, seq DESC);
CREATE INDEX inbox_items_user_unread_idx ON inbox_items (user_id) WHERE read_at IS NULL;

-- Down Migration
DROP TABLE inbox_items;
