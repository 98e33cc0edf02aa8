-- Up Migration
-- Hits per client address and fixed window for the per-IP rate limit on the unauthenticated
-- auth endpoints, shared by every main-backend replica (db/rate-limit-store.ts). A row lives
-- one window; the store prunes expired rows once a window. UNLOGGED: a crash may lose a
-- minute's counts, which costs nothing that matters and saves a WAL write per hit.
CREATE UNLOGGED TABLE rate_limit_hits (
  key text PRIMARY KEY,
  hits integer NOT NULL,
  reset_at timestamptz NOT NULL
);
CREATE INDEX rate_limit_hits_reset_at_idx ON rate_limit_hits (reset_at);

-- Down Migration
DROP TABLE rate_limit_hits;
