/**
 * The audit log: who did what security-relevant thing, from where, when. Never a secret.
 * Written by the use cases (record; recordOrCount for refusals anyone can repeat for nothing,
 * domain/audit-refusals.ts), read a page at a time for admins (page), pruned by
 * housekeeping after AUDIT_RETENTION_DAYS.
 */
import type { Pool } from '@warren/shared/db/database';
import type { AuditEntry, AuditEvent, AuditLog, AuditQuery, AuditRow, AuditTrail } from '../domain/ports.js';

/**
 * How many of an account's newest events of one kind recordOrCount looks at for one to count in:
 * more than one, so that refusals with other details in between (another session's reused token,
 * a reset that did send its email) do not start a new row each time; few, so the look is a few
 * index entries.
 */
const RECENT_LOOKED_AT = 8;

export class AuditRepository implements AuditLog, AuditTrail {
  constructor(private readonly pool: Pool) {}

  async record(event: AuditEvent, e: AuditEntry = {}): Promise<void> {
    await this.pool.query(
      'INSERT INTO audit_log (event, user_id, actor_id, ip, user_agent, details) VALUES ($1, $2, $3, $4, $5, $6)',
      [event, e.userId ?? null, e.actorId ?? null, e.ip ?? null, e.userAgent ?? null, e.details ?? {}],
    );
  }

  /**
   * One statement, so one round trip and no transaction to hold open: the account's newest
   * events of this kind (a few entries of the index on (user_id, event, id), migration
   * 1700000000007, whatever else the log holds), the newest of them with the same details and
   * an `at` inside the window gets its count raised, and only if none did is a row inserted.
   * The range is written as row comparisons ordered by all three columns: with `user_id =` and
   * `event =` the planner drops both from the order, and then the primary key or (user_id, id)
   * gives it too, walked backwards through every newer row of other accounts or kinds (the
   * flood this is for: 40 000 rows read in the test instead of 8). Only this index gives this
   * order, and a row comparison on it ends the scan where the account's events of the kind end.
   *
   * Concurrent calls: the UPDATE locks the row it raises; one that has to wait re-reads the row
   * once the other commits (PostgreSQL re-checks the row's newest version), so it adds to the
   * other's count instead of overwriting it — no count is lost. Each call locks at most that one
   * row and waits for nothing else, so calls cannot deadlock. Calls that all start before any of
   * them has committed a row find nothing and each insert one: at most as many rows as calls
   * running at that moment (the pool's connections, per replica), each counting its own share.
   * A row deleted by housekeeping meanwhile updates nothing, so the event is inserted anew.
   * `lastAt` never goes back (a call that waited may have started earlier than the one before).
   */
  async recordOrCount(event: AuditEvent, e: AuditEntry & { userId: string }, windowSeconds: number): Promise<void> {
    await this.pool.query(
      `WITH recent AS (
         SELECT k.id, k.at, k.details FROM audit_log k
          WHERE (k.user_id, k.event, k.id) >= ($2::uuid, $1::text, 0)
            AND (k.user_id, k.event, k.id) <= ($2::uuid, $1::text, 9223372036854775807)
          ORDER BY k.user_id DESC, k.event DESC, k.id DESC
          LIMIT ${RECENT_LOOKED_AT}
       ), counted AS (
         UPDATE audit_log a
            SET details = a.details || jsonb_build_object(
                  'repeats', COALESCE((a.details->>'repeats')::int, 1) + 1,
                  'lastAt', to_char(GREATEST(COALESCE((a.details->>'lastAt')::timestamptz, a.at), now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
          WHERE a.id = (SELECT r.id FROM recent r
                         WHERE r.at > now() - make_interval(secs => $7) AND r.details - 'repeats' - 'lastAt' = $6::jsonb
                         ORDER BY r.id DESC LIMIT 1)
            AND a.at > now() - make_interval(secs => $7)
         RETURNING a.id
       )
       INSERT INTO audit_log (event, user_id, actor_id, ip, user_agent, details)
       SELECT $1::text, $2::uuid, $3::uuid, $4::text, $5::text, $6::jsonb
        WHERE NOT EXISTS (SELECT 1 FROM counted)`,
      [event, e.userId, e.actorId ?? null, e.ip ?? null, e.userAgent ?? null, e.details ?? {}, windowSeconds],
    );
  }

  /**
   * Newest first by id (the keyset: an identity, so a page never shifts when events are added),
   * with the user's and the actor's current name and email.
   *
   * Unfiltered, the page is the primary key read backwards. Filtered, it is read from the
   * index of the filter: one range of (user_id, id) for one user (migration 1700000000006),
   * or per event one range of (event, id), or of (user_id, event, id) for one user's
   * (migration 1700000000007), the newest of which make the page: at most events × limit
   * index entries, whatever else the log holds. The planner must not walk the primary key
   * backwards instead, filtering, as it does when the filter looks likely to pass (a user who
   * holds most rows, an event that is common): that reads every newer row the filter refuses
   * first, and those are what a stranger writes in bulk (failed or refused sign-ins). So each
   * range asks for the order of its index, the filtered column first, with that column bounded
   * by >= and <= rather than =, an equality the planner would drop from the order (the
   * primary key would then give it): only the index gives that order.
   */
  async page(q: AuditQuery): Promise<AuditRow[]> {
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const limit = param(q.limit);
    const userId = q.userId === undefined ? undefined : `${param(q.userId)}::uuid`;
    const before = q.before === undefined ? undefined : `${param(q.before)}::bigint`;
    const olderThan = before ? [`k.id < ${before}`] : [];
    /** One range of an index, newest first: `bounded` is the column asked for first (see above). */
    const range = (equal: string[], bounded: string, value: string) =>
      `(SELECT k.id FROM audit_log k WHERE ${[...equal, `k.${bounded} >= ${value}`, `k.${bounded} <= ${value}`, ...olderThan].join(' AND ')}
         ORDER BY k.${bounded} DESC, k.id DESC LIMIT ${limit})`;
    let ranges: string[] | undefined;
    if (q.events !== undefined) {
      ranges = q.events.map((event) => range(userId ? [`k.user_id = ${userId}`] : [], 'event', `${param(event)}::text`));
    } else if (userId) {
      ranges = [range([], 'user_id', userId)];
    }
    const from = ranges
      ? `(SELECT id FROM (${ranges.join(' UNION ALL ')}) per_range ORDER BY id DESC LIMIT ${limit}) newest JOIN audit_log a ON a.id = newest.id`
      : 'audit_log a';
    const { rows } = await this.pool.query<AuditRow>(
      `SELECT a.id::text AS id, a.at, a.event, a.user_id AS "userId", u.name AS "userName", u.email AS "userEmail",
              a.actor_id AS "actorId", ac.name AS "actorName", ac.email AS "actorEmail",
              a.ip, a.user_agent AS "userAgent", a.details
         FROM ${from}
         LEFT JOIN users u ON u.id = a.user_id
         LEFT JOIN users ac ON ac.id = a.actor_id
        ${!ranges && before ? `WHERE a.id < ${before}` : ''}
        ORDER BY a.id DESC
        LIMIT ${limit}`,
      params,
    );
    return rows;
  }
}
