/**
 * Route guards (Fastify preHandler hooks): a valid Bearer access token of a session not known to
 * have ended, then optionally a permission from its scope.
 */
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AppError } from '../errors.js';
import { bearerToken, type AccessTokenVerifier, type VerifiedAccessToken } from './access-token-verifier.js';
import type { EndedSessions } from './ended-sessions.js';

export function requireAuth(verifier: AccessTokenVerifier, ended?: EndedSessions): preHandlerAsyncHookHandler {
  return async (req) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw AppError.unauthorized('missing_token', 'A Bearer access token is required.');
    const auth = await verifier.verify(token);
    if (ended?.isEnded(auth.sid)) throw sessionEnded();
    req.auth = auth;
  };
}

export function sessionEnded(): AppError {
  return AppError.unauthorized('session_ended', 'This session has ended; log in again.');
}

export function requirePermission(permission: string): preHandlerAsyncHookHandler {
  return async (req) => {
    const auth = authOf(req);
    if (!auth.scope.includes(permission)) {
      throw AppError.forbidden('missing_permission', `This needs the permission ${permission}.`);
    }
  };
}

export function authOf(req: FastifyRequest): VerifiedAccessToken {
  if (!req.auth) throw AppError.unauthorized();
  return req.auth;
}
