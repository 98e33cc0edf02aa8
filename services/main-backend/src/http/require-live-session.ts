/**
 * After the token checks, asks the auth service whether the token's session is still live, so
 * a logged-out or revoked session's access token stops working here within
 * SESSION_CHECK_CACHE_SECONDS (default 10 s) instead of at the token's expiry. Answers are
 * cached per session id, in a bounded map.
 */
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { authOf } from '@warren/shared/auth/require-auth';
import { AppError } from '@warren/shared/errors';
import type { RequestHandler } from '@warren/shared/http/app';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';

const MAX_ENTRIES = 50_000;

export function requireLiveSession(rpc: RpcClient, cacheSeconds: number): RequestHandler {
  const cache = new Map<string, { active: boolean; until: number }>();
  return async (req, _res, next) => {
    const { sid } = authOf(req);
    const now = Date.now();
    let entry = cache.get(sid);
    if (!entry || entry.until <= now) {
      const { active } = await rpc.call(authRpc.sessionActive, { sessionId: sid });
      entry = { active, until: now + cacheSeconds * 1000 };
      cache.delete(sid);
      cache.set(sid, entry);
      // Maps iterate in insertion order: dropping the first keys drops the oldest answers.
      while (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    }
    if (!entry.active) throw AppError.unauthorized('session_ended', 'This session has ended; log in again.');
    next();
  };
}
