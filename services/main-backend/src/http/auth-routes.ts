/**
 * The unauthenticated auth endpoints: register, verify, login, refresh, forgot, reset. Each
 * validates its body, is rate-limited per IP, and forwards to the auth service over RPC; the
 * auth service's errors come back as problem details with their status and code.
 */
import { z } from 'zod';
import { authRpc, jwksSchema, tokenPairSchema } from '@warren/shared/contracts/auth-rpc';
import type { AccessTokenVerifier } from '@warren/shared/auth/access-token-verifier';
import type { RequestHandler } from '@warren/shared/http/app';
import { AUTH_RPC_PROBLEMS } from '@warren/shared/contracts/http-api';
import type { RouteMounter } from '@warren/shared/http/route-mounter';
import { defineRoute } from '@warren/shared/http/route-spec';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { clientInfo } from './actor.js';
import { EXAMPLE } from './examples.js';

const email = z.email().max(254).meta({ example: EXAMPLE.email });
/** Shape only; the auth service applies the password policy (it answers 400 with the reason). */
const password = z.string().min(1).max(1024).meta({ example: EXAMPLE.password });
const code = z.string().regex(/^\d{6}$/, 'a 6-digit code').meta({ description: 'The 6-digit code that was emailed.', example: '123456' });

/** Every one of these routes is rate-limited per client address and asks the auth service. */
const limited = ['rate_limited', ...AUTH_RPC_PROBLEMS] as const;
const noStore = z.object({ 'Cache-Control': z.literal('no-store') });
const loginBody = z.object({ email, password }).strict();

const login = {
  method: 'post',
  tag: 'auth',
  auth: 'public',
  summary: 'Log in: a token pair for an email and password',
  description:
    'Wrong email or password: one generic 401. After 3 failures in a row from one address each try waits 1 s, 2 s, 4 s \u2026 (429 `login_throttled`); `LOGIN_LOCKOUT_THRESHOLD` failures lock the account for that address (423).',
  request: { body: loginBody },
  bodyExample: { email: EXAMPLE.email, password: EXAMPLE.password },
  responses: { 200: { description: 'Logged in.', schema: tokenPairSchema, example: EXAMPLE.tokenPair, headers: noStore } },
  problems: ['invalid_credentials', 'email_not_verified', 'account_locked', 'login_throttled', ...limited],
} as const;

