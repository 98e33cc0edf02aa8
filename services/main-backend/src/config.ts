/** The main backend's configuration: the common variables plus proxy trust. */
import { z } from 'zod';
import { loadConfig } from '@warren/shared/config';

export function loadMainConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(
    'main-backend',
    env,
    () =>
      z.object({
        /** How many reverse proxies in front are trusted to set X-Forwarded-For (0: none). */
        TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
        /** Requests per client IP per minute to the unauthenticated /auth/* and /login endpoints. */
        AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(30),
        /** How long a "this session is live" answer from auth is trusted before asking again. */
        SESSION_CHECK_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
      }),
    (v) => ({
      trustProxy: v.TRUST_PROXY,
      authRateLimitPerMinute: v.AUTH_RATE_LIMIT_PER_MINUTE,
      sessionCheckCacheSeconds: v.SESSION_CHECK_CACHE_SECONDS,
    }),
  );
}
export type MainConfig = ReturnType<typeof loadMainConfig>;
