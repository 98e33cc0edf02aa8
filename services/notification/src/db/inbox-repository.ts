/** Inbox rows and unread counters in the notification database. */
import { inTransaction, type Pool, type PoolClient } from '@warren/shared/db/database';
import type { InboxEntry, Notification } from '../domain/notification.js';
import { toPublicId } from '../domain/notification-id.js';
import type { InboxPruning, InboxWrites, NewInboxRow, NewSend, ReadStateStore, StoredBatch } from '../domain/ports.js';
import { recordedHashes, recordSends } from './sends-repository.js';

interface Row {
  seq: number;
  notification_id: string;
  user_id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  created_at: Date;
  read_at: Date | null;
  sender_id: string | null;
  sender_name: string | null;
}

const ROW_COLUMNS = 'seq, notification_id, user_id, type, title, body, data, created_at, read_at';
/**
 * A notification as clients see it: its row (alias `i`) with its send's sender (`sends`, one row
 * per send) and the sender's name from the user directory. Both joins are on primary keys; a
 * row with no send record (stored before sends were recorded) or a send without a sender (the
 * system's own) has sender null.
 */
const NOTIFICATIONS = (rows: string) => `SELECT i.seq, i.notification_id, i.user_id, i.type, i.title, i.body, i.data, i.created_at, i.read_at,
    s.sender_id, d.name AS sender_name
  FROM ${rows} i LEFT JOIN sends s ON s.notification_id = i.notification_id LEFT JOIN directory_users d ON d.user_id = s.sender_id`;
/**
 * Held (per transaction) by every insert into the inbox: rows then commit in the order of their
 * seq, so a reader that has seen seq N has seen every row below N. That is what makes `?after=`
 * catch-up gap-free with several replicas inserting at once.
 */
const INSERT_LOCK = 7_241_001;

function toNotification(r: Row): Notification {
  return {
    id: toPublicId(r.seq),
    notificationId: r.notification_id,
    sender: r.sender_id ? { id: r.sender_id, name: r.sender_name } : null,
    type: r.type,
    title: r.title,
    body: r.body,
    data: r.data,
    createdAt: r.created_at.toISOString(),
    readAt: r.read_at ? r.read_at.toISOString() : null,
  };
}

function toEntry(r: Row): InboxEntry {
  return { userId: r.user_id, seq: r.seq, notification: toNotification(r) };
}

export class InboxRepository implements InboxWrites, ReadStateStore, InboxPruning {
  constructor(private readonly pool: Pool) {}

  /**
   * Stores many rows in one statement and one transaction, skipping those that exist already
   * (a redelivery), and counts the new ones as unread; the sends they belong to are recorded
   * in the same transaction. Returns only the new rows, in seq order, so they are pushed once,
   * with the batch number of this insert (when it stored anything).
   */
  async insert(rows: NewInboxRow[], sends: NewSend[] = []): Promise<StoredBatch> {
    if (rows.length === 0 && sends.length === 0) return { entries: [] };
    return inTransaction(this.pool, async (tx) => {
      await recordSends(tx, sends);
      if (rows.length === 0) return { entries: [] };
      await tx.query('SELECT pg_advisory_xact_lock($1)', [INSERT_LOCK]);
      const { rows: inserted } = await tx.query<Row>(
        `WITH inserted AS (
           INSERT INTO inbox_items (notification_id, user_id, type, title, body, data)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
           ON CONFLICT (notification_id, user_id) DO NOTHING
           RETURNING ${ROW_COLUMNS})
         ${NOTIFICATIONS('inserted')}`,
        [
          rows.map((r) => r.notificationId),
          rows.map((r) => r.userId),
          rows.map((r) => r.type),
          rows.map((r) => r.title),
          rows.map((r) => r.body),
          rows.map((r) => JSON.stringify(r.data)),
        ],
      );
      if (inserted.length === 0) return { entries: [] };
      await addUnread(tx, countBy(inserted.map((r) => r.user_id)));
      const { rows: batch } = await tx.query<{ last: number }>('UPDATE inbox_batches SET last = last + 1 RETURNING last');
      return { batch: batch[0]?.last, entries: inserted.sort((a, b) => a.seq - b.seq).map((r) => ({ ...toEntry(r), notificationId: r.notification_id })) };
    });
  }

  recordedHashes(notificationIds: string[]): Promise<Map<string, string | null>> {
    return recordedHashes(this.pool, notificationIds);
  }

  /** The number of the last stored batch: live batches numbered up to it are history. */
  async lastBatch(): Promise<number> {
    const { rows } = await this.pool.query<{ last: number }>('SELECT last FROM inbox_batches');
    return rows[0]?.last ?? 0;
  }

  /** Newest first, strictly older than `beforeSeq` when given; one extra row tells if more exist. */
  async page(userId: string, limit: number, beforeSeq?: string): Promise<{ items: Notification[]; more: boolean }> {
    const { rows } = await this.pool.query<Row>(
      `${NOTIFICATIONS('inbox_items')}
       WHERE i.user_id = $1 AND ($2::bigint IS NULL OR i.seq < $2::bigint)
       ORDER BY i.seq DESC LIMIT $3`,
      [userId, beforeSeq ?? null, limit + 1],
    );
    return { items: rows.slice(0, limit).map(toNotification), more: rows.length > limit };
  }

