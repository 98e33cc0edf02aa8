/**
 * Failed logins per email and client address (`login_failures`: account or not, so an unknown
 * email is delayed and locked like a real one), and per account from every address
 * (`login_failure_alerts`, for the owner's alert email and the account-wide cap).
 *
 * A login attempt is reserved (counted as a failure) before its password is checked, under the
 * row's lock in a short transaction, so thirty concurrent guesses cannot all be evaluated: once
 * `threshold` attempts are in flight or failed, the rest are refused unchecked. A success gives
 * the address a clean slate. Past ACCOUNT_CAP_FACTOR × threshold failures on the account in a
 * window, from any addresses, addresses new to the account wait for the window to end (the
 * owner's usual addresses are not affected). The alert is claimed and written to the outbox in
 * one transaction, so a burst is announced once per window however many replicas see it.
 */
import { emailRequestedSchema } from '@warren/shared/contracts/email';
import { ROUTING_KEYS } from '@warren/shared/contracts/topology';
import { inTransaction, type Pool, type PoolClient } from '@warren/shared/db/database';
import type { LockoutPolicy, LoginFailureStore, Reservation } from '../domain/ports.js';
import { announce } from './outbox-repository.js';

/**
 * Account-wide failures in a window, as a multiple of the threshold, past which only addresses
 * that have held a session of the account may still try: per-address locks alone would let a
 * guessing run spread over many addresses go on for ever. 20 × 5 = 100 an hour by default.
 */
export const ACCOUNT_CAP_FACTOR = 20;

/** Failures from an address that stays quiet this long are forgotten. */
export const FAILURE_MEMORY_SECONDS = 3600;
/** The progressive delay starts after this many failures in a row (a typo or two costs nothing). */
export const DELAY_AFTER_FAILURES = 3;
export const MAX_DELAY_SECONDS = 60;

/** Seconds an address waits after its `failures`-th failure in a row: 0, 0, 1, 2, 4 … 60. */
export function delayAfter(failures: number): number {
  return failures < DELAY_AFTER_FAILURES ? 0 : Math.min(2 ** (failures - DELAY_AFTER_FAILURES), MAX_DELAY_SECONDS);
}

/** The email contract's greeting name. */
const ALERT_NAME = emailRequestedSchema.shape.variables.shape.name;

interface Row {
  failures: number;
  notBefore: Date | null;
  lockedUntil: Date | null;
  updatedAt: Date;
  now: Date;
}

export class LoginFailuresRepository implements LoginFailureStore {
  constructor(private readonly pool: Pool) {}

  /** `userId`: the account of the email, if there is one (only accounts have an account-wide cap). */
  async reserve(email: string, ip: string, policy: LockoutPolicy, userId: string | undefined): Promise<Reservation> {
    return inTransaction(this.pool, async (tx) => {
      await tx.query('INSERT INTO login_failures (email_lower, ip) VALUES (lower($1), $2) ON CONFLICT DO NOTHING', [email, ip]);
      const { rows } = await tx.query<Row>(
        `SELECT failures, not_before AS "notBefore", locked_until AS "lockedUntil", updated_at AS "updatedAt", now() AS now
         FROM login_failures WHERE email_lower = lower($1) AND ip = $2 FOR UPDATE`,
        [email, ip],
      );
      const row = rows[0] as Row;
      const now = row.now.getTime();
      if (row.lockedUntil && row.lockedUntil.getTime() > now) return { kind: 'locked', until: row.lockedUntil };
      if (row.notBefore && row.notBefore.getTime() > now) return { kind: 'throttled', until: row.notBefore };
      // A lock that has run out, or a long quiet spell, starts the count again.
      const stale = Boolean(row.lockedUntil) || now - row.updatedAt.getTime() > FAILURE_MEMORY_SECONDS * 1000;
      const failures = stale ? 0 : row.failures;
      // Attempts already in flight fill the threshold too: refuse without checking the password.
      if (failures >= policy.threshold) return { kind: 'locked', until: new Date(now + policy.lockSeconds * 1000) };
      const run = userId ? await this.accountWideRun(tx, userId, policy) : undefined;
      if (run && userId) {
        const known = await tx.query('SELECT 1 FROM sessions WHERE user_id = $1 AND ip = $2 LIMIT 1', [userId, ip]);
        if (!known.rowCount) return { kind: 'throttled', until: run.until };
      }
      await tx.query(
        `UPDATE login_failures SET failures = $3, locked_until = NULL, not_before = NULL, updated_at = now()
         WHERE email_lower = lower($1) AND ip = $2`,
        [email, ip, failures + 1],
      );
      return { kind: 'granted' };
    });
  }

