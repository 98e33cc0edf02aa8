/** The portals' static server, shared with `npm run portals`: see scripts/portal-server.ts. */
export { S3_LAYOUT, startPortalServer, type PortalServer, type PortalUrls } from '../../scripts/portal-server.js';
