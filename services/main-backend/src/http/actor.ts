/** The caller of an authenticated request, as the auth service's RPC methods take it. */
import type { Request, Response } from 'express';
import { authOf } from '@warren/shared/auth/require-auth';

export function clientInfo(req: Request) {
  return { ip: req.ip, userAgent: req.get('user-agent')?.slice(0, 512) };
}

export function actorOf(req: Request, res: Response) {
  const auth = authOf(res);
  return { userId: auth.sub, sessionId: auth.sid, ...clientInfo(req) };
}
