/**
 * Request/reply schemas for the auth service's RPC methods. The main backend and the
 * notification service call these; the auth service serves them.
 */
import { z } from 'zod';
import type { RpcMethod } from '../messaging/rpc-protocol.js';
import { AUDIT_EVENTS, auditCursorSchema, auditEventSchema, auditPageSchema } from './audit.js';
import { roleSchema } from './notifications.js';
import { text } from './text.js';
import { USER_QUERY_MAX, userCursorSchema, userListPageSchema } from './user-api.js';

// Request text never holds U+0000 (the database could not store or even compare it): a caller
// publishing one gets invalid_rpc_request (400), never a failed query.
export const loginRequestSchema = z.object({
  email: text(),
  password: text(),
  userAgent: text().max(512).optional(),
  ip: text().max(64).optional(),
});


export const publicUserSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
});

export const tokenPairSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().positive(),
  user: publicUserSchema,
  permissions: z.array(z.string()),
  session: z.object({ id: z.uuid(), expiresAt: z.iso.datetime() }),
});
export type TokenPair = z.infer<typeof tokenPairSchema>;

export const jwkSchema = z
  .object({ kid: z.string(), kty: z.string(), alg: z.string(), use: z.literal('sig') })
  .catchall(z.unknown());
export type PublicJwk = z.infer<typeof jwkSchema>;

export const jwksSchema = z.object({ keys: z.array(jwkSchema) });
export type Jwks = z.infer<typeof jwksSchema>;

/** User ids per `lookupUsers` call (callers ask in chunks). */
export const USER_LOOKUP_MAX = 1000;

/** Where a request came from, recorded on sessions and in the audit log. */
const clientInfo = {
  userAgent: text().max(512).optional(),
  ip: text().max(64).optional(),
};
const actor = z.object({ userId: z.uuid(), sessionId: z.uuid(), ...clientInfo });
const empty = z.object({});

export const sessionInfoSchema = z.object({
  id: z.uuid(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime(),
  userAgent: z.string().nullable(),
  ip: z.string().nullable(),
  current: z.boolean(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

export const meSchema = z.object({ user: publicUserSchema, permissions: z.array(z.string()) });

/** The services that call auth's methods. */
export type RpcCaller = 'main-backend' | 'notification';

/**
 * A method and the services that call it: each caller's broker user may publish its routing key,
 * and no other user may (docs/decisions/0032-broker-users.md). Main-backend, which fronts auth
 * for the REST API, unless a method names its callers: a new method works from main-backend
 * without more, and any other caller is named here.
 */
function method<Req extends z.ZodType, Res extends z.ZodType>(
  routingKey: string,
  request: Req,
  response: Res,
  callers: readonly RpcCaller[] = ['main-backend'],
): RpcMethod<Req, Res> & { callers: readonly RpcCaller[] } {
  return { routingKey, request, response, callers };
}

export const authRpc = {
  login: method('auth.login', loginRequestSchema, tokenPairSchema),
  /** Every service that verifies access tokens fetches the keys. */
  jwks: method('auth.jwks', empty, jwksSchema, ['main-backend', 'notification']),
  register: method(
    'auth.register',
    z.object({ email: text(), password: text(), name: text(), ...clientInfo }),
    z.object({ status: z.literal('pending_verification') }),
  ),
  verifyEmail: method(
    'auth.verify-email',
    z.object({ email: text(), code: text(), ...clientInfo }),
    z.object({ status: z.literal('verified') }),
  ),
  refresh: method('auth.refresh', z.object({ refreshToken: text(), ...clientInfo }), tokenPairSchema),
  logout: method('auth.logout', actor, empty),
  logoutAll: method('auth.logout-all', actor, empty),
  listSessions: method('auth.sessions.list', actor, z.object({ sessions: z.array(sessionInfoSchema) })),
  revokeSession: method('auth.sessions.revoke', actor.extend({ targetSessionId: z.uuid() }), empty),
  me: method('auth.me', actor, meSchema),
  forgotPassword: method('auth.password.forgot', z.object({ email: text(), ...clientInfo }), empty),
  resetPassword: method(
    'auth.password.reset',
    z.object({ email: text(), code: text(), newPassword: text(), ...clientInfo }),
    empty,
  ),
  /** Users by name then id, those matching `q` (see user-api.ts); for callers with users:read. */
  listUsers: method(
    'auth.users.list',
    actor.extend({ q: text().max(USER_QUERY_MAX).optional(), limit: z.number().int().min(1).max(100), after: userCursorSchema.optional() }),
    userListPageSchema,
  ),
  /**
   * A page of the audit log, newest first (see audit.ts); for callers whose role holds
   * audit:read now. `subjectUserId`: only that user's events (`userId` is the caller).
   */
  listAuditEvents: method(
    'auth.audit.list',
    actor.extend({
      subjectUserId: z.uuid().optional(),
      events: z.array(auditEventSchema).min(1).max(AUDIT_EVENTS.length).optional(),
      limit: z.number().int().min(1).max(100),
      before: auditCursorSchema.optional(),
    }),
    auditPageSchema,
  ),
  changeRole: method('auth.users.change-role', actor.extend({ targetUserId: z.uuid(), role: roleSchema }), publicUserSchema),
  sessionActive: method('auth.sessions.active', z.object({ sessionId: z.uuid() }), z.object({ active: z.boolean() })),
  /**
   * Which of these user ids exist, with role, version and name as `user.upserted` would announce
   * them: the notification service asks for ids its directory does not know yet (an announcement
   * may still be on its way), so a new user is not taken for a made-up id, and for senders it
   * has no name for. `name` is optional for an auth replica from before names were announced.
   */
  lookupUsers: method(
    'auth.users.lookup',
    z.object({ userIds: z.array(z.uuid()).min(1).max(USER_LOOKUP_MAX) }),
    z.object({ users: z.array(z.object({ userId: z.uuid(), role: roleSchema, version: z.number().int().positive(), name: z.string().optional() })) }),
    ['notification'],
  ),
} as const;

/** Every routing key the auth service serves: the topology binds them all to its RPC queue. */
export const AUTH_RPC_ROUTING_KEYS = Object.values(authRpc).map((m) => m.routingKey);

/** Access-token claims as the contract fixes them. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const accessTokenClaimsSchema = z.object({
  sub: z.uuid(),
  sid: z.uuid(),
  role: roleSchema,
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  iat: z.number(),
  exp: z.number(),
});
export type AccessTokenClaims = z.infer<typeof accessTokenClaimsSchema>;
