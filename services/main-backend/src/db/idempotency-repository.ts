/** Idempotency keys of notification sends, per user. */
import type { Pool } from '@warren/shared/db/database';
import type { IdempotencyKeys, IdempotencyRecord } from '../domain/ports.js';

export class IdempotencyRepository implements IdempotencyKeys {
  constructor(private readonly pool: Pool) {}

  /** Claims the key for `notificationId`; if it was claimed before, returns that earlier record. */
  async claim(
    userId: string,
    key: string,
    requestHash: Buffer,
    notificationId: string,
  ): Promise<{ created: true } | { created: false; existing: IdempotencyRecord }> {
    const inserted = await this.pool.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, notification_id)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [userId, key, requestHash, notificationId],
    );
    if (inserted.rowCount === 1) return { created: true };
    const { rows } = await this.pool.query<IdempotencyRecord>(
      `SELECT notification_id AS "notificationId", request_hash AS "requestHash", published_at AS "publishedAt"
       FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      [userId, key],
    );
    return { created: false, existing: rows[0] as IdempotencyRecord };
  }

  async markPublished(userId: string, key: string): Promise<void> {
    await this.pool.query(
      'UPDATE idempotency_keys SET published_at = now() WHERE user_id = $1 AND key = $2 AND published_at IS NULL',
      [userId, key],
    );
  }
}
