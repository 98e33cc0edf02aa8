/** User administration: list (paginated) and change a role. Needs users:write (admins). */
import type { Express, RequestHandler } from 'express';
import { z } from 'zod';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { roleSchema } from '@warren/shared/contracts/notifications';
import { requirePermission } from '@warren/shared/auth/require-auth';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { AppError } from '@warren/shared/errors';
import { validateBody, validateQuery } from '@warren/shared/http/validate';
import { actorOf } from './actor.js';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.uuid().optional(),
});
const patchBody = z.object({ role: roleSchema }).strict();

export function mountUserRoutes(app: Express, deps: { rpc: RpcClient; authenticated: RequestHandler[] }) {
  const admin = [...deps.authenticated, requirePermission('users:write')];

  app.get('/users', ...admin, validateQuery(listQuery), async (req, res) => {
    const q = res.locals.query as z.output<typeof listQuery>;
    res.setHeader('Cache-Control', 'no-store');
    res.json(await deps.rpc.call(authRpc.listUsers, { ...actorOf(req, res), limit: q.limit, after: q.after }));
  });

  app.patch('/users/:id', ...admin, validateBody(patchBody), async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) throw AppError.notFound('user_not_found', 'No such user.');
    const { role } = req.body as z.output<typeof patchBody>;
    res.json(await deps.rpc.call(authRpc.changeRole, { ...actorOf(req, res), targetUserId: id.data, role }));
  });
}
