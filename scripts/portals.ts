/**
 * `npm run portals`: the portals of s3-layout/ on http://localhost:$PORTALS_PORT (default 8080),
 * laid out like the bucket (/base/, /admin/, /manager/, /employee/, /admin_QA/, …), every
 * portal's config.js pointed at the local stack that MAIN_BACKEND_PORT and NOTIFICATION_PORT
 * name (the defaults of `npm start`). That stack's CORS_ORIGINS must list this origin:
 * `npm start` allows http://localhost:$PORTALS_PORT and http://127.0.0.1:$PORTALS_PORT unless
 * CORS_ORIGINS is set. PORTALS_HOST (default 127.0.0.1) is the address listened on; requests
 * naming another host than it, localhost, 127.0.0.1 or [::1] get 421. NODE_ENV=production is refused.
 */
import { loadDotEnv, portalsPort, stackUrls } from './dev-env.js';
import { startPortalServer, type PortalServer } from './portal-server.js';

loadDotEnv();
if (process.env.NODE_ENV === 'production') {
  // A development server (config.js rewritten to a local stack): never what production serves.
  console.error('portals: refusing to serve with NODE_ENV=production: the bucket is published with scripts/s3-sync.sh');
  process.exit(2);
}
let server: PortalServer;
try {
  const port = portalsPort(process.env);
  server = await startPortalServer({
    host: process.env.PORTALS_HOST || '127.0.0.1',
    port,
    // The stack on the host name the browser used: localhost's pages call localhost's API.
    urls: (hostname) => stackUrls(process.env, hostname),
  });
} catch (err) {
  console.error(`portals: ${(err as Error).message}`);
  process.exit(2);
}
const base = `http://localhost:${server.port}`;
const stack = stackUrls(process.env, 'localhost');
console.log(`Warren portals on ${base}, using main-backend ${stack.apiUrl} and notification ${stack.notificationUrl}`);
console.log(`  dev: ${base}/admin/  ${base}/manager/  ${base}/employee/`);
console.log(`  qa:  ${base}/admin_QA/  ${base}/manager_QA/  ${base}/employee_QA/`);
console.log(`The stack must allow this origin (CORS_ORIGINS); \`npm start\` does unless CORS_ORIGINS is set. Demo users: npm run seed. Ctrl-C stops.`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