export const authRoutes = {
  register: defineRoute({
    method: 'post',
    path: '/auth/register',
    operationId: 'register',
    summary: 'Register: a 6-digit code is emailed to verify the address',
    description: 'The answer is the same whether or not the email is already taken (its owner is emailed instead).',
    tag: 'auth',
    auth: 'public',
    request: { body: z.object({ email, password, name: z.string().trim().min(1).max(100).meta({ example: EXAMPLE.name }) }).strict() },
    bodyExample: { email: EXAMPLE.email, password: EXAMPLE.password, name: EXAMPLE.name },
    responses: { 202: { description: 'A code is on its way (if the address can register).', schema: authRpc.register.response, example: { status: 'pending_verification' } } },
    problems: limited,
  }),
  verifyEmail: defineRoute({
    method: 'post',
    path: '/auth/verify-email',
    operationId: 'verifyEmail',
    summary: 'Verify the email address with the emailed code',
    description: '5 wrong tries per address in an hour (a new code does not restart the count): 429 `too_many_attempts`.',
    tag: 'auth',
    auth: 'public',
    request: { body: z.object({ email, code }).strict() },
    bodyExample: { email: EXAMPLE.email, code: '123456' },
    responses: { 200: { description: 'Verified: the user can log in.', schema: authRpc.verifyEmail.response, example: { status: 'verified' } } },
    problems: ['invalid_code', 'code_expired', 'too_many_attempts', ...limited],
  }),
  login: defineRoute({ ...login, path: '/login', operationId: 'login' }),
  authLogin: defineRoute({ ...login, path: '/auth/login', operationId: 'authLogin', summary: 'Log in (the same as POST /login)' }),
  refresh: defineRoute({
    method: 'post',
    path: '/auth/refresh',
    operationId: 'refresh',
    summary: 'A new token pair for a refresh token, which stops working',
    description: 'Presenting a refresh token that was already rotated ends the whole session (401 `refresh_token_reused`).',
    tag: 'auth',
    auth: 'public',
    request: { body: z.object({ refreshToken: z.string().min(1).max(512) }).strict() },
    bodyExample: { refreshToken: EXAMPLE.tokenPair.refreshToken },
    responses: { 200: { description: 'The new pair.', schema: tokenPairSchema, example: EXAMPLE.tokenPair, headers: noStore } },
    problems: ['invalid_refresh_token', 'refresh_token_reused', ...limited],
  }),
  forgotPassword: defineRoute({
    method: 'post',
    path: '/auth/password/forgot',
    operationId: 'forgotPassword',
    summary: 'Email a password-reset code',
    description: 'Always 202: a code is emailed only if the account exists.',
    tag: 'auth',
    auth: 'public',
    request: { body: z.object({ email }).strict() },
    bodyExample: { email: EXAMPLE.email },
    responses: { 202: { description: 'Accepted.', schema: z.object({ status: z.literal('accepted') }), example: { status: 'accepted' } } },
    problems: limited,
  }),
  resetPassword: defineRoute({
    method: 'post',
    path: '/auth/password/reset',
    operationId: 'resetPassword',
    summary: 'Set a new password with the emailed code; every session of the user ends',
    tag: 'auth',
    auth: 'public',
    request: { body: z.object({ email, code, newPassword: password }).strict() },
    bodyExample: { email: EXAMPLE.email, code: '123456', newPassword: 'another long passphrase' },
    responses: { 200: { description: 'Changed.', schema: z.object({ status: z.literal('password_changed') }), example: { status: 'password_changed' } } },
    problems: ['invalid_code', 'code_expired', 'too_many_attempts', ...limited],
  }),
  jwks: defineRoute({
    method: 'get',
    path: '/.well-known/jwks.json',
    operationId: 'jwks',
    summary: 'The public keys that verify access tokens (JWKS)',
    tag: 'auth',
    auth: 'public',
    responses: { 200: { description: 'Cached 5 minutes.', schema: jwksSchema, example: EXAMPLE.jwks } },
    problems: AUTH_RPC_PROBLEMS,
  }),
};

export function mountAuthRoutes(routes: RouteMounter, deps: { rpc: RpcClient; verifier: AccessTokenVerifier; rateLimit: RequestHandler }) {
  const { rpc } = deps;
  const limited = [deps.rateLimit];

  routes.mount(authRoutes.register, limited, async ({ body }, req, res) => {
    res.status(202).json(await rpc.call(authRpc.register, { ...body, ...clientInfo(req) }));
  });

  routes.mount(authRoutes.verifyEmail, limited, async ({ body }, req, res) => {
    res.json(await rpc.call(authRpc.verifyEmail, { ...body, ...clientInfo(req) }));
  });

  for (const spec of [authRoutes.login, authRoutes.authLogin]) {
    routes.mount(spec, limited, async ({ body }, req, res) => {
      const result = await rpc.call(authRpc.login, { ...body, ...clientInfo(req) });
      res.setHeader('Cache-Control', 'no-store');
      res.json(result);
    });
  }

  routes.mount(authRoutes.refresh, limited, async ({ body }, req, res) => {
    const result = await rpc.call(authRpc.refresh, { ...body, ...clientInfo(req) });
    res.setHeader('Cache-Control', 'no-store');
    res.json(result);
  });

  routes.mount(authRoutes.forgotPassword, limited, async ({ body }, req, res) => {
    await rpc.call(authRpc.forgotPassword, { ...body, ...clientInfo(req) });
    res.status(202).json({ status: 'accepted' });
  });

  routes.mount(authRoutes.resetPassword, limited, async ({ body }, req, res) => {
    await rpc.call(authRpc.resetPassword, { ...body, ...clientInfo(req) });
    res.json({ status: 'password_changed' });
  });

  routes.mount(authRoutes.jwks, async (_input, _req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(await deps.verifier.publicJwks());
  });
}
