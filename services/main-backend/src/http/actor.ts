/** The caller of an authenticated request, as the auth service's RPC methods take it. */
import type { FastifyRequest } from 'fastify';
import { authOf } from '@warren/shared/auth/require-auth';

export function clientInfo(req: FastifyRequest) {
  return { ip: req.ip, userAgent: req.headers['user-agent']?.slice(0, 512) };
}

export function actorOf(req: FastifyRequest) {
  const auth = authOf(req);
  return { userId: auth.sub, sessionId: auth.sid, ...clientInfo(req) };
}
