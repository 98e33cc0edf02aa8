-- Up Migration
-- Reading the audit log (GET /audit-events on main-backend, decision 0031) is a permission of its
-- own, held by admins alone. Tokens carry the permissions they were issued with: an admin signed
-- in before this migration gets audit:read at the next refresh (ACCESS_TOKEN_TTL at most).
INSERT INTO permissions (name, description) VALUES ('audit:read', 'Read the audit log of security events')
  ON CONFLICT (name) DO NOTHING;
INSERT INTO role_permissions (role, permission) VALUES ('admin', 'audit:read')
  ON CONFLICT DO NOTHING;

-- Pages are newest first by id, filtered by user or by event: these serve both, a page read
-- backwards from `before` (the unfiltered page uses the primary key). They replace the index on
-- (user_id, at), which nothing read. audit_log_at_idx stays: housekeeping deletes by age.
CREATE INDEX audit_log_user_id_id_idx ON audit_log (user_id, id);
CREATE INDEX audit_log_event_id_idx ON audit_log (event, id);
DROP INDEX audit_log_user_id_idx;

-- Down Migration
CREATE INDEX audit_log_user_id_idx ON audit_log (user_id, at DESC);
DROP INDEX audit_log_event_id_idx;
DROP INDEX audit_log_user_id_id_idx;
DELETE FROM role_permissions WHERE permission = 'audit:read';
DELETE FROM permissions WHERE name = 'audit:read';
