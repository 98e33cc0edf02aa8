/**
 * The main backend's HTTP API as documented: every route it serves besides the standard ones,
 * from which GET /openapi.json (and docs/api/openapi-main-backend.json) is generated.
 */
import { jwksSchema, meSchema, publicUserSchema, sessionInfoSchema, tokenPairSchema } from '@warren/shared/contracts/auth-rpc';
import { auditEventItemSchema } from '@warren/shared/contracts/audit';
import { userListItemSchema } from '@warren/shared/contracts/user-api';
import { warrenApi } from '@warren/shared/contracts/http-api';
import { auditRoutes } from './audit-routes.js';
import { authRoutes } from './auth-routes.js';
import { notificationRoutes } from './notification-routes.js';
import { sessionRoutes } from './session-routes.js';
import { userRoutes } from './user-routes.js';

export const mainBackendApi = warrenApi({
  title: 'Warren main backend',
  description: [
    'The public REST API of Warren: registration, login and sessions, finding and administering users, the audit log of security events, sending notifications (one, or up to 100 at once).',
    'Log in with `POST /login`, then send the `accessToken` as `Authorization: Bearer <token>`.',
    'The inbox and the live WebSocket are on the notification service (its own /openapi.json and /asyncapi.json).',
  ].join(' '),
  routes: [...Object.values(authRoutes), ...Object.values(sessionRoutes), ...Object.values(userRoutes), ...Object.values(auditRoutes), ...Object.values(notificationRoutes)],
  schemas: {
    TokenPair: tokenPairSchema,
    User: publicUserSchema,
    Me: meSchema,
    Session: sessionInfoSchema,
    UserListItem: userListItemSchema,
    AuditEvent: auditEventItemSchema,
    Jwks: jwksSchema,
  },
  docs: true,
});
