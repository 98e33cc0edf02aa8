/**
 * Main-backend's housekeeping: Idempotency-Key records are deleted a week after they were made,
 * a batch at a time (docs/operations.md, "Housekeeping"). `now` is a parameter so a test can
 * purge "as of" any time without waiting.
 */
import { deleteInBatches } from '@warren/shared/db/batched-delete';
import type { Pool } from '@warren/shared/db/database';

/** A client retries a send within minutes (hours at worst); a week covers any sane retry. */
export const IDEMPOTENCY_KEY_RETENTION = '7 days';

export async function purgeExpired(
  pool: Pool,
  opts: { now?: Date; batchSize?: number; signal?: AbortSignal } = {},
): Promise<Record<string, number>> {
  return {
    idempotency_keys: await deleteInBatches(pool, {
      table: 'idempotency_keys',
      where: 'created_at < $1::timestamptz - $2::interval',
      params: [(opts.now ?? new Date()).toISOString(), IDEMPOTENCY_KEY_RETENTION],
      batchSize: opts.batchSize,
      signal: opts.signal,
    }),
  };
}
