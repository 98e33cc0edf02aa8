/** Users and their role's permissions, in the auth database (lockouts: login-failures-repository.ts). */
import { inTransaction, type Pool, type PoolClient } from '@warren/shared/db/database';
import type { Role } from '@warren/shared/contracts/notifications';

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  emailVerifiedAt: Date | null;
  createdAt: Date;
}

const COLUMNS = `id, email, name, role, password_hash AS "passwordHash", email_verified_at AS "emailVerifiedAt",
  created_at AS "createdAt"`;

/** The `user.upserted` event of row `u`, written to the outbox in the same transaction as the change. */
const ANNOUNCE_USER = `INSERT INTO outbox (routing_key, payload)
  SELECT 'user.upserted', jsonb_build_object('userId', u.id, 'role', u.role, 'name', u.name, 'version', u.version,
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
   * A new password also lifts every lockout and delay of the account, from every address, and
   * the account-wide count: resetting is how a locked-out user gets back in.
   */
  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.pool.query(
      `WITH cleared AS (DELETE FROM login_failures WHERE email_lower = (SELECT lower(email) FROM users WHERE id = $1)),
            forgotten AS (DELETE FROM login_failure_alerts WHERE user_id = $1)
       UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`,
      [id, passwordHash],
    );
  }

  /** The users among `ids` that exist, with role, version and name (what user.upserted announces). */
  async lookup(ids: string[]): Promise<{ userId: string; role: Role; version: number; name: string }[]> {
    const { rows } = await this.pool.query<{ userId: string; role: Role; version: number; name: string }>(
      'SELECT id AS "userId", role, version, name FROM users WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return rows;
  }

  /**
   * A page of users in name order (keyset on lower(name), id: stable under inserts, no OFFSET
   * scan), those whose name or email contains `q` ignoring case when given (`%`, `_` and `\` in
   * it are plain characters), only verified ones unless `includeUnverified`. `sortName` is the
   * keyset of the row; `lockedUntil` the latest lock of any client address out of the account.
   */
  async search(opts: { q?: string | undefined; limit: number; after?: { name: string; id: string } | undefined; includeUnverified: boolean }): Promise<
    (UserRecord & { sortName: string; lockedUntil: Date | null })[]
  > {
    const pattern = opts.q ? `%${opts.q.replace(/[\\%_]/g, '\\$&')}%` : null;
    const { rows } = await this.pool.query<UserRecord & { sortName: string; lockedUntil: Date | null }>(
      `SELECT ${COLUMNS}, lower(name) AS "sortName",
         (SELECT max(f.locked_until) FROM login_failures f WHERE f.email_lower = lower(users.email)) AS "lockedUntil"
       FROM users
       WHERE ($1::text IS NULL OR lower(name) LIKE lower($1) ESCAPE '\\' OR lower(email) LIKE lower($1) ESCAPE '\\')
         AND ($2::boolean OR email_verified_at IS NOT NULL)
         AND ($3::text IS NULL OR (lower(name), id) > ($3::text, $4::uuid))
       ORDER BY lower(name), id LIMIT $5`,
      [pattern, opts.includeUnverified, opts.after?.name ?? null, opts.after?.id ?? null, opts.limit],
    );
    return rows;
  }

  /**
   * Writes the `user.upserted` of every user, at its current version, to the outbox again, a
   * page of `pageSize` users per statement (so a big table is never one long transaction). For
   * rebuilding a consumer's directory: a consumer that has this version or a newer one changes
   * nothing, one that lost the user gets it back. Returns how many users and the outbox ids used.
   */
  async announceAll(pageSize = 1000): Promise<{ users: number; firstOutboxId?: number; lastOutboxId?: number }> {
    let after: string | null = null;
    let users = 0;
    let firstOutboxId: number | undefined;
    let lastOutboxId: number | undefined;
    for (;;) {
      // bigint comes back as text; outbox ids stay far below 2^53.
      const page: { rows: { id: string; userId: string }[] } = await this.pool.query(
        `${ANNOUNCE_USER} FROM users u WHERE ($1::uuid IS NULL OR u.id > $1) ORDER BY u.id LIMIT $2
         RETURNING id::text AS id, payload->>'userId' AS "userId"`,
        [after, pageSize],
      );
      const { rows } = page;
      if (rows.length === 0) break;
      users += rows.length;
      for (const r of rows) {
        const id = Number(r.id);
        firstOutboxId = Math.min(firstOutboxId ?? id, id);
        lastOutboxId = Math.max(lastOutboxId ?? id, id);
        // uuids sort like their lower-case text, so the greatest text is the page's last id.
        if (after === null || r.userId > after) after = r.userId;
      }
      if (rows.length < pageSize) break;
    }
    return { users, firstOutboxId, lastOutboxId };
  }

  /**
   * Changes a role unless that would leave no admin (checked under a lock, so two admins
   * demoting each other at once cannot both succeed). Returns the previous role. `alsoInTx`
   * runs in the same transaction once the role changed (a demotion ends the user's sessions).
   */
  async changeRole(
    id: string,
    role: Role,
    alsoInTx?: (client: PoolClient, previous: Role) => Promise<unknown>,
  ): Promise<{ previous: Role } | 'not_found' | 'last_admin'> {
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
      await alsoInTx?.(client, current.role);
      return { previous: current.role };
    });
  }
}
