/**
 * The audit log: who did what security-relevant thing, from where, when. Never a secret.
 * Written by the use cases (record), read a page at a time for admins (page), pruned by
 * housekeeping after AUDIT_RETENTION_DAYS.
 */
import type { Pool } from '@warren/shared/db/database';
import type { AuditEntry, AuditEvent, AuditLog, AuditQuery, AuditRow, AuditTrail } from '../domain/ports.js';

export class AuditRepository implements AuditLog, AuditTrail {
  constructor(private readonly pool: Pool) {}

  async record(event: AuditEvent, e: AuditEntry = {}): Promise<void> {
    await this.pool.query(
      'INSERT INTO audit_log (event, user_id, actor_id, ip, user_agent, details) VALUES ($1, $2, $3, $4, $5, $6)',
      [event, e.userId ?? null, e.actorId ?? null, e.ip ?? null, e.userAgent ?? null, e.details ?? {}],
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
