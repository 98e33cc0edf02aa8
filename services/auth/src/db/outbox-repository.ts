/** Reading the auth outbox's progress (the relay in shared/src/messaging/outbox-relay.ts publishes it). */
import type { Pool } from '@warren/shared/db/database';

export class OutboxRepository {
  constructor(private readonly pool: Pool) {}

  /** Rows with ids in [first, last] that the relay has not published yet. */
  async unpublishedBetween(first: number, last: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE id BETWEEN $1 AND $2 AND published_at IS NULL',
      [first, last],
    );
    return rows[0]?.n ?? 0;
  }
}
