/** The caller of an authenticated request, as the auth service's RPC methods take it. */
import { authOf } from '@warren/shared/auth/require-auth';
import type { Request } from '@warren/shared/http/app';

export function clientInfo(req: Request) {
  return { ip: req.ip ?? '', userAgent: req.headers['user-agent']?.slice(0, 512) };
}

export function actorOf(req: Request) {
  const auth = authOf(req);
  return { userId: auth.sub, sessionId: auth.sid, ...clientInfo(req) };
}
