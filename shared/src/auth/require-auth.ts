/**
 * Route guards (Express middleware): a valid Bearer access token of a session not known to
 * have ended, then optionally a permission from its scope. A guard that refuses throws; Express 5
 * passes a rejected promise on to the error handler, which answers with problem details.
 */
import type { Request, RequestHandler } from 'express';
import { AppError } from '../errors.js';
import { bearerToken, type AccessTokenVerifier, type VerifiedAccessToken } from './access-token-verifier.js';
import type { EndedSessions } from './ended-sessions.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the requireAuth guard. */
    auth?: VerifiedAccessToken;
  }
}

export function requireAuth(verifier: AccessTokenVerifier, ended?: EndedSessions): RequestHandler {
  return async (req, _res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw AppError.unauthorized('missing_token', 'A Bearer access token is required.');
    const auth = await verifier.verify(token);
    if (ended?.isEnded(auth.sid)) throw sessionEnded();
    req.auth = auth;
    next();
  };
}

export function sessionEnded(): AppError {
  return AppError.unauthorized('session_ended', 'This session has ended; log in again.');
}

export function requirePermission(permission: string): RequestHandler {
  return (req, _res, next) => {
    const auth = authOf(req);
    if (!auth.scope.includes(permission)) {
      throw AppError.forbidden('missing_permission', `This needs the permission ${permission}.`);
    }
    next();
  };
}

export function authOf(req: Request): VerifiedAccessToken {
  if (!req.auth) throw AppError.unauthorized();
  return req.auth;
}
