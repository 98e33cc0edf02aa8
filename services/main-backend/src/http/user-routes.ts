/** User administration: list (paginated) and change a role. Needs users:write (admins). */
import { z } from 'zod';
import { authRpc, publicUserSchema, userListItemSchema } from '@warren/shared/contracts/auth-rpc';
import { roleSchema } from '@warren/shared/contracts/notifications';
import { AUTH_RPC_PROBLEMS } from '@warren/shared/contracts/http-api';
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
    summary: 'List users, a page at a time (keyset by id)',
    tag: 'users',
    auth: { permission: 'users:write' },
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'Page size.' }),
        after: z.uuid().optional().meta({ description: 'The `nextCursor` of the previous page.' }),
      }),
    },
    responses: {
      200: {
        description: 'A page; `nextCursor` is null on the last one.',
        schema: z.object({ items: z.array(userListItemSchema), nextCursor: z.uuid().nullable() }),
        example: { items: [EXAMPLE.userListItem], nextCursor: null },
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
    const page = await deps.rpc.call(authRpc.listUsers, { ...actorOf(req), limit: query.limit, after: query.after });
    res.setHeader('Cache-Control', 'no-store');
    res.json(page);
  });

  routes.mount(userRoutes.changeRole, async ({ params, body }, req, res) => {
    res.json(await deps.rpc.call(authRpc.changeRole, { ...actorOf(req), targetUserId: params.id, role: body.role }));
  });
}
