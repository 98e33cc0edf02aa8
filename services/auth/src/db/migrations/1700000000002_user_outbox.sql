-- Up Migration
-- Each change of a user bumps its version; consumers keep the newest version they saw.
ALTER TABLE users ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- Transactional outbox: an event is written in the same transaction as the change it reports,
-- and a relay publishes it (with confirms) afterwards, so no committed change goes unannounced.
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id uuid NOT NULL DEFAULT gen_random_uuid(),
  routing_key text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- Users that existed before the outbox are announced once.
INSERT INTO outbox (routing_key, payload)
SELECT 'user.upserted', jsonb_build_object(
  'userId', id, 'role', role, 'version', version,
  'occurredAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
FROM users;

-- Down Migration
DROP TABLE outbox;
ALTER TABLE users DROP COLUMN version;
