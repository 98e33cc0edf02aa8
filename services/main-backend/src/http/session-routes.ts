/** Endpoints of the logged-in user: who am I, my sessions, log out here or everywhere. */
import { z } from 'zod';
import { authRpc, meSchema, sessionInfoSchema } from '@warren/shared/contracts/auth-rpc';
import { AUTH_RPC_PROBLEMS } from '@warren/shared/contracts/http-api';
import type { RouteMounter } from '@warren/shared/http/route-mounter';
import { defineRoute } from '@warren/shared/http/route-spec';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { actorOf } from './actor.js';
import { EXAMPLE } from './examples.js';

export const sessionRoutes = {
  me: defineRoute({
    method: 'get',
    path: '/auth/me',
    operationId: 'me',
    summary: 'The logged-in user and their permissions',
    tag: 'sessions',
    auth: 'bearer',
    responses: { 200: { description: 'Who the token belongs to.', schema: meSchema, example: { user: EXAMPLE.user, permissions: EXAMPLE.permissions } } },
    problems: AUTH_RPC_PROBLEMS,
  }),
  list: defineRoute({
    method: 'get',
    path: '/auth/sessions',
    operationId: 'listSessions',
    summary: "The user's live sessions",
    tag: 'sessions',
    auth: 'bearer',
    responses: { 200: { description: '`current` marks the session of this token.', schema: z.array(sessionInfoSchema), example: [EXAMPLE.session] } },
    problems: AUTH_RPC_PROBLEMS,
  }),
  revoke: defineRoute({
    method: 'delete',
    path: '/auth/sessions/:id',
    operationId: 'revokeSession',
    summary: 'End one of the user\u2019s sessions',
    description: "Another user's session, or an unknown id, is 404.",
    tag: 'sessions',
    auth: 'bearer',
    request: { params: z.object({ id: z.uuid().meta({ description: 'A session id from GET /auth/sessions.', example: EXAMPLE.sessionId }) }) },
    notFound: 'session_not_found',
    responses: { 204: { description: 'Ended: its refresh token stops working, its access tokens are refused within about a second.' } },
    problems: ['session_not_found', ...AUTH_RPC_PROBLEMS],
  }),
  logout: defineRoute({
    method: 'post',
    path: '/auth/logout',
    operationId: 'logout',
    summary: "End this token's session",
    tag: 'sessions',
    auth: 'bearer',
    responses: { 204: { description: "Logged out: the session's refresh token stops working." } },
    problems: AUTH_RPC_PROBLEMS,
  }),
  logoutAll: defineRoute({
    method: 'post',
    path: '/auth/logout-all',
    operationId: 'logoutAll',
    summary: 'End every session of the user',
    tag: 'sessions',
    auth: 'bearer',
    responses: { 204: { description: 'Every session ended.' } },
    problems: AUTH_RPC_PROBLEMS,
  }),
};

export function mountSessionRoutes(routes: RouteMounter, deps: { rpc: RpcClient }) {
  const { rpc } = deps;

  routes.mount(sessionRoutes.me, async (_input, req, res) => {
    const me = await rpc.call(authRpc.me, actorOf(req));
    res.setHeader('Cache-Control', 'no-store');
    res.json(me);
  });

  routes.mount(sessionRoutes.list, async (_input, req, res) => {
    const { sessions } = await rpc.call(authRpc.listSessions, actorOf(req));
    res.setHeader('Cache-Control', 'no-store');
    res.json(sessions);
  });

  routes.mount(sessionRoutes.revoke, async ({ params }, req, res) => {
    await rpc.call(authRpc.revokeSession, { ...actorOf(req), targetSessionId: params.id });
    res.status(204).end();
  });

  routes.mount(sessionRoutes.logout, async (_input, req, res) => {
    await rpc.call(authRpc.logout, actorOf(req));
    res.status(204).end();
  });

  routes.mount(sessionRoutes.logoutAll, async (_input, req, res) => {
    await rpc.call(authRpc.logoutAll, actorOf(req));
    res.status(204).end();
  });
}
