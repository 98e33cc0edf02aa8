-- Up Migration
-- The users and roles the auth service announced (user.upserted), for role fan-out. `version`
-- only grows: a late or repeated event never overwrites a newer one.
CREATE TABLE directory_users (
  user_id uuid PRIMARY KEY,
  role text NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX directory_users_role_idx ON directory_users (role);

-- Exact unread count per user, kept in the same transactions as the inserts, reads and
-- deletions that change it, so reading it is one row however large the inbox.
CREATE TABLE inbox_unread (
  user_id uuid PRIMARY KEY,
  count bigint NOT NULL CHECK (count >= 0)
);
INSERT INTO inbox_unread (user_id, count)
SELECT user_id, count(*) FROM inbox_items WHERE read_at IS NULL GROUP BY user_id;

-- Inserts are numbered with a contiguous batch number (taken under the insert lock), so the
-- replicas' live deliveries can be put back in commit order and a missing one noticed.
CREATE TABLE inbox_batches (
  id smallint PRIMARY KEY CHECK (id = 1),
  last bigint NOT NULL
);
INSERT INTO inbox_batches (id, last) VALUES (1, 0);

-- Retention prunes by age.
CREATE INDEX inbox_items_created_at_idx ON inbox_items (created_at);

-- Down Migration
DROP INDEX inbox_items_created_at_idx;
DROP TABLE inbox_batches;
DROP TABLE inbox_unread;
DROP TABLE directory_users;
