/** Endpoints of the logged-in user: who am I, my sessions, log out here or everywhere. */
import { z } from 'zod';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import type { HttpApp, RequestHandler } from '@warren/shared/http/app';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { AppError } from '@warren/shared/errors';
import { actorOf } from './actor.js';

export function mountSessionRoutes(app: HttpApp, deps: { rpc: RpcClient; authenticated: RequestHandler[] }) {
  const { rpc } = deps;
  const guards = deps.authenticated;

  app.get('/auth/me', ...guards, async (req, res) => {
    const me = await rpc.call(authRpc.me, actorOf(req));
    res.setHeader('Cache-Control', 'no-store');
    res.json(me);
  });

  app.get('/auth/sessions', ...guards, async (req, res) => {
    const { sessions } = await rpc.call(authRpc.listSessions, actorOf(req));
    res.setHeader('Cache-Control', 'no-store');
    res.json(sessions);
  });

  app.delete('/auth/sessions/:id', ...guards, async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) throw AppError.notFound('session_not_found', 'No such session.');
    await rpc.call(authRpc.revokeSession, { ...actorOf(req), targetSessionId: id.data });
    res.status(204).end();
  });

  app.post('/auth/logout', ...guards, async (req, res) => {
    await rpc.call(authRpc.logout, actorOf(req));
    res.status(204).end();
  });

  app.post('/auth/logout-all', ...guards, async (req, res) => {
    await rpc.call(authRpc.logoutAll, actorOf(req));
    res.status(204).end();
  });
}
