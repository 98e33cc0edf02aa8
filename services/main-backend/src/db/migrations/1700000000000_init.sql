-- Up Migration
-- Idempotency-Key records for POST /notifications: the same key from the same user answers the
-- same notification id. published_at stays null until the broker confirmed the message, so a
-- retry after a crash between the two publishes it again (consumers are idempotent by id).
CREATE TABLE idempotency_keys (
  user_id uuid NOT NULL,
  key text NOT NULL,
  request_hash bytea NOT NULL,
  notification_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- Down Migration
DROP TABLE idempotency_keys;
