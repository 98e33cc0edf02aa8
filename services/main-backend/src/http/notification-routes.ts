/**
 * POST /notifications and POST /notifications/batch: Bearer with notifications:send, validated
 * body, optional Idempotency-Key. The batch route reads its body itself, after the guards, with
 * a limit of its own (BATCH_BODY_LIMIT_FACTOR times HTTP_BODY_LIMIT): a hundred notifications
 * of the size a single send accepts must fit.
 */
import { z } from 'zod';
import { authOf } from '@warren/shared/auth/require-auth';
import { AUTH_RPC_PROBLEMS } from '@warren/shared/contracts/http-api';
import {
  sendNotificationBatchBodySchema,
  sendNotificationBatchResponseSchema,
  sendNotificationBodySchema,
  sendNotificationResponseSchema,
} from '@warren/shared/contracts/notification-api';
import { MAX_BATCH_NOTIFICATIONS } from '@warren/shared/contracts/notifications';
import { jsonBody } from '@warren/shared/http/app';
import { bodyLimitBytes } from '@warren/shared/http/body-limits';
import type { RouteMounter } from '@warren/shared/http/route-mounter';
import { sendJson } from '@warren/shared/http/send-json';
import { defineRoute } from '@warren/shared/http/route-spec';
import { sendNotification, type SendNotificationDeps } from '../domain/send-notification.js';
import { sendNotificationBatch, type SendNotificationBatchDeps } from '../domain/send-notification-batch.js';
import { EXAMPLE } from './examples.js';

const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,128}$/, '1 to 128 visible ASCII characters')
  .optional()
  .meta({
    description: 'Same key and same body (keys in any order): the same id, stored once. Same key, another body: 422.',
    example: 'order-4711-shipped',
  });

const sendExample = {
  recipients: { userIds: [EXAMPLE.userId], roles: ['manager'] },
  title: 'Quarterly report',
  body: 'The Q3 report is ready for review.',
  type: 'report.ready',
  data: { reportId: 'q3-2030' },
};

/** The batch body limit is this many single-send limits: room for 100 bodies and the brackets around them. */
export const BATCH_BODY_LIMIT_FACTOR = MAX_BATCH_NOTIFICATIONS + 1;

export const notificationRoutes = {
  send: defineRoute({
    method: 'post',
    path: '/notifications',
    operationId: 'sendNotification',
    summary: 'Send a notification to users and/or roles',
    description:
      'Answered once the broker confirmed the message. A 503 (or a lost answer) may still have been delivered: retry with the same `Idempotency-Key` and body, which is always safe.',
    tag: 'notifications',
    auth: { permission: 'notifications:send' },
    request: { headers: z.object({ 'Idempotency-Key': idempotencyKey }), body: sendNotificationBodySchema },
    bodyExample: sendExample,
    responses: { 202: { description: 'Queued: `id` is the notification id every recipient\u2019s copy carries.', schema: sendNotificationResponseSchema, example: { id: EXAMPLE.notificationId } } },
    problems: ['idempotency_key_reused', 'broker_unavailable', 'database_unavailable', ...AUTH_RPC_PROBLEMS],
  }),
  sendBatch: defineRoute({
    method: 'post',
    path: '/notifications/batch',
    operationId: 'sendNotificationBatch',
    summary: 'Send 1 to 100 notifications at once, all or nothing',
    description: [
      'Each item is a body as `POST /notifications` takes it. The whole body is validated first: one bad item is a 400 whose `errors[].path` starts with its index (`notifications.3.title`), and nothing is sent; 0 or more than 100 items is a 400 at `notifications`.',
      'Answered once the broker confirmed every notification: `ids` in item order, each the `notificationId` of that notification\u2019s copies. Each recipient gets them in item order.',
      'One `Idempotency-Key` covers the batch (same key and body: the same ids, stored once). The body may be up to 101 \u00d7 HTTP_BODY_LIMIT (10.1 MB by default), read only once the token and the permission are checked.',
    ].join(' '),
    tag: 'notifications',
    auth: { permission: 'notifications:send' },
    request: { headers: z.object({ 'Idempotency-Key': idempotencyKey }), body: sendNotificationBatchBodySchema },
    bodyExample: { notifications: [sendExample, { recipients: { roles: ['employee'] }, title: 'Office closed Friday', body: 'The office is closed this Friday.' }] },
    responses: {
      202: {
        description: 'Queued: one id per item, in item order.',
        schema: sendNotificationBatchResponseSchema,
        example: { ids: [EXAMPLE.notificationId, '9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'] },
      },
    },
    problems: ['idempotency_key_reused', 'broker_unavailable', 'database_unavailable', ...AUTH_RPC_PROBLEMS],
  }),
};

export function mountNotificationRoutes(routes: RouteMounter, deps: SendNotificationDeps & SendNotificationBatchDeps & { bodyLimit: string }) {
  routes.mount(notificationRoutes.send, async ({ headers, body }, req, res) => {
    sendJson(res, 202, await sendNotification(deps, authOf(req).sub, body, headers['Idempotency-Key']));
  });

  // Its body is left unread at the edge (ownBodyPaths in service.ts) and parsed here, after the guards.
  const batchBody = jsonBody(BATCH_BODY_LIMIT_FACTOR * bodyLimitBytes(deps.bodyLimit));
  routes.mount(notificationRoutes.sendBatch, [batchBody], async ({ headers, body }, req, res) => {
    sendJson(res, 202, await sendNotificationBatch(deps, authOf(req).sub, body, headers['Idempotency-Key']));
  });
}
