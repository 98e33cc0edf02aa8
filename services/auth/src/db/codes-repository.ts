/** One-time codes (hashed) and the per-address count of wrong tries. */
import type { PoolClient } from '@warren/shared/db/database';
import { inTransaction, type Pool } from '@warren/shared/db/database';

export type CodePurpose = 'verify_email' | 'password_reset';

export interface CodeRecord {
  id: string;
  codeHash: string;
  payload: Record<string, unknown>;
  expiresAt: Date;
  usedAt: Date | null;
}

/** How many recent codes of one address are compared with a presented code. */
export const RECENT_CODES = 3;

export class CodesRepository {
  constructor(private readonly pool: Pool) {}

  /** Stores a new code and resets the address's wrong-try count. */
  async insert(c: { id: string; purpose: CodePurpose; email: string; codeHash: string; payload: object; ttlSeconds: number }): Promise<void> {
    await inTransaction(this.pool, async (tx) => {
      await tx.query(
        `INSERT INTO one_time_codes (id, purpose, email_lower, code_hash, payload, expires_at)
         VALUES ($1, $2, lower($3), $4, $5, now() + make_interval(secs => $6))`,
        [c.id, c.purpose, c.email, c.codeHash, c.payload, c.ttlSeconds],
      );
      await tx.query(
        `INSERT INTO code_attempts (purpose, email_lower, failures) VALUES ($1, lower($2), 0)
         ON CONFLICT (purpose, email_lower) DO UPDATE SET failures = 0, updated_at = now()`,
        [c.purpose, c.email],
      );
    });
  }

  /** Live (unused, unexpired) codes of an address, newest first. */
  async live(purpose: CodePurpose, email: string): Promise<CodeRecord[]> {
    const { rows } = await this.pool.query<CodeRecord>(
      `SELECT id, code_hash AS "codeHash", payload, expires_at AS "expiresAt", used_at AS "usedAt"
       FROM one_time_codes WHERE purpose = $1 AND email_lower = lower($2) AND used_at IS NULL AND expires_at > now()
       ORDER BY created_at DESC LIMIT $3`,
      [purpose, email, RECENT_CODES],
    );
    return rows;
  }

  /**
   * Runs `fn` holding the address's attempt row locked, so concurrent tries are counted one
   * after another and a code is consumed at most once.
   */
  async withAttempts<T>(
    purpose: CodePurpose,
    email: string,
    fn: (ctx: { failures: number; recent: CodeRecord[]; tx: PoolClient }) => Promise<T>,
  ): Promise<T> {
    return inTransaction(this.pool, async (tx) => {
      await tx.query(
        `INSERT INTO code_attempts (purpose, email_lower) VALUES ($1, lower($2)) ON CONFLICT DO NOTHING`,
        [purpose, email],
      );
      const { rows } = await tx.query<{ failures: number }>(
        'SELECT failures FROM code_attempts WHERE purpose = $1 AND email_lower = lower($2) FOR UPDATE',
        [purpose, email],
      );
      const { rows: recent } = await tx.query<CodeRecord>(
        `SELECT id, code_hash AS "codeHash", payload, expires_at AS "expiresAt", used_at AS "usedAt"
         FROM one_time_codes WHERE purpose = $1 AND email_lower = lower($2)
         ORDER BY created_at DESC LIMIT $3`,
        [purpose, email, RECENT_CODES],
      );
      return fn({ failures: rows[0]?.failures ?? 0, recent, tx });
    });
  }

  static async recordFailure(tx: PoolClient, purpose: CodePurpose, email: string): Promise<number> {
    const { rows } = await tx.query<{ failures: number }>(
      `UPDATE code_attempts SET failures = failures + 1, updated_at = now()
       WHERE purpose = $1 AND email_lower = lower($2) RETURNING failures`,
      [purpose, email],
    );
    return rows[0]?.failures ?? 0;
  }

  /** Marks every unused code of the address used: one success ends them all. */
  static async consumeAll(tx: PoolClient, purpose: CodePurpose, email: string): Promise<void> {
    await tx.query(
      `UPDATE one_time_codes SET used_at = now() WHERE purpose = $1 AND email_lower = lower($2) AND used_at IS NULL`,
      [purpose, email],
    );
    await tx.query('UPDATE code_attempts SET failures = 0 WHERE purpose = $1 AND email_lower = lower($2)', [purpose, email]);
  }
}
