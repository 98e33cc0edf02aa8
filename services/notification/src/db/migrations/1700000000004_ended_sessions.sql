-- Up Migration
-- Sessions the auth service announced as ended (session.ended), kept until no access token of
-- them can be valid (expires_at). Every replica loads them on start and re-reads what was
-- recorded lately, so a replica that was down or disconnected when a session ended still
-- refuses its tokens. recorded_at drives that re-read; expires_at the pruning.
CREATE TABLE ended_sessions (
  session_id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  ended_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ended_sessions_recorded_at_idx ON ended_sessions (recorded_at);
CREATE INDEX ended_sessions_expires_at_idx ON ended_sessions (expires_at);

-- Down Migration
DROP TABLE ended_sessions;
