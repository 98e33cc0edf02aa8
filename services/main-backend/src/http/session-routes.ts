/** Endpoints of the logged-in user: who am I, my sessions, log out here or everywhere. */
import type { preHandlerHookHandler } from 'fastify';
import { z } from 'zod';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import type { HttpApp } from '@warren/shared/http/app';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { AppError } from '@warren/shared/errors';
import { actorOf } from './actor.js';

export function mountSessionRoutes(app: HttpApp, deps: { rpc: RpcClient; authenticated: preHandlerHookHandler[] }) {
  const { rpc } = deps;
  const preHandler = deps.authenticated;

  app.get('/auth/me', { preHandler }, async (req, reply) => {
    reply.header('Cache-Control', 'no-store');
    return rpc.call(authRpc.me, actorOf(req));
  });

  app.get('/auth/sessions', { preHandler }, async (req, reply) => {
    const { sessions } = await rpc.call(authRpc.listSessions, actorOf(req));
    reply.header('Cache-Control', 'no-store');
    return sessions;
  });

  app.delete<{ Params: { id: string } }>('/auth/sessions/:id', { preHandler }, async (req, reply) => {
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) throw AppError.notFound('session_not_found', 'No such session.');
    await rpc.call(authRpc.revokeSession, { ...actorOf(req), targetSessionId: id.data });
    reply.code(204).send();
  });

  app.post('/auth/logout', { preHandler }, async (req, reply) => {
    await rpc.call(authRpc.logout, actorOf(req));
    reply.code(204).send();
  });

  app.post('/auth/logout-all', { preHandler }, async (req, reply) => {
    await rpc.call(authRpc.logoutAll, actorOf(req));
    reply.code(204).send();
  });
}