  /** Oldest first, strictly newer than `afterSeq`: the catch-up of a reconnecting socket. */
  async after(userId: string, afterSeq: string | number, limit: number): Promise<InboxEntry[]> {
    const { rows } = await this.pool.query<Row>(
      `${NOTIFICATIONS('inbox_items')} WHERE i.user_id = $1 AND i.seq > $2::bigint ORDER BY i.seq ASC LIMIT $3`,
      [userId, String(afterSeq), limit],
    );
    return rows.map(toEntry);
  }

  /** The newest seq of the user (0 if none): where a socket without ?after= starts. */
  async latestSeq(userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM inbox_items WHERE user_id = $1', [userId]);
    return rows[0]?.seq ?? 0;
  }

  async unreadCount(userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ count: number }>('SELECT count FROM inbox_unread WHERE user_id = $1', [userId]);
    return rows[0]?.count ?? 0;
  }

  /**
   * Marks the user's notifications with these seqs read. Returns the seqs that changed and the
   * new unread count, or undefined if some seq is not the user's (another user's id is a 404).
   */
  markRead(userId: string, seqs: string[]): Promise<{ changed: number[]; unreadCount: number } | undefined> {
    return this.setRead(userId, seqs, true);
  }

  /**
   * Marks the user's notifications with these seqs unread again (a reader's "keep for later").
   * Returns the seqs that changed and the new unread count, or undefined as markRead does.
   */
  markUnread(userId: string, seqs: string[]): Promise<{ changed: number[]; unreadCount: number } | undefined> {
    return this.setRead(userId, seqs, false);
  }

  /** One transaction: ownership of every seq, the rows that change, the unread counter by as many. */
  private setRead(userId: string, seqs: string[], read: boolean): Promise<{ changed: number[]; unreadCount: number } | undefined> {
    return inTransaction(this.pool, async (tx) => {
      const { rows: owned } = await tx.query<{ seq: number }>(
        'SELECT seq FROM inbox_items WHERE user_id = $1 AND seq = ANY($2::bigint[])',
        [userId, seqs],
      );
      if (owned.length !== new Set(seqs).size) return undefined;
      const { rows } = await tx.query<{ seq: number }>(
        read
          ? `UPDATE inbox_items SET read_at = now()
             WHERE user_id = $1 AND seq = ANY($2::bigint[]) AND read_at IS NULL RETURNING seq`
          : `UPDATE inbox_items SET read_at = NULL
             WHERE user_id = $1 AND seq = ANY($2::bigint[]) AND read_at IS NOT NULL RETURNING seq`,
        [userId, seqs],
      );
      const unreadCount = await addUnread(tx, new Map([[userId, read ? -rows.length : rows.length]]), userId);
      return { changed: rows.map((r) => r.seq).sort((a, b) => a - b), unreadCount };
    });
  }

  async markAllRead(userId: string): Promise<{ changed: number; unreadCount: number }> {
    return inTransaction(this.pool, async (tx) => {
      const { rowCount } = await tx.query('UPDATE inbox_items SET read_at = now() WHERE user_id = $1 AND read_at IS NULL', [userId]);
      const unreadCount = await addUnread(tx, new Map([[userId, -(rowCount ?? 0)]]), userId);
      return { changed: rowCount ?? 0, unreadCount };
    });
  }

  /** Deletes up to `limit` rows older than `days`; returns how many went. */
  async pruneOlderThan(days: number, limit: number): Promise<number> {
    return inTransaction(this.pool, async (tx) => {
      // Pruning touches many users' counters: under the insert lock it cannot deadlock with an insert.
      await tx.query('SELECT pg_advisory_xact_lock($1)', [INSERT_LOCK]);
      const { rows } = await tx.query<{ user_id: string; unread: boolean }>(
        `DELETE FROM inbox_items WHERE seq IN (
           SELECT seq FROM inbox_items WHERE created_at < now() - make_interval(days => $1)
           ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING user_id, read_at IS NULL AS unread`,
        [days, limit],
      );
      const unread = countBy(rows.filter((r) => r.unread).map((r) => r.user_id));
      for (const [user, n] of unread) unread.set(user, -n);
      await addUnread(tx, unread);
      return rows.length;
    });
  }
}

function countBy(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/**
 * Adds deltas to users' unread counters. Increments upsert in sorted user order (concurrent
 * inserters hold the insert lock anyway); decrements never take a counter below zero.
 * Returns the new count of `report` if given.
 */
async function addUnread(tx: PoolClient, deltas: Map<string, number>, report?: string): Promise<number> {
  const up = [...deltas].filter(([, d]) => d > 0).sort(([a], [b]) => (a < b ? -1 : 1));
  const down = [...deltas].filter(([, d]) => d < 0);
  if (up.length > 0) {
    await tx.query(
      `INSERT INTO inbox_unread (user_id, count)
       SELECT * FROM unnest($1::uuid[], $2::bigint[])
       ON CONFLICT (user_id) DO UPDATE SET count = inbox_unread.count + EXCLUDED.count`,
      [up.map(([u]) => u), up.map(([, d]) => d)],
    );
  }
  if (down.length > 0) {
    await tx.query(
      `UPDATE inbox_unread SET count = greatest(count + t.d, 0)
       FROM unnest($1::uuid[], $2::bigint[]) AS t(u, d) WHERE user_id = t.u`,
      [down.map(([u]) => u), down.map(([, d]) => d)],
    );
  }
  if (!report) return 0;
  const { rows } = await tx.query<{ count: number }>('SELECT count FROM inbox_unread WHERE user_id = $1', [report]);
  return rows[0]?.count ?? 0;
}
