/** Auth endpoints of the main backend: validate, call the auth service over RPC, answer. */
import type { Express } from 'express';
import { z } from 'zod';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import type { AccessTokenVerifier } from '@warren/shared/auth/access-token-verifier';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { validateBody } from '@warren/shared/http/validate';

const loginBodySchema = z
  .object({
    email: z.email().max(254),
    password: z.string().min(1).max(1024),
  })
  .strict();

export function mountAuthRoutes(app: Express, deps: { rpc: RpcClient; verifier: AccessTokenVerifier }) {
  const loginHandler = [
    validateBody(loginBodySchema),
    async (req: import('express').Request, res: import('express').Response) => {
      const body = req.body as z.output<typeof loginBodySchema>;
      const result = await deps.rpc.call(authRpc.login, {
        ...body,
        userAgent: req.get('user-agent')?.slice(0, 512),
        ip: req.ip,
      });
      res.setHeader('Cache-Control', 'no-store');
      res.json(result);
    },
  ];
  app.post('/login', ...loginHandler);
  app.post('/auth/login', ...loginHandler);

  app.get('/.well-known/jwks.json', async (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(await deps.verifier.publicJwks());
  });
}
