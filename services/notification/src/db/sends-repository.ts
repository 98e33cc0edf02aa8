/**
 * The `sends` table: one row per stored send, with whom it named (roles, user ids) and the user
 * ids it named that matched no user. Written inside the inbox insert's transaction (so a send is
 * recorded exactly when its rows are), hence functions over a transaction's client rather than a
 * class over the pool; the status of a send, and a sender's list of sends, are read from it with
 * that send's inbox rows.
 */
import { SENT_LIST_NAMED_USERS, SENT_LIST_UNKNOWN_IDS, type SendStatus, type SentItem } from '@warren/shared/contracts/notification-api';
import type { Role } from '@warren/shared/contracts/notifications';
import type { Pool, PoolClient } from '@warren/shared/db/database';
import type { NewSend } from '../domain/ports.js';
import { NotificationIdConflict } from '../domain/send-content-hash.js';
import type { SentPosition } from '../domain/sent-cursor.js';

/**
 * Records sends; a send recorded before (a redelivery) keeps its first record. Throws
 * NotificationIdConflict when one was recorded with another content hash: the check is a
 * statement of its own, after the insert, so it sees a send another replica committed meanwhile.
 */
export async function recordSends(tx: PoolClient, sends: NewSend[]): Promise<void> {
  if (sends.length === 0) return;
  const ids = sends.map((s) => s.notificationId);
  const hashes = sends.map((s) => s.contentHash);
  const { rowCount } = await tx.query(
    `INSERT INTO sends (notification_id, sender_id, title, roles, user_ids, unknown_user_ids, content_hash)
     SELECT n, s, t, ARRAY(SELECT jsonb_array_elements_text(r))::text[],
       ARRAY(SELECT e.id FROM jsonb_array_elements_text(u) WITH ORDINALITY AS e(id, o) ORDER BY e.o)::uuid[],
       ARRAY(SELECT jsonb_array_elements_text(k))::uuid[], h
     FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::jsonb[], $6::jsonb[], $7::text[]) AS x(n, s, t, r, u, k, h)
     ON CONFLICT (notification_id) DO NOTHING`,
    [
      ids,
      sends.map((s) => s.senderId),
      sends.map((s) => s.title),
      sends.map((s) => JSON.stringify(s.roles)),
      sends.map((s) => JSON.stringify(s.userIds)),
      sends.map((s) => JSON.stringify(s.unknownUserIds)),
      hashes,
    ],
  );
  if (rowCount === sends.length) return;
  const { rows } = await tx.query<{ id: string }>(
    `SELECT DISTINCT s.notification_id AS id FROM sends s JOIN unnest($1::uuid[], $2::text[]) AS x(n, h) ON s.notification_id = x.n
     WHERE s.content_hash IS DISTINCT FROM x.h`,
    [ids, hashes],
  );
  if (rows.length > 0) throw new NotificationIdConflict(rows.map((r) => r.id));
}

/** The content hashes of those of `notificationIds` that are recorded. */
export async function recordedHashes(pool: Pool, notificationIds: string[]): Promise<Map<string, string | null>> {
  if (notificationIds.length === 0) return new Map();
  const { rows } = await pool.query<{ id: string; hash: string | null }>(
    'SELECT notification_id AS id, content_hash AS hash FROM sends WHERE notification_id = ANY($1::uuid[])',
    [notificationIds],
  );
  return new Map(rows.map((r) => [r.id, r.hash]));
}

/**
 * The status of send `notificationId`, if it is recorded and `senderId` sent it (undefined: any
 * sender). The two counts are index scans over that send's rows alone (see migration 0005);
 * they are computed only for a send the caller may see.
 */
