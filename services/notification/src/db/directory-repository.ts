/** The user directory built from `user.upserted` events: who holds which role. */
import type { Pool } from '@warren/shared/db/database';
import type { Role } from '@warren/shared/contracts/notifications';
import type { DirectoryUser, UserDirectory } from '../domain/ports.js';

export class DirectoryRepository implements UserDirectory {
  constructor(private readonly pool: Pool) {}

  /**
   * Keeps the newest version of each user; older or repeated events change nothing, except that
   * an event of the version held fills a name the directory lacks (a user announced before
   * names were, announced again or looked up). An event without a name keeps the name held.
   */
  async upsert(events: DirectoryUser[]): Promise<void> {
    if (events.length === 0) return;
    await this.pool.query(
      `INSERT INTO directory_users (user_id, role, version, name)
       SELECT DISTINCT ON (u) u, r, v, n FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[]) AS e(u, r, v, n)
       ORDER BY u, v DESC, n IS NULL
       ON CONFLICT (user_id) DO UPDATE
       SET role = EXCLUDED.role, version = EXCLUDED.version, name = COALESCE(EXCLUDED.name, directory_users.name), updated_at = now()
       WHERE directory_users.version < EXCLUDED.version
          OR (directory_users.version = EXCLUDED.version AND directory_users.name IS NULL AND EXCLUDED.name IS NOT NULL)`,
      [events.map((e) => e.userId), events.map((e) => e.role), events.map((e) => e.version), events.map((e) => e.name ?? null)],
    );
  }

  /** Which of `userIds` the directory holds a name for. */
  async named(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const { rows } = await this.pool.query<{ userId: string }>(
      'SELECT user_id AS "userId" FROM directory_users WHERE user_id = ANY($1::uuid[]) AND name IS NOT NULL',
      [userIds],
    );
    return new Set(rows.map((r) => r.userId));
  }

  /** Which of `userIds` the directory knows (auth announced them); the others match no user. */
  async knownUsers(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const { rows } = await this.pool.query<{ userId: string }>('SELECT user_id AS "userId" FROM directory_users WHERE user_id = ANY($1::uuid[])', [userIds]);
    return new Set(rows.map((r) => r.userId));
  }

  async usersWithRoles(roles: Role[]): Promise<{ userId: string; role: Role }[]> {
    if (roles.length === 0) return [];
    const { rows } = await this.pool.query<{ userId: string; role: Role }>(
      'SELECT user_id AS "userId", role FROM directory_users WHERE role = ANY($1)',
      [roles],
    );
    return rows;
  }
}
