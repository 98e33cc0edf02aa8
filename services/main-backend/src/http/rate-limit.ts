/**
 * Per-IP rate limit for the unauthenticated auth endpoints (express-rate-limit, in-memory
 * store: each replica counts on its own, so N replicas allow up to N × the limit). The client
 * IP is the socket's, or X-Forwarded-For's only when TRUST_PROXY says how many proxies to trust.
 * Past the limit: 429 problem details with Retry-After.
 */
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { AppError } from '@warren/shared/errors';

export function authRateLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, _res, next) => {
      const reset = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : 60;
      next(
        new AppError(429, 'rate_limited', 'Too Many Requests', 'Too many requests from this address; slow down.', undefined, {
          'Retry-After': String(seconds),
        }),
      );
    },
  });
}
