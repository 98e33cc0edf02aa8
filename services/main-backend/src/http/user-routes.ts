/** User administration: list (paginated) and change a role. Needs users:write (admins). */
import { z } from 'zod';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { roleSchema } from '@warren/shared/contracts/notifications';
import { requirePermission } from '@warren/shared/auth/require-auth';
import type { HttpApp, RequestHandler } from '@warren/shared/http/app';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { AppError } from '@warren/shared/errors';
import { bodyOf, queryOf } from '@warren/shared/http/validate';
import { actorOf } from './actor.js';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.uuid().optional(),
});
const patchBody = z.object({ role: roleSchema }).strict();

export function mountUserRoutes(app: HttpApp, deps: { rpc: RpcClient; authenticated: RequestHandler[] }) {
  const guards = [...deps.authenticated, requirePermission('users:write')];

  app.get('/users', ...guards, async (req, res) => {
    const q = queryOf(listQuery, req);
    const page = await deps.rpc.call(authRpc.listUsers, { ...actorOf(req), limit: q.limit, after: q.after });
    res.setHeader('Cache-Control', 'no-store');
    res.json(page);
  });

  app.patch('/users/:id', ...guards, async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) throw AppError.notFound('user_not_found', 'No such user.');
    const { role } = bodyOf(patchBody, req);
    res.json(await deps.rpc.call(authRpc.changeRole, { ...actorOf(req), targetUserId: id.data, role }));
  });
}
