/**
 * The audit log's vocabulary and `GET /audit-events` (main-backend, permission audit:read:
 * admins), which reads it from the auth service over RPC (`auth.audit.list`). Auth records the
 * events (services/auth/src/domain/*) and owns the table; the same schemas validate the HTTP
 * query, the RPC request and its answer. Decision 0031.
 */
import { z } from 'zod';
import { roleSchema, userIdSchema } from './notifications.js';

/** Every event auth records. A new one goes here first, so it can be filtered on and documented. */
export const AUDIT_EVENTS = [
  'login_succeeded',
  'login_failed',
  'account_locked',
  'login_refused_locked',
  'login_throttled',
  'login_failures_alerted',
  'logout',
  'logout_all',
  'session_revoked',
  'refresh_reused',
  'registration_requested',
  'registration_existing_email',
  'email_verified',
  'password_reset_requested',
  'password_changed',
  'role_changed',
  /** An admin read the audit log (this endpoint): `actorId` who, `userId` whose events (null: everyone's). */
  'audit_read',
] as const;
export const auditEventSchema = z.enum(AUDIT_EVENTS);
export type AuditEvent = z.infer<typeof auditEventSchema>;

/** Characters of a user agent in an answer: longer ones (auth stores up to 512) are cut, ending in `…`. */
export const AUDIT_USER_AGENT_MAX = 256;

/** The largest audit id there can be (a bigint identity). */
const MAX_AUDIT_ID = 9_223_372_036_854_775_807n;

/**
 * `before`: an audit event's id (decimal digits, as `id` and `nextCursor` give it), not opaque:
 * only events with a smaller id (older) come back. 1 to 2^63−1; anything else is a 400.
 */
const CURSOR_MESSAGE = 'must be an audit event id (1 to 9223372036854775807), as nextCursor gives it';
export const auditCursorSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,18}$/, { message: CURSOR_MESSAGE, abort: true })
  // Checked again here: zod runs a refinement even after a failed regex unless told to abort.
  .refine((s) => /^[1-9][0-9]{0,18}$/.test(s) && BigInt(s) <= MAX_AUDIT_ID, CURSOR_MESSAGE)
  .meta({ description: 'The `nextCursor` of the previous page (an event id): only older events.', example: '4711' });

/**
 * What `details` may hold, key by key: the answer carries only these keys, each only when its
 * value has this shape (anything else stored is left out). None is a secret: no password, code,
 * token or hash is ever recorded (docs/security.md). `AuditEntry.details` (auth's ports) is typed
 * from this, so a record() call with a new key does not compile until the key is listed here.
 */
export const auditDetailsSchema = z.object({
  /** login_succeeded, logout, session_revoked, refresh_reused: the session concerned (an id, not a credential). */
  sessionId: z.uuid().optional(),
  /** login_failed: `unknown_email` or `wrong_password`. */
  reason: z.string().max(64).optional(),
  /** registration_*, password_reset_requested: whether an email went out (false past the per-address cap). */
  emailed: z.boolean().optional(),
  /** account_locked: until when the address is locked out of the account. */
  until: z.iso.datetime().optional(),
  /** role_changed: the previous and the new role. */
  from: roleSchema.optional(),
  to: roleSchema.optional(),
  /** role_changed, password_changed: how many sessions the change ended. */
  sessionsEnded: z.number().int().min(0).optional(),
  /** logout_all: how many sessions ended. */
  sessions: z.number().int().min(0).optional(),
  /** password_changed: how (`reset`). */
  via: z.string().max(64).optional(),
  /** audit_read: the filter and page asked for, and how many events were answered. */
  events: z.array(auditEventSchema).optional(),
  before: z.string().max(19).optional(),
  limit: z.number().int().min(1).max(100).optional(),
  returned: z.number().int().min(0).optional(),
  /**
   * A refusal that anyone can repeat at an account for nothing (login_throttled,
   * login_refused_locked, refresh_reused, and registration_existing_email or
   * password_reset_requested with nothing emailed): repeats of it within a minute of the row's
   * `at` are counted here instead of each being a row. `repeats` is how many times it happened
   * in all (absent: once), `lastAt` when the last of them did; the address and user agent are
   * the first one's. Decision 0031, amendment.
   */
  repeats: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: 'How many times this refusal happened in all, counted into this row (absent: once); `at`, `ip` and `userAgent` are the first one\'s.', example: 12 }),
  lastAt: z.iso.datetime().optional().meta({ description: 'With `repeats`: when the last of them happened.' }),
});
export type AuditDetails = z.input<typeof auditDetailsSchema>;

/** `event=`: one event name or several, comma-separated (any of them). */
const eventFilterSchema = z
  .string()
  .regex(/^[a-z_]+(,[a-z_]+)*$/, { message: 'must be event names, comma-separated', abort: true })
  .refine((s) => s.split(',').every((name) => (AUDIT_EVENTS as readonly string[]).includes(name)), `must be one or more of ${AUDIT_EVENTS.join(', ')}, comma-separated`)
  .transform((s) => [...new Set(s.split(','))] as AuditEvent[])
  .meta({ description: `One event or several, comma-separated: ${AUDIT_EVENTS.join(', ')}.`, example: 'login_failed,account_locked' });

export const auditQuerySchema = z.object({
  userId: userIdSchema.optional().meta({ description: "Only this user's events (an unknown user: an empty page).", example: '5b0c8d8e-7a3e-4c1b-9a53-2f1d6c8e4a10' }),
  event: eventFilterSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50).meta({ description: 'Page size, 1 to 100.' }),
  before: auditCursorSchema.optional(),
});

const person = z.object({ name: z.string(), email: z.string() });

export const auditEventItemSchema = z.object({
  /** The event's id: decimal digits (a bigint, so a string); ids grow with time. */
  id: z.string().meta({ description: 'Decimal digits; a newer event has a larger id.', example: '4711' }),
  at: z.iso.datetime(),
  // A string, not the enum: an event added by a newer auth replica must not break this answer
  // during a rolling deploy. The ones known today are AUDIT_EVENTS.
  event: z.string().meta({ description: `What happened: ${AUDIT_EVENTS.join(', ')} (a later release may add more).` }),
  /** The account concerned; null when there is none (a failed login with an unknown email, a new registration). */
  userId: z.uuid().nullable(),
  user: person.nullable(),
  /** Who did it when it was someone else (a role change, an audit read); null otherwise. */
  actorId: z.uuid().nullable(),
  actor: person.nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().max(AUDIT_USER_AGENT_MAX).nullable(),
  details: auditDetailsSchema,
});
export type AuditEventItem = z.infer<typeof auditEventItemSchema>;

export const auditPageSchema = z.object({ items: z.array(auditEventItemSchema), nextCursor: z.string().nullable() });
export type AuditPage = z.infer<typeof auditPageSchema>;
