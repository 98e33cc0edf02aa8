/**
 * The unauthenticated auth endpoints: register, verify, login, refresh, forgot, reset. Each
 * validates its body, is rate-limited per IP, and forwards to the auth service over RPC; the
 * auth service's errors come back as problem details with their status and code.
 */
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import type { AccessTokenVerifier } from '@warren/shared/auth/access-token-verifier';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { validateBody } from '@warren/shared/http/validate';
import { clientInfo } from './actor.js';

const email = z.email().max(254);
/** Shape only; the auth service applies the password policy (it answers 400 with the reason). */
const password = z.string().min(1).max(1024);
const code = z.string().regex(/^\d{6}$/, 'a 6-digit code');

const schemas = {
  register: z.object({ email, password, name: z.string().trim().min(1).max(100) }).strict(),
  verifyEmail: z.object({ email, code }).strict(),
  login: z.object({ email, password }).strict(),
  refresh: z.object({ refreshToken: z.string().min(1).max(512) }).strict(),
  forgot: z.object({ email }).strict(),
  reset: z.object({ email, code, newPassword: password }).strict(),
};

function noStore(res: Response) {
  res.setHeader('Cache-Control', 'no-store');
}

export function mountAuthRoutes(app: Express, deps: { rpc: RpcClient; verifier: AccessTokenVerifier; rateLimit: import('express').RequestHandler }) {
  const { rpc, rateLimit } = deps;
  const body = <S extends z.ZodType>(req: Request) => req.body as z.output<S>;

  app.post('/auth/register', rateLimit, validateBody(schemas.register), async (req, res) => {
    const result = await rpc.call(authRpc.register, { ...body<typeof schemas.register>(req), ...clientInfo(req) });
    res.status(202).json(result);
  });

  app.post('/auth/verify-email', rateLimit, validateBody(schemas.verifyEmail), async (req, res) => {
    res.json(await rpc.call(authRpc.verifyEmail, { ...body<typeof schemas.verifyEmail>(req), ...clientInfo(req) }));
  });

  const login = async (req: Request, res: Response) => {
    const result = await rpc.call(authRpc.login, { ...body<typeof schemas.login>(req), ...clientInfo(req) });
    noStore(res);
    res.json(result);
  };
  app.post('/login', rateLimit, validateBody(schemas.login), login);
  app.post('/auth/login', rateLimit, validateBody(schemas.login), login);

  app.post('/auth/refresh', rateLimit, validateBody(schemas.refresh), async (req, res) => {
    const result = await rpc.call(authRpc.refresh, { ...body<typeof schemas.refresh>(req), ...clientInfo(req) });
    noStore(res);
    res.json(result);
  });

  app.post('/auth/password/forgot', rateLimit, validateBody(schemas.forgot), async (req, res) => {
    await rpc.call(authRpc.forgotPassword, { ...body<typeof schemas.forgot>(req), ...clientInfo(req) });
    res.status(202).json({ status: 'accepted' });
  });

  app.post('/auth/password/reset', rateLimit, validateBody(schemas.reset), async (req, res) => {
    await rpc.call(authRpc.resetPassword, { ...body<typeof schemas.reset>(req), ...clientInfo(req) });
    res.json({ status: 'password_changed' });
  });

  app.get('/.well-known/jwks.json', async (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(await deps.verifier.publicJwks());
  });
}
