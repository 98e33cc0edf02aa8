/** Route guards (Fastify preHandler hooks): a valid Bearer access token, then optionally a permission from its scope. */
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AppError } from '../errors.js';
import { bearerToken, type AccessTokenVerifier, type VerifiedAccessToken } from './access-token-verifier.js';

export function requireAuth(verifier: AccessTokenVerifier): preHandlerAsyncHookHandler {
  return async (req) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw AppError.unauthorized('missing_token', 'A Bearer access token is required.');
    req.auth = await verifier.verify(token);
  };
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
