-- Up Migration
-- One row per email.requested message that has been sent, keyed by its AMQP message id: a
-- redelivery (or a duplicate publish) of a recorded id is acked without sending again.
CREATE TABLE sent_emails (
  message_id text PRIMARY KEY,
  sent_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE sent_emails;
