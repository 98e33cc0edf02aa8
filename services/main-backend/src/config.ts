/**
 * The main backend's configuration: the kit's variables (logging, broker, database pool, HTTP),
 * its port and database, what an auth client reads, plus proxy trust and rate limits.
 */
import { z } from 'zod';
import { authClientSettings, authClientVariables } from '@warren/shared/auth/config';
import { loadConfig, type Env, type PortVariable } from '@warren/shared/config';
import { defaultNamespace } from '@warren/shared/contracts/topology';

/** Read by the container healthcheck too (deploy/healthcheck.mjs). */
export const HTTP_PORT: PortVariable = { variable: 'MAIN_BACKEND_PORT', defaults: { dev: 3000, qa: 4000 } };

export function loadMainConfig(env: Env = process.env) {
  return loadConfig(
    {
      service: 'main-backend',
      port: HTTP_PORT,
      database: { variable: 'MAIN_DATABASE_URL', name: (appEnv) => `warren_main_backend_${appEnv}` },
      brokerNamespace: defaultNamespace,
      variables: (appEnv) =>
        z.object({
          ...authClientVariables(appEnv),
          /** How many reverse proxies in front are trusted to set X-Forwarded-For (0: none). */
          TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
          /** Requests per client IP per minute to the unauthenticated /auth/* and /login endpoints. */
          AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(30),
          /** How long a "this session is live" answer from auth is trusted before asking again. */
          SESSION_CHECK_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
          /**
           * While auth cannot answer, how old a "live" answer may be and still be used (0: never;
           * decision 0026). The default is the default access-token lifetime: no token outlives it.
           */
          SESSION_CHECK_STALE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(900),
        }),
      build: (v) => ({
        authClient: authClientSettings(v),
        trustProxy: v.TRUST_PROXY,
        authRateLimitPerMinute: v.AUTH_RATE_LIMIT_PER_MINUTE,
        sessionCheckCacheSeconds: v.SESSION_CHECK_CACHE_SECONDS,
        sessionCheckStaleSeconds: v.SESSION_CHECK_STALE_SECONDS,
      }),
    },
    env,
  );
}
export type MainConfig = ReturnType<typeof loadMainConfig>;
