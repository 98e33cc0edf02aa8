/** `GET /audit-events` (permission audit:read: admins): the audit log of sign-ins and other security events. */
import type { Session } from './session.js';
import type { AuditPage, AuditQuery } from './types.js';

export function auditEventsOf(session: Session, mainUrl: string): (query?: AuditQuery) => Promise<AuditPage> {
  return ({ userId, event, limit, before } = {}) => {
    const query = new URLSearchParams();
    if (userId) query.set('userId', userId);
    const events = typeof event === 'string' ? [event] : (event ?? []);
    if (events.length > 0) query.set('event', events.join(','));
    if (limit !== undefined) query.set('limit', String(limit));
    if (before) query.set('before', before);
    const qs = query.toString();
    return session.authorized<AuditPage>('GET', `${mainUrl}/audit-events${qs ? `?${qs}` : ''}`);
  };
}
