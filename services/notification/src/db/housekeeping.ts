/**
 * Notification's housekeeping: sent-email records, send records and ended sessions are deleted
 * once no rule reads them, a batch at a time (docs/operations.md, "Housekeeping"); inbox rows
 * go by retention.ts, which also keeps the unread counters. `now` is a parameter so a test can
 * purge "as of" any time without waiting.
 */
import { deleteInBatches } from '@warren/shared/db/batched-delete';
import type { Pool } from '@warren/shared/db/database';

/** A redelivery or a DLQ replay of an email comes within days; a month is well past that. */
export const SENT_EMAILS_RETENTION = '30 days';

export async function purgeExpired(
  pool: Pool,
  opts: { retentionDays: number; now?: Date; batchSize?: number; signal?: AbortSignal },
): Promise<Record<string, number>> {
  const now = (opts.now ?? new Date()).toISOString();
  const { batchSize, signal } = opts;
  return {
    sent_emails: await deleteInBatches(pool, {
      table: 'sent_emails',
      where: 'sent_at < $1::timestamptz - $2::interval',
      params: [now, SENT_EMAILS_RETENTION],
      batchSize,
      signal,
    }),
    // A send's status reads its inbox rows, and the rows read their sender from it: both follow
    // NOTIFICATION_RETENTION_DAYS, and a send goes only once retention took all its rows.
    sends: await deleteInBatches(pool, {
      table: 'sends',
      where: `created_at < $1::timestamptz - make_interval(days => $2)
        AND NOT EXISTS (SELECT 1 FROM inbox_items i WHERE i.notification_id = sends.notification_id)`,
      params: [now, opts.retentionDays],
      batchSize,
      signal,
    }),
    // Past expires_at no access token of the session can be valid: nothing to refuse any more.
    ended_sessions: await deleteInBatches(pool, {
      table: 'ended_sessions',
      where: 'expires_at < $1::timestamptz',
      params: [now],
      batchSize,
      signal,
    }),
  };
}
