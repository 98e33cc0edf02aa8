/**
 * Sessions and their refresh tokens (stored only as SHA-256 hashes). Ending a session also
 * writes `session.ended` to the outbox in the same transaction, so that the services verifying
 * access tokens hear of every ended session (they refuse its tokens until they expire).
 */
import type { SessionEnded } from '@warren/shared/contracts/sessions';
import { ROUTING_KEYS } from '@warren/shared/contracts/topology';
import { inTransaction, inTransactionOf, type Pool, type PoolClient } from '@warren/shared/db/database';
import type { NewSession, RefreshTokenLookup, SessionRecord, SessionStore } from '../domain/ports.js';
import { announce } from './outbox-repository.js';

/** A pool, or the client of a transaction that must end sessions together with its own change. */
type Queryable = Pool | PoolClient;

/** A session as it ends (the columns `ENDED` returns). */
interface Ended {
  id: string;
  userId: string;
  revokedAt: Date;
  expiresAt: Date;
}
const ENDED = 'id, user_id AS "userId", revoked_at AS "revokedAt", expires_at AS "expiresAt"';

/**
 * `session.ended` for each of `ended`. `announceSeconds` is how long an access token of the
 * session may still be valid: the receivers remember it that long. A session past its absolute
 * expiry by more than that has no valid token left to refuse, and is not announced.
 */
function sessionsEnded(ended: Ended[], announceSeconds: number): SessionEnded[] {
  const ms = announceSeconds * 1000;
  return ended
    .filter((e) => e.expiresAt.getTime() > e.revokedAt.getTime() - ms)
    .map((e) => ({
      sessionId: e.id,
      userId: e.userId,
      endedAt: e.revokedAt.toISOString(),
      expiresAt: new Date(e.revokedAt.getTime() + ms).toISOString(),
    }));
}

const SESSION_COLUMNS = `s.id, s.user_id AS "userId", s.created_at AS "createdAt", s.last_used_at AS "lastUsedAt",
  s.expires_at AS "expiresAt", s.revoked_at AS "revokedAt", s.user_agent AS "userAgent", s.ip`;

export class SessionsRepository implements SessionStore {
  /**
   * @param accessTokenTtlSeconds the access tokens' lifetime: how long an ended session must be
   * remembered by the verifiers (a minute more, for clocks that disagree a little).
   */
  constructor(
    private readonly pool: Pool,
    private readonly accessTokenTtlSeconds: number,
  ) {}

  private get announceSeconds(): number {
    return this.accessTokenTtlSeconds + 60;
  }

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

  async findByRefreshToken(hash: Buffer): Promise<RefreshTokenLookup | undefined> {
    const { rows } = await this.pool.query<SessionRecord & { rotatedAt: Date | null }>(
      `SELECT ${SESSION_COLUMNS}, t.rotated_at AS "rotatedAt"
       FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1`,
      [hash],
    );
    const row = rows[0];
    if (!row) return undefined;
    const { rotatedAt, ...session } = row;
    return { session, rotatedAt };
  }

  /**
   * Rotates a refresh token: marks the old one rotated and stores the new one, in one
   * transaction. Only one caller can rotate a given token (the UPDATE matches once), so
   * concurrent refreshes of the same token cannot both succeed: false for the loser.
   */
  async rotate(oldHash: Buffer, newHash: Buffer, sessionId: string, client: { ip?: string | undefined; userAgent?: string | undefined }): Promise<boolean> {
    return inTransaction(this.pool, async (tx) => {
      const updated = await tx.query(
        'UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1 AND rotated_at IS NULL',
        [oldHash],
      );
      if (updated.rowCount !== 1) return false;
      await tx.query('INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)', [newHash, sessionId]);
      await tx.query(
        `UPDATE sessions SET last_used_at = now(), ip = COALESCE($2, ip), user_agent = COALESCE($3, user_agent) WHERE id = $1`,
        [sessionId, client.ip ?? null, client.userAgent ?? null],
      );
      return true;
    });
  }

  async findLive(sessionId: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.pool.query<SessionRecord>(
      `SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > now()`,
      [sessionId],
    );
    return rows[0];
  }

  async listLive(userId: string): Promise<SessionRecord[]> {
    const { rows } = await this.pool.query<SessionRecord>(
      `SELECT ${SESSION_COLUMNS} FROM sessions s
       WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
       ORDER BY s.last_used_at DESC`,
      [userId],
    );
    return rows;
  }

  /** Ends one session of the user and announces it; false if it was not a live session of theirs. */
  async revoke(userId: string, sessionId: string): Promise<boolean> {
    return (await this.end('id = $1 AND user_id = $2', [sessionId, userId], this.pool)).length === 1;
  }

  /**
   * Ends every session of the user that is not ended yet and announces each; returns their ids.
   * `db` may be the client of a transaction (a demotion ends the sessions in its own).
   */
  async revokeAll(userId: string, db: Queryable = this.pool): Promise<string[]> {
    return (await this.end('user_id = $1', [userId], db)).map((e) => e.id);
  }

  /** Ends the sessions `where` matches that are not ended yet, and announces them, in one transaction. */
  private end(where: string, params: unknown[], db: Queryable): Promise<Ended[]> {
    return inTransactionOf(db, async (tx) => {
      const { rows } = await tx.query<Ended>(
        `UPDATE sessions SET revoked_at = now() WHERE ${where} AND revoked_at IS NULL RETURNING ${ENDED}`,
        params,
      );
      await announce(tx, ROUTING_KEYS.sessionEnded, sessionsEnded(rows, this.announceSeconds));
      return rows;
    });
  }
}
