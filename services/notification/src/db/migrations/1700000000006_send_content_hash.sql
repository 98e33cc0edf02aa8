-- Up Migration
-- What each send asked for, as a hash (domain/send-content-hash.ts): a message arriving again
-- with a send's id stores nothing new when its hash is the same (a redelivery) and is refused
-- when it differs (another message reusing the id). Sends recorded before this have none: a
-- message reusing one of their ids is refused too, since what it asked for cannot be compared.
ALTER TABLE sends ADD COLUMN content_hash text;

-- Down Migration
ALTER TABLE sends DROP COLUMN content_hash;
