/**
 * Per-IP rate limit for the unauthenticated auth endpoints (@fastify/rate-limit, in-memory
 * store: each replica counts on its own, so N replicas allow up to N × the limit). The client
 * IP is the socket's, or X-Forwarded-For's only when TRUST_PROXY says how many proxies to trust.
 * Past the limit: 429 problem details with Retry-After (and the draft RateLimit-* headers).
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type { preHandlerHookHandler } from 'fastify';
import { AppError } from '@warren/shared/errors';
import type { HttpApp } from '@warren/shared/http/app';

export async function authRateLimit(app: HttpApp, perMinute: number): Promise<preHandlerHookHandler> {
  await app.register(fastifyRateLimit, {
    global: false,
    enableDraftSpec: true,
    // Addresses counted at once (an LRU; the plugin's default is 5 000, too few to stop a spread-out
    // guessing run). ~100 bytes each, so memory stays bounded at ~10 MB.
    cache: 100_000,
    errorResponseBuilder: (_req, context) =>
      new AppError(429, 'rate_limited', 'Too Many Requests', 'Too many requests from this address; slow down.', undefined, {
        'Retry-After': String(Math.max(1, Math.ceil(context.ttl / 1000))),
      }),
  });
  return app.rateLimit({ max: perMinute, timeWindow: 60_000 });
}
