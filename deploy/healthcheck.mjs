// Container HEALTHCHECK: exit 0 when this service answers GET /healthz on its own port, else 1.
// Written in node because the slim runtime image has no curl or wget. The port is read the
// way the service reads it (its own *_PORT variable, else the default for APP_ENV), so an
// override in docker-compose or `docker run -e` needs no change here.
// Run as `node --conditions=warren-dist deploy/healthcheck.mjs` (the compiled shared package).
import { DEFAULT_PORTS, PORT_VARIABLE } from '@warren/shared/config';

const service = process.env.WARREN_SERVICE;
if (!service || !(service in PORT_VARIABLE)) {
  console.error(`healthcheck: WARREN_SERVICE must be one of ${Object.keys(PORT_VARIABLE).join(', ')}`);
  process.exit(1);
}
const appEnv = process.env.APP_ENV === 'qa' ? 'qa' : 'dev';
const port = process.env[PORT_VARIABLE[service]] || DEFAULT_PORTS[appEnv][service];

try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`healthcheck: ${err.message}`);
  process.exit(1);
}
