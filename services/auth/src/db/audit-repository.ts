/** The audit log: who did what security-relevant thing, from where, when. Never a secret. */
import type { Pool } from '@warren/shared/db/database';
import type { AuditEntry, AuditEvent, AuditLog } from '../domain/ports.js';

export class AuditRepository implements AuditLog {
  constructor(private readonly pool: Pool) {}

  async record(event: AuditEvent, e: AuditEntry = {}): Promise<void> {
    await this.pool.query(
      'INSERT INTO audit_log (event, user_id, actor_id, ip, user_agent, details) VALUES ($1, $2, $3, $4, $5, $6)',
      [event, e.userId ?? null, e.actorId ?? null, e.ip ?? null, e.userAgent ?? null, e.details ?? {}],
    );
  }
}
