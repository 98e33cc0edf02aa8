-- Up Migration
-- Outbox rows that can never be published (the payload fails its contract schema, or no schema
-- knows the routing key), moved here by the relay with why, so that they neither block nor
-- vanish. An operator lists, replays or discards them (npm run outbox:dead-letters).
CREATE TABLE outbox_dead_letters (
  outbox_id bigint PRIMARY KEY,
  message_id uuid NOT NULL,
  routing_key text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  error text NOT NULL,
  dead_lettered_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE outbox_dead_letters;
