/**
 * Users: find them (GET /users?q=, users:read: admins and managers, for recipient pickers) and
 * change a role (PATCH, users:write: admins). Auth re-checks both against the caller's role now.
 */
import { z } from 'zod';
import { authRpc, publicUserSchema } from '@warren/shared/contracts/auth-rpc';
import { roleSchema } from '@warren/shared/contracts/notifications';
import { AUTH_RPC_PROBLEMS } from '@warren/shared/contracts/http-api';
import { userListPageSchema, userSearchQuerySchema } from '@warren/shared/contracts/user-api';
import type { RouteMounter } from '@warren/shared/http/route-mounter';
import { defineRoute } from '@warren/shared/http/route-spec';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { actorOf } from './actor.js';
import { EXAMPLE } from './examples.js';

export const userRoutes = {
  list: defineRoute({
    method: 'get',
    path: '/users',
    operationId: 'listUsers',
    summary: 'Find users by a piece of their name or email, a page at a time in name order',
    description:
      'For recipient pickers: `q` matches any part of the name or the email, ignoring case (`%`, `_` and `\\` are plain characters; empty: everyone). Managers see verified users only, without `emailVerified`, `createdAt` and `locked`, which admins also get. Pass the `nextCursor` of a page as `after` for the next one.',
    tag: 'users',
    auth: { permission: 'users:read' },
    request: { query: userSearchQuerySchema },
    responses: {
      200: {
        description: 'A page; `nextCursor` (opaque) is null on the last one.',
        schema: userListPageSchema,
        example: { items: [EXAMPLE.userListItem], nextCursor: 'WyJhZGEgbG92ZWxhY2UiLCI1YjBjOGQ4ZS03YTNlLTRjMWItOWE1My0yZjFkNmM4ZTRhMTAiXQ' },
      },
    },
    problems: AUTH_RPC_PROBLEMS,
  }),
  changeRole: defineRoute({
    method: 'patch',
    path: '/users/:id',
    operationId: 'changeRole',
    summary: "Change a user's role",
    description: "The user's sessions end when the role is lowered.",
    tag: 'users',
    auth: { permission: 'users:write' },
    request: {
      params: z.object({ id: z.uuid().meta({ description: 'The user id.', example: EXAMPLE.userId }) }),
      body: z.object({ role: roleSchema }).strict(),
    },
    bodyExample: { role: 'manager' },
    notFound: 'user_not_found',
    responses: { 200: { description: 'The user with the new role.', schema: publicUserSchema, example: EXAMPLE.user } },
    problems: ['user_not_found', 'last_admin', ...AUTH_RPC_PROBLEMS],
  }),
};

export function mountUserRoutes(routes: RouteMounter, deps: { rpc: RpcClient }) {
  routes.mount(userRoutes.list, async ({ query }, req, res) => {
    const page = await deps.rpc.call(authRpc.listUsers, { ...actorOf(req), q: query.q || undefined, limit: query.limit, after: query.after });
    res.setHeader('Cache-Control', 'no-store');
    res.json(page);
  });

  routes.mount(userRoutes.changeRole, async ({ params, body }, req, res) => {
    res.json(await deps.rpc.call(authRpc.changeRole, { ...actorOf(req), targetUserId: params.id, role: body.role }));
  });
}
