-- Up Migration
-- Finding users by a piece of their name or email (GET /users?q=, for recipient pickers), a page
-- at a time in name order. This index serves the order and the keyset (lower(name), id).
CREATE INDEX users_name_order_idx ON users (lower(name), id);

-- Substring matching (lower(x) LIKE '%q%') uses trigram indexes where the pg_trgm extension can
-- be installed (it ships with PostgreSQL and is trusted since version 13). Where it cannot, the
-- same query gives the same answers by scanning: no set-up step is ever needed.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX users_name_trgm_idx ON users USING gin (lower(name) gin_trgm_ops);
    CREATE INDEX users_email_trgm_idx ON users USING gin (lower(email) gin_trgm_ops);
  END IF;
EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_object THEN
  RAISE NOTICE 'pg_trgm is not available (%): user search scans', SQLERRM;
END $$;

-- Down Migration
DROP INDEX IF EXISTS users_email_trgm_idx;
DROP INDEX IF EXISTS users_name_trgm_idx;
DROP INDEX users_name_order_idx;
