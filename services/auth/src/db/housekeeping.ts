/**
 * Auth's housekeeping: rows that no rule reads any more are deleted, a batch at a time (see
 * docs/operations.md, "Housekeeping", for each table's retention and why). `now` is a
 * parameter so a test can purge "as of" any time without waiting.
 */
import { deleteInBatches } from '@warren/shared/db/batched-delete';
import type { Pool } from '@warren/shared/db/database';

/** How long each kind of row outlives its use; the windows it counts in are an hour at most. */
export const AUTH_RETENTION = {
  /** A code unused past its expiry (10 min) or used already: a day, to look into a report. */
  oneTimeCodesAfterExpiry: '1 day',
  /** Wrong-code and codes-issued windows are an hour; a day past both starts, the row counts nothing. */
  codeAttemptsAfterWindows: '1 day',
  /** A day untouched and not locked: every delay and lock on it has ended. */
  loginFailuresUntouched: '1 day',
  /** The alert window is at most 7 days (LOGIN_ALERT_WINDOW_SECONDS). */
  loginFailureAlertsAfterWindow: '8 days',
  /** Ended or expired sessions (and their refresh tokens) answer "has this address signed in before?". */
  sessionsAfterExpiry: '30 days',
  /** Published outbox rows are only kept to look into a delivery. */
  outboxAfterPublish: '1 day',
} as const;

export async function purgeExpired(
  pool: Pool,
  opts: { auditRetentionDays: number; now?: Date; batchSize?: number; signal?: AbortSignal },
): Promise<Record<string, number>> {
  const r = AUTH_RETENTION;
  const now = (opts.now ?? new Date()).toISOString();
  const at = (interval: string) => ({ params: [now, interval], batchSize: opts.batchSize, signal: opts.signal });
  return {
    one_time_codes: await deleteInBatches(pool, {
      table: 'one_time_codes',
      where: 'expires_at < $1::timestamptz - $2::interval',
      ...at(r.oneTimeCodesAfterExpiry),
    }),
    code_attempts: await deleteInBatches(pool, {
      table: 'code_attempts',
      where: 'window_started_at < $1::timestamptz - $2::interval AND issue_window_started_at < $1::timestamptz - $2::interval',
      ...at(r.codeAttemptsAfterWindows),
    }),
    login_failures: await deleteInBatches(pool, {
      table: 'login_failures',
      where: 'updated_at < $1::timestamptz - $2::interval AND (locked_until IS NULL OR locked_until < $1::timestamptz)',
      ...at(r.loginFailuresUntouched),
    }),
    login_failure_alerts: await deleteInBatches(pool, {
      table: 'login_failure_alerts',
      where: 'window_started_at < $1::timestamptz - $2::interval',
      ...at(r.loginFailureAlertsAfterWindow),
    }),
    sessions: await deleteInBatches(pool, {
      table: 'sessions',
      where: 'expires_at < $1::timestamptz - $2::interval',
      ...at(r.sessionsAfterExpiry),
    }),
    outbox: await deleteInBatches(pool, {
      table: 'outbox',
      where: 'published_at < $1::timestamptz - $2::interval',
      ...at(r.outboxAfterPublish),
    }),
    // Security events are kept AUDIT_RETENTION_DAYS (the operator's choice: long enough to look
    // into an incident, short enough not to keep everyone's addresses and devices for ever).
    audit_log: await deleteInBatches(pool, {
      table: 'audit_log',
      where: 'at < $1::timestamptz - make_interval(days => $2)',
      params: [now, opts.auditRetentionDays],
      batchSize: opts.batchSize,
      signal: opts.signal,
    }),
  };
}
