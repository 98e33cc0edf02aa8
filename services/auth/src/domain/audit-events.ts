/**
 * Reading the audit log (GET /audit-events on main-backend), for whoever's role holds audit:read
 * now (admins). Main-backend checks the permission in the token; this checks it again against the
 * caller's current role in the database, so a token issued before a demotion reads nothing.
 *
 * The answer is bounded and holds nothing secret: `details` keeps only the keys the contract
 * lists (auditDetailsSchema), each only in its shape, and a user agent (up to 512 characters
 * stored, attacker-chosen) is cut to AUDIT_USER_AGENT_MAX.
 *
 * Every read is itself recorded (`audit_read`: the admin as actor, the user whose events were
 * read, the filter and the count), after the page is read so it is not in its own answer. Who
 * looked at whose sign-ins, addresses and devices is worth as much to an investigation as the
 * sign-ins: it is personal data, and an admin browsing a colleague's is the insider case the
 * log is for. Each page is recorded, not only the first: a first page is any `before` past the
 * newest id, so recording "first pages" only would be easy to go around. If the record cannot be
 * written the read fails too: no read goes unrecorded. Decision 0031.
 */
import { AUDIT_USER_AGENT_MAX, auditDetailsSchema, type AuditEvent, type AuditEventItem, type AuditPage } from '@warren/shared/contracts/audit';
import { AppError } from '@warren/shared/errors';
import type { Actor, AuthDeps } from './deps.js';
import type { AuditRow } from './ports.js';
import { requireLiveSession } from './sessions.js';

export const AUDIT_READ_PERMISSION = 'audit:read';

export interface AuditEventsRequest extends Actor {
  subjectUserId?: string | undefined;
  events?: AuditEvent[] | undefined;
  limit: number;
  before?: string | undefined;
}

export async function listAuditEvents(deps: AuthDeps, req: AuditEventsRequest): Promise<AuditPage> {
  const { user } = await requireLiveSession(deps, req);
  const permissions = await deps.users.permissionsOf(user.role);
  if (!permissions.includes(AUDIT_READ_PERMISSION)) {
    throw AppError.forbidden('missing_permission', `This needs the permission ${AUDIT_READ_PERMISSION}.`);
  }
  const rows = await deps.auditTrail.page({ userId: req.subjectUserId, events: req.events, limit: req.limit + 1, before: req.before });
  const page = rows.slice(0, req.limit);
  await deps.audit.record('audit_read', {
    userId: req.subjectUserId,
    actorId: req.userId,
    ip: req.ip,
    userAgent: req.userAgent,
    details: { ...(req.events ? { events: req.events } : {}), ...(req.before ? { before: req.before } : {}), limit: req.limit, returned: page.length },
  });
  return {
    items: page.map(toItem),
    nextCursor: rows.length > req.limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}

function toItem(r: AuditRow): AuditEventItem {
  return {
    id: r.id,
    at: r.at.toISOString(),
    event: r.event,
    userId: r.userId,
    user: r.userId && r.userName !== null && r.userEmail !== null ? { name: r.userName, email: r.userEmail } : null,
    actorId: r.actorId,
    actor: r.actorId && r.actorName !== null && r.actorEmail !== null ? { name: r.actorName, email: r.actorEmail } : null,
    ip: r.ip,
    userAgent: boundedUserAgent(r.userAgent),
    details: knownDetails(r.details),
  };
}

/** Only the listed keys, each only when its value has the listed shape: nothing else stored leaves auth. */
export function knownDetails(stored: Record<string, unknown> | null | undefined): AuditEventItem['details'] {
  const out: Record<string, unknown> = {};
  if (!stored || typeof stored !== 'object') return out;
  for (const [key, schema] of Object.entries(auditDetailsSchema.shape)) {
    if (!Object.hasOwn(stored, key)) continue;
    const parsed = schema.safeParse(stored[key]);
    if (parsed.success && parsed.data !== undefined) out[key] = parsed.data;
  }
  return out as AuditEventItem['details'];
}

/**
 * At most AUDIT_USER_AGENT_MAX UTF-16 units (as the schema counts), `…` marking a cut; never half
 * a surrogate pair (that would be an unpaired surrogate: not storable, not printable).
 */
export function boundedUserAgent(ua: string | null): string | null {
  if (ua === null || ua.length <= AUDIT_USER_AGENT_MAX) return ua;
  let end = AUDIT_USER_AGENT_MAX - 1;
  const last = ua.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${ua.slice(0, end)}…`;
}
