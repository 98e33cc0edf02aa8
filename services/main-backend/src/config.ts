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
      }),
    (v) => ({ trustProxy: v.TRUST_PROXY }),
  );
}
export type MainConfig = ReturnType<typeof loadMainConfig>;
