-- Up Migration
-- A page of one user's events of some kinds (GET /audit-events?userId=&event=) is read per kind,
-- newest first, from this index: a range of (user_id, event) in id order, however many events of
-- other kinds the user has. Without it the planner walks the primary key or (user_id, id)
-- backwards and filters, reading every newer event of the user (or of everyone) first: a flood
-- of failed sign-ins at one account, which a stranger can write, made each such page read the
-- whole flood.
CREATE INDEX audit_log_user_id_event_id_idx ON audit_log (user_id, event, id);

-- Down Migration
DROP INDEX audit_log_user_id_event_id_idx;
