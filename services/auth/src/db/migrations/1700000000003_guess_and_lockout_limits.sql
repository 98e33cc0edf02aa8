-- Up Migration
-- Wrong one-time codes are counted per purpose and address in a window that issuing a new code
-- no longer restarts (when it did, anyone could re-issue a code and guess on), and the codes
-- issued per purpose and address are counted in a window of their own.
ALTER TABLE code_attempts
  ADD COLUMN window_started_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN issued integer NOT NULL DEFAULT 0,
  ADD COLUMN issue_window_started_at timestamptz NOT NULL DEFAULT now();

-- Failed logins per email AND client address: a lock (or a delay) applies to the address the
-- guesses come from, so a stranger's guesses cannot lock the owner out everywhere. Keyed by the
-- email as typed (lower-cased), account or not, so an unknown email is delayed and locked exactly
-- like a real one and the answers reveal nothing. `failures` counts attempts reserved before their
-- password is checked, so concurrent guesses cannot outrun the threshold.
-- (users.failed_logins and users.locked_until are no longer used.)
CREATE TABLE login_failures (
  email_lower text NOT NULL,
  ip text NOT NULL,
  failures integer NOT NULL DEFAULT 0,
  not_before timestamptz,
  locked_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (email_lower, ip)
);
CREATE INDEX login_failures_updated_at_idx ON login_failures (updated_at);

-- Failed logins per account from every address in a window, and when the owner was last told:
-- a burst is emailed to the owner at most once per window. Far past the threshold (a guessing run
-- spread over many addresses), only addresses that have held a session of the account may try.
CREATE TABLE login_failure_alerts (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  window_started_at timestamptz NOT NULL DEFAULT now(),
  failures integer NOT NULL DEFAULT 0,
  alerted_at timestamptz
);

-- "Has this address signed in to this account before?", asked during such a run.
CREATE INDEX sessions_user_ip_idx ON sessions (user_id, ip);

-- Down Migration
DROP INDEX sessions_user_ip_idx;
DROP TABLE login_failure_alerts;
DROP TABLE login_failures;
ALTER TABLE code_attempts DROP COLUMN issue_window_started_at, DROP COLUMN issued, DROP COLUMN window_started_at;
