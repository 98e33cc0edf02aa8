/** Express guards: a valid Bearer access token, then optionally a permission from its scope. */
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors.js';
import { bearerToken, type AccessTokenVerifier, type VerifiedAccessToken } from './access-token-verifier.js';

export function requireAuth(verifier: AccessTokenVerifier) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) throw AppError.unauthorized('missing_token', 'A Bearer access token is required.');
    res.locals.auth = await verifier.verify(token);
    next();
  };
}

export function requirePermission(permission: string) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const auth = res.locals.auth as VerifiedAccessToken | undefined;
    if (!auth) throw AppError.unauthorized();
    if (!auth.scope.includes(permission)) {
      throw AppError.forbidden('missing_permission', `This needs the permission ${permission}.`);
    }
    next();
  };
}

export function authOf(res: Response): VerifiedAccessToken {
  const auth = res.locals.auth as VerifiedAccessToken | undefined;
  if (!auth) throw AppError.unauthorized();
  return auth;
}
