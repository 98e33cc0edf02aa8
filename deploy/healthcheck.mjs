// Container HEALTHCHECK: exit 0 when this service answers GET /healthz on its own port, else 1.
// Written in node because the slim runtime image has no curl or wget. The port is read the
// way the service reads it (its own *_PORT variable, else the default for APP_ENV, both named
// in the service's compiled config.js beside this file in the image), so an override in
// docker-compose or `docker run -e` needs no change here.
// Run as `node --conditions=warren-dist deploy/healthcheck.mjs` (the compiled shared package).
import { portFrom } from '@warren/shared/config';

const SERVICES = ['auth', 'main-backend', 'notification'];
const service = process.env.WARREN_SERVICE;
if (!SERVICES.includes(service)) {
  console.error(`healthcheck: WARREN_SERVICE must be one of ${SERVICES.join(', ')}`);
  process.exit(1);
}

try {
  const { HTTP_PORT } = await import(new URL(`../services/${service}/dist/config.js`, import.meta.url).href);
  const port = portFrom(process.env, HTTP_PORT);
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`healthcheck: ${err.message}`);
  process.exit(1);
}
