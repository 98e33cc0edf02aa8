/**
 * What the development scripts (`npm run portals`, `npm run seed`) read the way the services do:
 * the repository's .env (loaded like shared/src/lifecycle.ts does, never over the environment),
 * and the ports of the stack `npm start` runs (MAIN_BACKEND_PORT, NOTIFICATION_PORT, defaults
 * by APP_ENV: 3000/3002 for dev, 4000/4002 for qa).
 */
import { join } from 'node:path';
import dotenv from 'dotenv';
import { portFrom } from '@warren/shared/config';
import { HTTP_PORT as MAIN_PORT } from '../services/main-backend/src/config.js';
import { HTTP_PORT as NOTIFICATION_PORT } from '../services/notification/src/config.js';

export function loadDotEnv(): void {
  dotenv.config({ quiet: true, path: join(process.env.INIT_CWD ?? process.cwd(), '.env') });
}

/** The local stack's URLs as seen from `hostname` (the host a browser used to reach the portals). */
export function stackUrls(env: NodeJS.ProcessEnv, hostname = '127.0.0.1') {
  const main = portFrom(env, MAIN_PORT);
  const notification = portFrom(env, NOTIFICATION_PORT);
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    apiUrl: `http://${host}:${main}`,
    notificationUrl: `http://${host}:${notification}`,
    wsUrl: `ws://${host}:${notification}/ws`,
  };
}

/** PORTALS_PORT (default 8080): the origins `npm start` allows by default (scripts/start.mjs). */
export function portalsPort(env: NodeJS.ProcessEnv): number {
  const raw = env.PORTALS_PORT || '8080';
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new Error(`PORTALS_PORT must be a port number (0-65535), not ${raw}`);
  return port;
}
