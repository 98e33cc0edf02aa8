/**
 * The audit log of security events (GET /audit-events, audit:read: admins), read from the auth
 * service, which owns it, re-checks the caller's role now and records the read itself
 * (decision 0031).
 */
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { auditPageSchema, auditQuerySchema } from '@warren/shared/contracts/audit';
import { AUTH_RPC_PROBLEMS } from '@warren/shared/contracts/http-api';
import type { RouteMounter } from '@warren/shared/http/route-mounter';
import { defineRoute } from '@warren/shared/http/route-spec';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { actorOf } from './actor.js';
import { EXAMPLE } from './examples.js';

export const auditRoutes = {
  list: defineRoute({
    method: 'get',
    path: '/audit-events',
    operationId: 'listAuditEvents',
    summary: 'The audit log of sign-ins and other security events, newest first',
    description: [
      'Sign-ins, failed sign-ins, lockouts, logouts and ended sessions, refresh-token reuse, registrations, password resets, role changes and reads of this log, with the user, the actor, the client address and user agent (cut to 256 characters) and a few `details` (never a secret).',
      '`userId` keeps one user\u2019s events, `event` one or several kinds (comma-separated). Pages are newest first by id: pass `nextCursor` (the id of the last event of the page) as `before` for older ones.',
      'Each call is itself recorded as `audit_read`. Events older than AUDIT_RETENTION_DAYS (90 by default) are deleted.',
    ].join(' '),
    tag: 'audit',
    auth: { permission: 'audit:read' },
    request: { query: auditQuerySchema },
    responses: {
      200: {
        description: 'A page; `nextCursor` is null on the last one.',
        schema: auditPageSchema,
        example: { items: [EXAMPLE.auditEvent], nextCursor: '4711' },
      },
    },
    problems: AUTH_RPC_PROBLEMS,
  }),
};

export function mountAuditRoutes(routes: RouteMounter, deps: { rpc: RpcClient }) {
  routes.mount(auditRoutes.list, async ({ query }, req, res) => {
    const page = await deps.rpc.call(authRpc.listAuditEvents, {
      ...actorOf(req),
      subjectUserId: query.userId,
      events: query.event,
      limit: query.limit,
      before: query.before,
    });
    res.setHeader('Cache-Control', 'no-store');
    res.json(page);
  });
}
