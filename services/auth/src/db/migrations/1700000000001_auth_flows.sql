-- Up Migration
-- Lockout: consecutive failed logins, and until when the account refuses logins.
ALTER TABLE users
  ADD COLUMN failed_logins integer NOT NULL DEFAULT 0,
  ADD COLUMN locked_until timestamptz;

-- One-time codes (email verification, password reset), stored as argon2id hashes. A pending
-- registration lives in its code's payload (name and password hash) until it is verified, so
-- each registration email's code activates exactly the registration that sent it.
CREATE TABLE one_time_codes (
  id uuid PRIMARY KEY,
  purpose text NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
  email_lower text NOT NULL,
  code_hash text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX one_time_codes_lookup_idx ON one_time_codes (purpose, email_lower, created_at DESC);

-- Wrong-code tries per purpose and address, whether or not a code exists (so a 429 reveals
-- nothing); reset when a new code is issued.
CREATE TABLE code_attempts (
  purpose text NOT NULL,
  email_lower text NOT NULL,
  failures integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (purpose, email_lower)
);

-- Security events. Never a secret: no password, code or token ever goes into details.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  event text NOT NULL,
  user_id uuid,
  actor_id uuid,
  ip text,
  user_agent text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_user_id_idx ON audit_log (user_id, at DESC);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Down Migration
DROP TABLE audit_log;
DROP TABLE code_attempts;
DROP TABLE one_time_codes;
ALTER TABLE users DROP COLUMN locked_until, DROP COLUMN failed_logins;
