/** Users, their role's permissions, and the lockout counters, in the auth database. */
import { inTransaction, type Pool } from '@warren/shared/db/database';
import type { Role } from '@warren/shared/contracts/notifications';

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  emailVerifiedAt: Date | null;
  failedLogins: number;
  lockedUntil: Date | null;
  createdAt: Date;
}

const COLUMNS = `id, email, name, role, password_hash AS "passwordHash", email_verified_at AS "emailVerifiedAt",
  failed_logins AS "failedLogins", locked_until AS "lockedUntil", created_at AS "createdAt"`;

/** The `user.upserted` event of row `u`, written to the outbox in the same transaction as the change. */
const ANNOUNCE_USER = `INSERT INTO outbox (routing_key, payload)
  SELECT 'user.upserted', jsonb_build_object('userId', u.id, 'role', u.role, 'version', u.version,
    'occurredAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;

export class UsersRepository {
  constructor(private readonly pool: Pool) {}

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRecord>(`SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
    return rows[0];
  }

  async findById(id: string): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRecord>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0];
  }

  /**
   * Inserts a verified user unless the email exists, and announces it (one statement, so
   * both or neither); the new user, or undefined if the email existed.
   */
  async createVerifiedIfAbsent(u: { email: string; name: string; role: Role; passwordHash: string }): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRecord>(
      `WITH u AS (
         INSERT INTO users (email, name, role, password_hash, email_verified_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT ((lower(email))) DO NOTHING
         RETURNING *
       ), announced AS (${ANNOUNCE_USER} FROM u)
       SELECT ${COLUMNS} FROM u`,
      [u.email, u.name, u.role, u.passwordHash],
    );
    return rows[0];
  }

  async permissionsOf(role: Role): Promise<string[]> {
    const { rows } = await this.pool.query<{ permission: string }>(
      'SELECT permission FROM role_permissions WHERE role = $1 ORDER BY permission',
      [role],
    );
    return rows.map((r) => r.permission);
  }

  /**
   * Counts a failed login atomically. Reaching `threshold` locks the account for `lockSeconds`
   * and restarts the count, so the first failure after the lock ends does not re-lock at once.
   */
  async recordFailedLogin(id: string, threshold: number, lockSeconds: number): Promise<{ lockedUntil: Date | null }> {
    const { rows } = await this.pool.query<{ lockedUntil: Date | null }>(
      `UPDATE users SET
         locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + make_interval(secs => $3) ELSE locked_until END,
         failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END
       WHERE id = $1
       RETURNING CASE WHEN locked_until > now() THEN locked_until END AS "lockedUntil"`,
      [id, threshold, lockSeconds],
    );
    return rows[0] ?? { lockedUntil: null };
  }

  async clearFailedLogins(id: string): Promise<void> {
    await this.pool.query(
      'UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)',
      [id],
    );
  }

  /** A new password also lifts a lockout: resetting is how a locked-out user gets back in. */
  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.pool.query(
      'UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL, updated_at = now() WHERE id = $1',
      [id, passwordHash],
    );
  }

  /** The users among `ids` that exist, with role and version (what user.upserted announces). */
  async lookup(ids: string[]): Promise<{ userId: string; role: Role; version: number }[]> {
    const { rows } = await this.pool.query<{ userId: string; role: Role; version: number }>(
      'SELECT id AS "userId", role, version FROM users WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return rows;
  }

  /** Keyset page by id: stable under inserts, no OFFSET scan. */
  async list(limit: number, afterId?: string): Promise<UserRecord[]> {
    const { rows } = await this.pool.query<UserRecord>(
      `SELECT ${COLUMNS} FROM users WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2`,
      [afterId ?? null, limit],
    );
    return rows;
  }

  /**
   * Changes a role unless that would leave no admin (checked under a lock, so two admins
   * demoting each other at once cannot both succeed). Returns the previous role.
   */
  async changeRole(id: string, role: Role): Promise<{ previous: Role } | 'not_found' | 'last_admin'> {
    return inTransaction(this.pool, async (client) => {
      await client.query("SELECT id FROM users WHERE role = 'admin' FOR UPDATE");
      const { rows } = await client.query<{ role: Role }>('SELECT role FROM users WHERE id = $1 FOR UPDATE', [id]);
      const current = rows[0];
      if (!current) return 'not_found';
      if (current.role === 'admin' && role !== 'admin') {
        const { rows: admins } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM users WHERE role = 'admin'");
        if ((admins[0]?.n ?? 0) <= 1) return 'last_admin';
      }
      await client.query('UPDATE users SET role = $2, version = version + 1, updated_at = now() WHERE id = $1', [id, role]);
      await client.query(`${ANNOUNCE_USER} FROM users u WHERE u.id = $1`, [id]);
      return { previous: current.role };
    });
  }
}