  /** The end of the account's window if its failures in it reached the account-wide cap. */
  private async accountWideRun(tx: PoolClient, userId: string, policy: LockoutPolicy): Promise<{ until: Date } | undefined> {
    const { rows } = await tx.query<{ until: Date }>(
      `SELECT window_started_at + make_interval(secs => $2) AS until FROM login_failure_alerts
       WHERE user_id = $1 AND failures >= $3 AND window_started_at > now() - make_interval(secs => $2)`,
      [userId, policy.windowSeconds, policy.threshold * ACCOUNT_CAP_FACTOR],
    );
    return rows[0];
  }

  /**
   * The reserved attempt failed. At `threshold` failures the address is locked for
   * `lockSeconds` and its count starts again; below it, the next attempt waits `delayAfter`.
   */
  async recordFailure(email: string, ip: string, policy: LockoutPolicy): Promise<{ lockedUntil: Date | null; failures: number }> {
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<{ failures: number; lockedUntil: Date | null }>(
        `SELECT failures, locked_until AS "lockedUntil" FROM login_failures WHERE email_lower = lower($1) AND ip = $2 FOR UPDATE`,
        [email, ip],
      );
      const failures = rows[0]?.failures ?? 1;
      if (failures >= policy.threshold) {
        const { rows: locked } = await tx.query<{ lockedUntil: Date }>(
          `UPDATE login_failures SET failures = 0, not_before = NULL, updated_at = now(),
             locked_until = now() + make_interval(secs => $3)
           WHERE email_lower = lower($1) AND ip = $2 RETURNING locked_until AS "lockedUntil"`,
          [email, ip, policy.lockSeconds],
        );
        return { lockedUntil: locked[0]?.lockedUntil ?? null, failures };
      }
      await tx.query(
        `UPDATE login_failures SET updated_at = now(),
           not_before = CASE WHEN $3::int > 0 THEN now() + make_interval(secs => $3) END
         WHERE email_lower = lower($1) AND ip = $2`,
        [email, ip, delayAfter(failures)],
      );
      // Rows untouched for a day (an attack from many addresses, or on many emails) would pile
      // up; each failure removes a few, oldest first, so the table is trimmed at the pace it grows.
      await tx.query(
        `DELETE FROM login_failures WHERE ctid IN (
           SELECT ctid FROM login_failures WHERE updated_at < now() - interval '1 day'
             AND (locked_until IS NULL OR locked_until < now())
           ORDER BY updated_at LIMIT 10)`,
      );
      return { lockedUntil: null, failures };
    });
  }

  /** A success from this address: its count and delay are gone (other addresses keep theirs). */
  async clear(email: string, ip: string): Promise<void> {
    await this.pool.query('DELETE FROM login_failures WHERE email_lower = lower($1) AND ip = $2', [email, ip]);
  }

  /**
   * Counts a failure against the account (every address) in a window of `windowSeconds`. When
   * the count reaches `threshold` and the owner has not been told in this window, claims the
   * alert and writes its `email.requested` to the outbox, in one transaction; true if it did.
   */
  async countForAlert(user: { id: string; email: string; name: string }, policy: LockoutPolicy): Promise<boolean> {
    const { threshold, windowSeconds } = policy;
    return inTransaction(this.pool, async (tx) => {
      await tx.query(
        `INSERT INTO login_failure_alerts AS a (user_id, window_started_at, failures) VALUES ($1, now(), 1)
         ON CONFLICT (user_id) DO UPDATE SET
           failures = CASE WHEN a.window_started_at <= now() - make_interval(secs => $2) THEN 1 ELSE a.failures + 1 END,
           window_started_at = CASE WHEN a.window_started_at <= now() - make_interval(secs => $2) THEN now() ELSE a.window_started_at END`,
        [user.id, windowSeconds],
      );
      const { rows } = await tx.query<{ failures: number; alertedAt: Date }>(
        `UPDATE login_failure_alerts SET alerted_at = now()
         WHERE user_id = $1 AND failures >= $2 AND (alerted_at IS NULL OR alerted_at <= now() - make_interval(secs => $3))
         RETURNING failures, alerted_at AS "alertedAt"`,
        [user.id, threshold, windowSeconds],
      );
      const claimed = rows[0];
      if (!claimed) return false;
      await announce(tx, ROUTING_KEYS.emailRequested, [
        {
          to: user.email,
          template: 'login_failures',
          // A name the email contract would refuse is left out rather than fail the alert.
          variables: { failedLogins: claimed.failures, ...(ALERT_NAME.safeParse(user.name).success && { name: user.name }) },
          requestedAt: claimed.alertedAt.toISOString(),
        },
      ]);
      return true;
    });
  }
}
