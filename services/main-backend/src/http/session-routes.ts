/** Endpoints of the logged-in user: who am I, my sessions, log out here or everywhere. */
import type { Express, RequestHandler } from 'express';
import { z } from 'zod';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { AppError } from '@warren/shared/errors';
import { actorOf } from './actor.js';

export function mountSessionRoutes(app: Express, deps: { rpc: RpcClient; authenticated: RequestHandler[] }) {
  const { rpc, authenticated } = deps;

  app.get('/auth/me', ...authenticated, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await rpc.call(authRpc.me, actorOf(req, res)));
  });

  app.get('/auth/sessions', ...authenticated, async (req, res) => {
    const { sessions } = await rpc.call(authRpc.listSessions, actorOf(req, res));
    res.setHeader('Cache-Control', 'no-store');
    res.json(sessions);
  });

  app.delete('/auth/sessions/:id', ...authenticated, async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) throw AppError.notFound('session_not_found', 'No such session.');
    await rpc.call(authRpc.revokeSession, { ...actorOf(req, res), targetSessionId: id.data });
    res.status(204).end();
  });

  app.post('/auth/logout', ...authenticated, async (req, res) => {
    await rpc.call(authRpc.logout, actorOf(req, res));
    res.status(204).end();
  });

  app.post('/auth/logout-all', ...authenticated, async (req, res) => {
    await rpc.call(authRpc.logoutAll, actorOf(req, res));
    res.status(204).end();
  });
}
