/** Sessions and their (hashed) refresh tokens. */
import type { Pool } from '@warren/shared/db/database';
import { inTransaction } from '@warren/shared/db/database';

export interface NewSession {
  id: string;
  userId: string;
  expiresAt: Date;
  userAgent?: string | undefined;
  ip?: string | undefined;
  refreshTokenHash: Buffer;
}

export class SessionsRepository {
  constructor(private readonly pool: Pool) {}

  /** The session row and its first refresh token, together or not at all. */
  async create(s: NewSession): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO sessions (id, user_id, expires_at, user_agent, ip) VALUES ($1, $2, $3, $4, $5)`,
        [s.id, s.userId, s.expiresAt, s.userAgent ?? null, s.ip ?? null],
      );
      await client.query(`INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, [s.refreshTokenHash, s.id]);
    });
  }
}
