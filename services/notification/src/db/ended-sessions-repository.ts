/** Ended sessions as the auth service announced them, until their tokens cannot be valid anyway. */
import type { Pool } from '@warren/shared/db/database';
import type { SessionEnded } from '@warren/shared/contracts/sessions';

export interface EndedSessionRow {
  sessionId: string;
  expiresAt: Date;
}

export class EndedSessionsRepository {
  constructor(private readonly pool: Pool) {}

  /** Records announcements; a repeated one changes nothing, one already past its expiry is not kept. */
  async record(events: SessionEnded[]): Promise<void> {
    if (events.length === 0) return;
    await this.pool.query(
      `INSERT INTO ended_sessions (session_id, user_id, ended_at, expires_at)
       SELECT s, u, e, x FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[]) AS t(s, u, e, x)
       WHERE x > now()
       ON CONFLICT (session_id) DO UPDATE SET expires_at = GREATEST(ended_sessions.expires_at, EXCLUDED.expires_at)`,
      [events.map((e) => e.sessionId), events.map((e) => e.userId), events.map((e) => e.endedAt), events.map((e) => e.expiresAt)],
    );
  }

  /**
   * Sessions still to refuse that were recorded after `since` (all of them without `since`),
   * and the database's clock at the time of reading, to pass as the next `since`.
   */
  async recordedSince(since: Date | undefined): Promise<{ rows: EndedSessionRow[]; now: Date }> {
    const { rows } = await this.pool.query<EndedSessionRow & { now: Date }>(
      `SELECT s.session_id AS "sessionId", s.expires_at AS "expiresAt", n.now
       FROM (SELECT now() AS now) n
       LEFT JOIN ended_sessions s ON s.expires_at > n.now AND ($1::timestamptz IS NULL OR s.recorded_at > $1)`,
      [since ?? null],
    );
    const now = rows[0]?.now ?? new Date();
    return { rows: rows.filter((r) => r.sessionId !== null), now };
  }
}
