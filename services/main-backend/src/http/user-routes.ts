/**
 * Users: find them (GET /users?q=, users:read: admins and managers, for recipient pickers) and
 * change a role (PATCH, users:write: admins). Auth re-checks both against the caller's role now.
 */
import { z } from 'zod';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { roleSchema } from '@warren/shared/contracts/notifications';
import { userSearchQuerySchema } from '@warren/shared/contracts/user-api';
import { requirePermission } from '@warren/shared/auth/require-auth';
import type { HttpApp, RequestHandler } from '@warren/shared/http/app';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { AppError } from '@warren/shared/errors';
import { bodyOf, queryOf } from '@warren/shared/http/validate';
import { actorOf } from './actor.js';

const patchBody = z.object({ role: roleSchema }).strict();

export function mountUserRoutes(app: HttpApp, deps: { rpc: RpcClient; authenticated: RequestHandler[] }) {
  const adminOnly = [...deps.authenticated, requirePermission('users:write')];

  app.get('/users', ...deps.authenticated, requirePermission('users:read'), async (req, res) => {
    const query = queryOf(userSearchQuerySchema, req);
    const page = await deps.rpc.call(authRpc.listUsers, { ...actorOf(req), q: query.q || undefined, limit: query.limit, after: query.after });
    res.setHeader('Cache-Control', 'no-store');
    res.json(page);
  });

  app.patch('/users/:id', ...adminOnly, async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) throw AppError.notFound('user_not_found', 'No such user.');
    const { role } = bodyOf(patchBody, req);
    res.json(await deps.rpc.call(authRpc.changeRole, { ...actorOf(req), targetUserId: id.data, role }));
  });
}
