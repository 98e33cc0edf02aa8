/** The audit log: who did what security-relevant thing, from where, when. Never a secret. */
import type { Pool } from '@warren/shared/db/database';

export type AuditEvent =
  | 'login_succeeded'
  | 'login_failed'
  | 'account_locked'
  | 'login_refused_locked'
  | 'login_throttled'
  | 'login_failures_alerted'
  | 'logout'
  | 'logout_all'
  | 'session_revoked'
  | 'refresh_reused'
  | 'registration_requested'
  | 'registration_existing_email'
  | 'email_verified'
  | 'password_reset_requested'
  | 'password_changed'
  | 'role_changed';

export interface AuditEntry {
  userId?: string | undefined;
  actorId?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  details?: Record<string, unknown>;
}

export class AuditRepository {
  constructor(private readonly pool: Pool) {}

  async record(event: AuditEvent, e: AuditEntry = {}): Promise<void> {
    await this.pool.query(
      'INSERT INTO audit_log (event, user_id, actor_id, ip, user_agent, details) VALUES ($1, $2, $3, $4, $5, $6)',
      [event, e.userId ?? null, e.actorId ?? null, e.ip ?? null, e.userAgent ?? null, e.details ?? {}],
    );
  }
}
