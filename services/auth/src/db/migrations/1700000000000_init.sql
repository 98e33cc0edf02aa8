-- Up Migration
-- Roles and permissions are data, seeded here; the link table says which role holds what.
CREATE TABLE roles (
  name text PRIMARY KEY
);
CREATE TABLE permissions (
  name text PRIMARY KEY,
  description text NOT NULL
);
CREATE TABLE role_permissions (
  role text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  permission text NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
  PRIMARY KEY (role, permission)
);
INSERT INTO roles (name) VALUES ('admin'), ('manager'), ('employee');
INSERT INTO permissions (name, description) VALUES
  ('notifications:send', 'Send notifications to users and roles'),
  ('users:read', 'List users'),
  ('users:write', 'Change a user''s role'),
  ('sessions:manage', 'End other users'' sessions');
-- admin: all; manager: send and read users; employee: nothing beyond its own data.
INSERT INTO role_permissions (role, permission) SELECT 'admin', name FROM permissions;
INSERT INTO role_permissions (role, permission) VALUES ('manager', 'notifications:send'), ('manager', 'users:read');

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL REFERENCES roles (name),
  password_hash text NOT NULL,
  email_verified_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Emails compare case-insensitively: one account per address however it is typed.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  user_agent text,
  ip text
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are stored only as SHA-256 hashes; a rotated token keeps its row
-- (rotated_at set) so that presenting it again is recognised as reuse.
CREATE TABLE refresh_tokens (
  token_hash bytea PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  rotated_at timestamptz
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

-- Access-token signing keys. Exactly one is active (signs); retired ones still verify
-- until retired_at, so tokens signed just before a rotation stay valid.
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  algorithm text NOT NULL,
  public_jwk jsonb NOT NULL,
  private_key text NOT NULL,
  private_key_encrypted boolean NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE active;

-- Down Migration
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE role_permissions;
DROP TABLE permissions;
DROP TABLE roles;
