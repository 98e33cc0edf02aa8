/** Users and their role's permissions, in the auth database (lockouts: login-failures-repository.ts). */
import { ROUTING_KEYS } from '@warren/shared/contracts/topology';
import { inTransaction, type Pool, type PoolClient } from '@warren/shared/db/database';
import type { Role } from '@warren/shared/contracts/notifications';
import type { UserUpserted } from '@warren/shared/contracts/users';
import type { UserAccounts, UserRecord, UserSearch, UserSearchRow } from '../domain/ports.js';
import { announce } from './outbox-repository.js';

const COLUMNS = `id, email, name, role, password_hash AS "passwordHash", email_verified_at AS "emailVerifiedAt",
  created_at AS "createdAt"`;

/** What `user.upserted` says of a user: its id, role, name and version, as of `at`. */
interface Announced {
  id: string;
  role: Role;
  name: string;
  version: number;
  at: Date;
}

/** The columns (of a RETURNING or SELECT on users) that `userUpserted` needs; `at` is the transaction's time. */
const ANNOUNCED = 'id, role, name, version, now() AS at';
/** The same with COLUMNS, which has id, role and name already. */
const COLUMNS_ANNOUNCED = `${COLUMNS}, version, now() AS at`;

function userUpserted(u: Announced): UserUpserted {
  return { userId: u.id, role: u.role, name: u.name, version: u.version, occurredAt: u.at.toISOString() };
}

export class UsersRepository implements UserAccounts {
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
   * Inserts a verified user unless the email exists, and announces it, in one transaction; the
   * new user, or undefined if the email existed.
   */
  async createVerifiedIfAbsent(u: { email: string; name: string; role: Role; passwordHash: string }): Promise<UserRecord | undefined> {
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<UserRecord & Announced>(
        `INSERT INTO users (email, name, role, password_hash, email_verified_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT ((lower(email))) DO NOTHING
         RETURNING ${COLUMNS_ANNOUNCED}`,
        [u.email, u.name, u.role, u.passwordHash],
      );
      const created = rows[0];
      if (!created) return undefined;
      await announce(tx, ROUTING_KEYS.userUpserted, [userUpserted(created)]);
      const { version: _version, at: _at, ...user } = created;
      return user;
    });
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
  async search(opts: UserSearch): Promise<UserSearchRow[]> {
    const pattern = opts.q ? `%${opts.q.replace(/[\\%_]/g, '\\$&')}%` : null;
    const { rows } = await this.pool.query<UserSearchRow>(
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
      const { rows }: { rows: Announced[] } = await this.pool.query<Announced>(
        `SELECT ${ANNOUNCED} FROM users WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2`,
        [after, pageSize],
      );
      if (rows.length === 0) break;
      const ids = await announce(this.pool, ROUTING_KEYS.userUpserted, rows.map(userUpserted));
      users += rows.length;
      firstOutboxId ??= ids[0];
      lastOutboxId = ids.at(-1);
      after = rows.at(-1)?.id ?? null;
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
      const { rows: changed } = await client.query<Announced>(
        `UPDATE users SET role = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING ${ANNOUNCED}`,
        [id, role],
      );
      await announce(client, ROUTING_KEYS.userUpserted, changed.map(userUpserted));
      await alsoInTx?.(client, current.role);
      return { previous: current.role };
    });
  }
}
