/**
 * The unauthenticated auth endpoints: register, verify, login, refresh, forgot, reset. Each
 * validates its body, is rate-limited per IP, and forwards to the auth service over RPC; the
 * auth service's errors come back as problem details with their status and code.
 */
import { z } from 'zod';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import type { AccessTokenVerifier } from '@warren/shared/auth/access-token-verifier';
import type { HttpApp, Request, RequestHandler, Response } from '@warren/shared/http/app';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { bodyOf } from '@warren/shared/http/validate';
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

export function mountAuthRoutes(app: HttpApp, deps: { rpc: RpcClient; verifier: AccessTokenVerifier; rateLimit: RequestHandler }) {
  const { rpc } = deps;
  const limited = deps.rateLimit;

  app.post('/auth/register', limited, async (req, res) => {
    const result = await rpc.call(authRpc.register, { ...bodyOf(schemas.register, req), ...clientInfo(req) });
    res.status(202).json(result);
  });

  app.post('/auth/verify-email', limited, async (req, res) => {
    res.json(await rpc.call(authRpc.verifyEmail, { ...bodyOf(schemas.verifyEmail, req), ...clientInfo(req) }));
  });

  const login = async (req: Request, res: Response) => {
    const result = await rpc.call(authRpc.login, { ...bodyOf(schemas.login, req), ...clientInfo(req) });
    res.setHeader('Cache-Control', 'no-store');
    res.json(result);
  };
  app.post('/login', limited, login);
  app.post('/auth/login', limited, login);

  app.post('/auth/refresh', limited, async (req, res) => {
    const result = await rpc.call(authRpc.refresh, { ...bodyOf(schemas.refresh, req), ...clientInfo(req) });
    res.setHeader('Cache-Control', 'no-store');
    res.json(result);
  });

  app.post('/auth/password/forgot', limited, async (req, res) => {
    await rpc.call(authRpc.forgotPassword, { ...bodyOf(schemas.forgot, req), ...clientInfo(req) });
    res.status(202).json({ status: 'accepted' });
  });

  app.post('/auth/password/reset', limited, async (req, res) => {
    await rpc.call(authRpc.resetPassword, { ...bodyOf(schemas.reset, req), ...clientInfo(req) });
    res.json({ status: 'password_changed' });
  });

  app.get('/.well-known/jwks.json', async (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(await deps.verifier.publicJwks());
  });
}
