/** Inbox rows in the notification database. */
import type { Pool } from '@warren/shared/db/database';
import type { InboxEntry, Notification } from '../domain/notification.js';
import { toPublicId } from '../domain/notification-id.js';

interface Row {
  seq: number;
  user_id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  created_at: Date;
  read_at: Date | null;
}

const COLUMNS = 'seq, user_id, type, title, body, data, created_at, read_at';

function toNotification(r: Row): Notification {
  return {
    id: toPublicId(r.seq),
    type: r.type,
    title: r.title,
    body: r.body,
    data: r.data,
    createdAt: r.created_at.toISOString(),
    readAt: r.read_at ? r.read_at.toISOString() : null,
  };
}

export interface NewInboxItems {
  notificationId: string;
  userIds: string[];
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
}

export class InboxRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * One row per recipient, in a single statement. Rows that exist already (a redelivery)
   * are skipped, and only the newly stored ones are returned, so they are pushed once.
   */
  async insert(n: NewInboxItems): Promise<InboxEntry[]> {
    const { rows } = await this.pool.query<Row>(
      `INSERT INTO inbox_items (notification_id, user_id, type, title, body, data)
       SELECT $1, u, $3, $4, $5, $6 FROM unnest($2::uuid[]) AS u
       ON CONFLICT (notification_id, user_id) DO NOTHING
       RETURNING ${COLUMNS}`,
      [n.notificationId, n.userIds, n.type, n.title, n.body, n.data],
    );
    return rows.sort((a, b) => a.seq - b.seq).map((r) => ({ userId: r.user_id, notification: toNotification(r) }));
  }

  /** Newest first, strictly older than `beforeSeq` when given; one extra row tells if more exist. */
  async page(userId: string, limit: number, beforeSeq?: string): Promise<{ items: Notification[]; more: boolean }> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM inbox_items
       WHERE user_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint)
       ORDER BY seq DESC LIMIT $3`,
      [userId, beforeSeq ?? null, limit + 1],
    );
    return { items: rows.slice(0, limit).map(toNotification), more: rows.length > limit };
  }

  async unreadCount(userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ count: number }>(
      'SELECT count(*)::bigint AS count FROM inbox_items WHERE user_id = $1 AND read_at IS NULL',
      [userId],
    );
    return rows[0]?.count ?? 0;
  }
}
