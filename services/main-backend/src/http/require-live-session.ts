/**
 * After the token checks, asks whether the token's session is still live (session-liveness.ts:
 * auth's answer, remembered SESSION_CHECK_CACHE_SECONDS, a recent "live" used while auth cannot
 * answer), so a logged-out or revoked session's access token stops working here even if this
 * replica missed the end's announcement, instead of at the token's expiry.
 */
import { authOf } from '@warren/shared/auth/require-auth';
import { AppError } from '@warren/shared/errors';
import type { RequestHandler } from '@warren/shared/http/app';
import type { SessionLiveness } from './session-liveness.js';

export function requireLiveSession(liveness: SessionLiveness): RequestHandler {
  return async (req, _res, next) => {
    if (!(await liveness.isLive(authOf(req).sid))) throw AppError.unauthorized('session_ended', 'This session has ended; log in again.');
    next();
  };
}
