/**
 * The notification service's HTTP API as documented: the inbox, what a user sent, a send's
 * status, and the AsyncAPI document of the socket and the messages. GET /openapi.json (and docs/api/openapi-notification.json) is
 * generated from these routes.
 */
import { z } from 'zod';
import { inboxNotificationSchema } from '@warren/shared/contracts/inbox';
import { sendStatusSchema, sentItemSchema } from '@warren/shared/contracts/notification-api';
import type { RouteMounter } from '@warren/shared/http/route-mounter';
import { warrenApi } from '@warren/shared/contracts/http-api';
import { defineRoute } from '@warren/shared/http/route-spec';
import { asyncApiDocument } from '../asyncapi.js';
import { inboxRoutes } from './inbox-routes.js';
import { sendStatusRoutes } from './send-status-routes.js';
import { sentRoutes } from './sent-routes.js';

export const asyncApiRoute = defineRoute({
  method: 'get',
  path: '/asyncapi.json',
  operationId: 'asyncapi',
  summary: 'The AsyncAPI 3.0 document: WebSocket frames and close codes, RabbitMQ messages',
  description: 'Generated from the schemas that validate each frame and message. `npm run docs` writes it to docs/api/asyncapi.json.',
  tag: 'documents',
  auth: 'public',
  responses: { 200: { description: 'The AsyncAPI document.', schema: z.record(z.string(), z.unknown()) } },
});

export const notificationApi = warrenApi({
  title: 'Warren notification service',
  description: [
    'The inbox of the logged-in user over REST, what the user sent, and the status of a send for its sender. Send the `accessToken` of the main backend\u2019s `POST /login` as `Authorization: Bearer <token>`.',
    'Notifications also arrive live on the WebSocket `/ws`: its frames and close codes, and the RabbitMQ messages, are in [/asyncapi.json](/asyncapi.json).',
  ].join(' '),
  // GET /notifications/sent before GET /notifications/:id: the order they are mounted in.
  routes: [...Object.values(inboxRoutes), ...Object.values(sentRoutes), ...Object.values(sendStatusRoutes), asyncApiRoute],
  schemas: { Notification: inboxNotificationSchema, SendStatus: sendStatusSchema, SentItem: sentItemSchema },
  docs: true,
});

export function mountAsyncApiRoute(routes: RouteMounter): void {
  // Generated on first request, then kept.
  let document: string | undefined;
  routes.mount(asyncApiRoute, (_input, _req, res) => {
    document ??= JSON.stringify(asyncApiDocument());
    res.type('application/json').send(document);
  });
}
