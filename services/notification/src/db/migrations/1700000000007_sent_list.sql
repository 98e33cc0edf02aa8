-- Up Migration
-- "What I sent" (GET /notifications/sent): whom each send was addressed to, as it asked, and an
-- index to page one sender's sends newest first.
--
-- `roles`: the roles it named; `user_ids`: the user ids it named (each once, in the order given,
-- known or not; at most 1 000 per send). Sends recorded before this have NULL in both: what they
-- were addressed to was never kept, and the list says so (`to: null`) rather than guess.
ALTER TABLE sends ADD COLUMN roles text[];
ALTER TABLE sends ADD COLUMN user_ids uuid[];

-- Keyset paging of one sender's sends on (created_at, notification_id), newest first: the
-- sends of one batch share created_at (one transaction), the id breaks the tie. The system's
-- own sends (sender_id NULL) are in no one's list.
CREATE INDEX sends_sender_created_idx ON sends (sender_id, created_at DESC, notification_id DESC);

-- Down Migration
DROP INDEX sends_sender_created_idx;
ALTER TABLE sends DROP COLUMN user_ids;
ALTER TABLE sends DROP COLUMN roles;
