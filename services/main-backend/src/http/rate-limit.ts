/**
 * Per-IP rate limit for the unauthenticated auth endpoints (express-rate-limit), counted in
 * main-backend's database (db/rate-limit-store.ts) so every replica sees the same counts. The
 * client IP is the socket's, or X-Forwarded-For's only when TRUST_PROXY says how many proxies to
 * trust. Past the limit: 429 problem details with Retry-After (and the draft RateLimit headers).
 * If the database cannot count, the request gets the database's 503, not a pass.
 */
import { rateLimit } from 'express-rate-limit';
import type { Pool } from 'pg';
import { AppError } from '@warren/shared/errors';
import type { RequestHandler } from '@warren/shared/http/app';
import { PostgresRateLimitStore } from '../db/rate-limit-store.js';

export function authRateLimit(pool: Pool, perMinute: number): { handler: RequestHandler; store: PostgresRateLimitStore } {
  const store = new PostgresRateLimitStore(pool, 'auth');
  const handler = rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store,
    // X-Forwarded-For without TRUST_PROXY is ignored on purpose (a client could forge it), not a
    // misconfiguration to warn about on every such request.
    validate: { xForwardedForHeader: false },
    handler: (req, _res, next) => {
      const reset = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : 60;
      next(
        new AppError({
          status: 429,
          code: 'rate_limited',
          title: 'Too Many Requests',
          detail: 'Too many requests from this address; slow down.',
          headers: { 'Retry-After': String(seconds) },
        }),
      );
    },
  });
  return { handler, store };
}
