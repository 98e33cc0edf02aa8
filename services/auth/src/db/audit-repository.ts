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
   * with the user's and the actor's current name and email. Served by the primary key, or by
   * (user_id, id) and (event, id) when filtered (migration 1700000000006).
   */
  async page(q: AuditQuery): Promise<AuditRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (q.userId !== undefined) where.push(`a.user_id = ${param(q.userId)}::uuid`);
    if (q.events !== undefined) where.push(`a.event = ANY(${param(q.events)}::text[])`);
    if (q.before !== undefined) where.push(`a.id < ${param(q.before)}::bigint`);
    const { rows } = await this.pool.query<AuditRow>(
      `SELECT a.id::text AS id, a.at, a.event, a.user_id AS "userId", u.name AS "userName", u.email AS "userEmail",
              a.actor_id AS "actorId", ac.name AS "actorName", ac.email AS "actorEmail",
              a.ip, a.user_agent AS "userAgent", a.details
         FROM audit_log a
         LEFT JOIN users u ON u.id = a.user_id
         LEFT JOIN users ac ON ac.id = a.actor_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY a.id DESC
        LIMIT ${param(q.limit)}`,
      params,
    );
    return rows;
  }
}
