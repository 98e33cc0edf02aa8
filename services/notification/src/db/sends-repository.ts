/**
 * The `sends` table: one row per stored send, with the user ids it named that matched no user.
 * Written inside the inbox insert's transaction (so a send is recorded exactly when its rows
 * are), hence functions over a transaction's client rather than a class over the pool.
 */
import type { PoolClient } from '@warren/shared/db/database';
import type { NewSend } from '../domain/ports.js';

/** Records sends; a send recorded before (a redelivery) keeps its first record. */
export async function recordSends(tx: PoolClient, sends: NewSend[]): Promise<void> {
  if (sends.length === 0) return;
  await tx.query(
    `INSERT INTO sends (notification_id, sender_id, title, unknown_user_ids)
     SELECT n, s, t, ARRAY(SELECT jsonb_array_elements_text(u))::uuid[]
     FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[]) AS x(n, s, t, u)
     ON CONFLICT (notification_id) DO NOTHING`,
    [sends.map((s) => s.notificationId), sends.map((s) => s.senderId), sends.map((s) => s.title), sends.map((s) => JSON.stringify(s.unknownUserIds))],
  );
}
