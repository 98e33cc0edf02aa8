/**
 * One-time codes (hashed), and per purpose and address two counters in `code_attempts`: wrong
 * tries in a window that issuing a new code does not restart, and codes issued in a window.
 * Each counter moves in one atomic statement, so concurrent requests can never get more than
 * the cap between them (a try is reserved before its code is checked, not recorded after).
 */
import { inTransaction, type Pool } from '@warren/shared/db/database';
import type { AttemptSlot, CodePurpose, CodeRecord, OneTimeCodeStore } from '../domain/ports.js';

const RECORD = `id, code_hash AS "codeHash", payload, expires_at AS "expiresAt", used_at AS "usedAt"`;

export class CodesRepository implements OneTimeCodeStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Counts one issue of a code for the address in the current window; false once `max` codes
   * were issued in it (the caller then issues nothing). Used for every registration, known
   * address or not, so both paths do the same work.
   */
  async claimIssue(purpose: CodePurpose, email: string, max: number, windowSeconds: number): Promise<boolean> {
    const { rows } = await this.pool.query<{ issued: number }>(
      `INSERT INTO code_attempts AS a (purpose, email_lower, issued, issue_window_started_at) VALUES ($1, lower($2), 1, now())
       ON CONFLICT (purpose, email_lower) DO UPDATE SET
         issued = CASE WHEN a.issue_window_started_at <= now() - make_interval(secs => $3) THEN 1 ELSE a.issued + 1 END,
         issue_window_started_at = CASE WHEN a.issue_window_started_at <= now() - make_interval(secs => $3)
                                        THEN now() ELSE a.issue_window_started_at END,
         updated_at = now()
       RETURNING issued`,
      [purpose, email, windowSeconds],
    );
    return (rows[0]?.issued ?? Infinity) <= max;
  }

  /**
   * Stores a new code and voids every earlier unused code of the same purpose and address, in
   * one transaction: only the newest registration (or reset request) can ever be completed.
   */
  async replace(c: { id: string; purpose: CodePurpose; email: string; codeHash: string; payload: object; ttlSeconds: number }): Promise<void> {
    await inTransaction(this.pool, async (tx) => {
      await tx.query(
        'UPDATE one_time_codes SET used_at = now() WHERE purpose = $1 AND email_lower = lower($2) AND used_at IS NULL',
        [c.purpose, c.email],
      );
      await tx.query(
        `INSERT INTO one_time_codes (id, purpose, email_lower, code_hash, payload, expires_at)
         VALUES ($1, $2, lower($3), $4, $5, now() + make_interval(secs => $6))`,
        [c.id, c.purpose, c.email, c.codeHash, c.payload, c.ttlSeconds],
      );
    });
  }

  /** The newest code of the address, whatever its state: the only one a guess is compared with. */
  async newest(purpose: CodePurpose, email: string): Promise<CodeRecord | undefined> {
    const { rows } = await this.pool.query<CodeRecord>(
      `SELECT ${RECORD} FROM one_time_codes WHERE purpose = $1 AND email_lower = lower($2) ORDER BY created_at DESC LIMIT 1`,
      [purpose, email],
    );
    return rows[0];
  }

  /** The newest code of the address if it is still usable (a pending registration, for login's 403). */
  async newestLive(purpose: CodePurpose, email: string): Promise<CodeRecord | undefined> {
    const code = await this.newest(purpose, email);
    return code && !code.usedAt && code.expiresAt.getTime() > Date.now() ? code : undefined;
  }

  /**
   * Reserves one try for the address before any code is checked. Past `max` tries in the window
   * the slot is refused; the window starts at the first try and is not restarted by new codes.
   */
  async reserveAttempt(purpose: CodePurpose, email: string, max: number, windowSeconds: number): Promise<AttemptSlot> {
    const { rows } = await this.pool.query<{ failures: number; retryAfter: number }>(
      `INSERT INTO code_attempts AS a (purpose, email_lower, failures, window_started_at) VALUES ($1, lower($2), 1, now())
       ON CONFLICT (purpose, email_lower) DO UPDATE SET
         failures = CASE WHEN a.window_started_at <= now() - make_interval(secs => $3) THEN 1 ELSE a.failures + 1 END,
         window_started_at = CASE WHEN a.window_started_at <= now() - make_interval(secs => $3) THEN now() ELSE a.window_started_at END,
         updated_at = now()
       RETURNING failures,
         ceil(extract(epoch FROM window_started_at + make_interval(secs => $3) - now()))::int AS "retryAfter"`,
      [purpose, email, windowSeconds],
    );
    const row = rows[0] ?? { failures: Infinity, retryAfter: windowSeconds };
    return { granted: row.failures <= max, tries: row.failures, retryAfterSeconds: Math.max(1, row.retryAfter) };
  }

  /** Gives back a reserved try that turned out not to be a guess (the right code was presented). */
  async refundAttempt(purpose: CodePurpose, email: string): Promise<void> {
    await this.pool.query(
      'UPDATE code_attempts SET failures = greatest(failures - 1, 0) WHERE purpose = $1 AND email_lower = lower($2)',
      [purpose, email],
    );
  }

  /** Uses the code if it is still unused and live; its payload, or undefined if another request won. */
  async consume(id: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await this.pool.query<{ payload: Record<string, unknown> }>(
      'UPDATE one_time_codes SET used_at = now() WHERE id = $1 AND used_at IS NULL AND expires_at > now() RETURNING payload',
      [id],
    );
    return rows[0]?.payload;
  }
}
