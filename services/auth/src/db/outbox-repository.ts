/**
 * Auth's transactional outbox: the messages it carries (each with its contract schema, the one
 * definition the writers below and the relay in shared/src/messaging/outbox-relay.ts both use),
 * writing them in the transaction of the change they report, and reading the relay's progress.
 */
import type { z } from 'zod';
import { emailRequestedSchema } from '@warren/shared/contracts/email';
import { sessionEndedSchema } from '@warren/shared/contracts/sessions';
import { ROUTING_KEYS } from '@warren/shared/contracts/topology';
import { userUpsertedSchema } from '@warren/shared/contracts/users';
import type { Pool, PoolClient } from '@warren/shared/db/database';
import { writeOutbox, type OutboxCatalogue } from '@warren/shared/messaging/outbox';

export const AUTH_OUTBOX = {
  [ROUTING_KEYS.userUpserted]: userUpsertedSchema,
  [ROUTING_KEYS.sessionEnded]: sessionEndedSchema,
  // The alert of a burst of failed logins, written with the claim that sends it once.
  [ROUTING_KEYS.emailRequested]: emailRequestedSchema,
} as const satisfies OutboxCatalogue;
export type AuthOutboxMessage = keyof typeof AUTH_OUTBOX;

/**
 * Writes `payloads` to the outbox through their contract schema, with `db` the client of the
 * transaction making the change (a payload the schema refuses throws, and the change rolls
 * back). Returns the rows' ids in order.
 */
export function announce<K extends AuthOutboxMessage>(db: Pool | PoolClient, type: K, payloads: readonly z.input<(typeof AUTH_OUTBOX)[K]>[]): Promise<number[]> {
  return writeOutbox(db, AUTH_OUTBOX, type, payloads);
}

export class OutboxRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Of the rows with ids in [first, last]: how many the relay has not published yet, and how
   * many it dead-lettered (they will not be published unless replayed).
   */
  async progressBetween(first: number, last: number): Promise<{ pending: number; deadLettered: number }> {
    const { rows } = await this.pool.query<{ pending: number; deadLettered: number }>(
      `SELECT (SELECT count(*)::int FROM outbox WHERE id BETWEEN $1 AND $2 AND published_at IS NULL) AS pending,
              (SELECT count(*)::int FROM outbox_dead_letters WHERE outbox_id BETWEEN $1 AND $2) AS "deadLettered"`,
      [first, last],
    );
    return rows[0] ?? { pending: 0, deadLettered: 0 };
  }
}
