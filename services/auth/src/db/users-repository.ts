/** Users and their role's permissions, in the auth database. */
import type { Pool } from '@warren/shared/db/database';
import type { Role } from '@warren/shared/contracts/notifications';

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  emailVerifiedAt: Date | null;
}

const COLUMNS = `id, email, name, role, password_hash AS "passwordHash", email_verified_at AS "emailVerifiedAt"`;

export class UsersRepository {
  constructor(private readonly pool: Pool) {}

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRecord>(`SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
    return rows[0];
  }

  /** Inserts a verified user unless the email exists; true when it was created. */
  async createVerifiedIfAbsent(u: { email: string; name: string; role: Role; passwordHash: string }): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO users (email, name, role, password_hash, email_verified_at)
       VALUES ($1, $2, $3, $4, now())
       ON CONFLICT ((lower(email))) DO NOTHING`,
      [u.email, u.name, u.role, u.passwordHash],
    );
    return rowCount === 1;
  }

  async permissionsOf(role: Role): Promise<string[]> {
    const { rows } = await this.pool.query<{ permission: string }>(
      'SELECT permission FROM role_permissions WHERE role = $1 ORDER BY permission',
      [role],
    );
    return rows.map((r) => r.permission);
  }
}