export async function sendStatus(pool: Pool, notificationId: string, senderId: string | undefined): Promise<SendStatus | undefined> {
  const { rows } = await pool.query<{ id: string; senderId: string | null; senderName: string | null; title: string; createdAt: Date; recipients: number; read: number; unknownUserIds: string[] }>(
    `SELECT s.notification_id AS id, s.sender_id AS "senderId", d.name AS "senderName", s.title, s.created_at AS "createdAt",
       (SELECT count(*)::int FROM inbox_items i WHERE i.notification_id = s.notification_id) AS recipients,
       (SELECT count(*)::int FROM inbox_items i WHERE i.notification_id = s.notification_id AND i.read_at IS NOT NULL) AS read,
       s.unknown_user_ids::text[] AS "unknownUserIds"
     FROM sends s LEFT JOIN directory_users d ON d.user_id = s.sender_id
     WHERE s.notification_id = $1 AND ($2::uuid IS NULL OR s.sender_id = $2::uuid)`,
    [notificationId, senderId ?? null],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id,
    sender: r.senderId ? { id: r.senderId, name: r.senderName } : null,
    title: r.title,
    createdAt: r.createdAt.toISOString(),
    recipients: r.recipients,
    read: r.read,
    unknownUserIds: r.unknownUserIds,
  };
}

/** The counts of one send (`s`), each an index scan over that send's rows alone (see migration 0005). */
const COUNTS = `(SELECT count(*)::int FROM inbox_items i WHERE i.notification_id = s.notification_id) AS recipients,
  (SELECT count(*)::int FROM inbox_items i WHERE i.notification_id = s.notification_id AND i.read_at IS NOT NULL) AS read`;

interface SentRow {
  id: string;
  senderId: string;
  senderName: string | null;
  title: string;
  createdAt: Date;
  at: string;
  recipients: number;
  read: number;
  unknownUserIds: string[];
  unknownUserCount: number;
  roles: Role[] | null;
  userCount: number | null;
  users: { id: string; name: string | null }[];
}

/**
 * Up to `limit` sends of `senderId`, newest first, strictly older than `before` when given: a
 * range of the (sender_id, created_at DESC, notification_id DESC) index (migration 0007), then
 * per send its two counts (index scans, as for one send's status) and a bounded part of whom it
 * named: the first SENT_LIST_NAMED_USERS named ids with their directory names, and the first
 * SENT_LIST_UNKNOWN_IDS unknown ids, with the counts of both. `at` is created_at to the
 * microsecond (the cursor's precision), read as text so nothing rounds it.
 */
export async function sentBy(pool: Pool, senderId: string, limit: number, before: SentPosition | undefined): Promise<{ item: SentItem; position: SentPosition }[]> {
  const { rows } = await pool.query<SentRow>(
    `SELECT s.notification_id AS id, s.sender_id AS "senderId", d.name AS "senderName", s.title, s.created_at AS "createdAt",
       to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
       ${COUNTS},
       s.unknown_user_ids[1:$3]::text[] AS "unknownUserIds", cardinality(s.unknown_user_ids) AS "unknownUserCount",
       s.roles, cardinality(s.user_ids) AS "userCount",
       (SELECT coalesce(json_agg(json_build_object('id', u.id, 'name', du.name) ORDER BY u.o), '[]'::json)
          FROM unnest(s.user_ids[1:$4]) WITH ORDINALITY AS u(id, o) LEFT JOIN directory_users du ON du.user_id = u.id) AS users
     FROM sends s LEFT JOIN directory_users d ON d.user_id = s.sender_id
     WHERE s.sender_id = $1 ${before ? 'AND (s.created_at, s.notification_id) < ($5::timestamptz, $6::uuid)' : ''}
     ORDER BY s.created_at DESC, s.notification_id DESC
     LIMIT $2`,
    [senderId, limit, SENT_LIST_UNKNOWN_IDS, SENT_LIST_NAMED_USERS, ...(before ? [before.at, before.id] : [])],
  );
  return rows.map((r) => ({
    item: {
      id: r.id,
      sender: { id: r.senderId, name: r.senderName },
      title: r.title,
      createdAt: r.createdAt.toISOString(),
      recipients: r.recipients,
      read: r.read,
      unknownUserIds: r.unknownUserIds,
      unknownUserCount: r.unknownUserCount,
      // Recorded since migration 0007; older sends never kept whom they named.
      to: r.roles === null ? null : { roles: r.roles, userCount: r.userCount ?? 0, users: r.users },
    },
    position: { at: r.at, id: r.id },
  }));
}
