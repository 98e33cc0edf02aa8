/** POST /notifications: Bearer with notifications:send, validated body, optional Idempotency-Key. */
import { z } from 'zod';
import { authOf } from '@warren/shared/auth/require-auth';
import { AUTH_RPC_PROBLEMS } from '@warren/shared/contracts/http-api';
import type { RouteMounter } from '@warren/shared/http/route-mounter';
import { defineRoute } from '@warren/shared/http/route-spec';
import { sendNotification, sendNotificationBodySchema, type SendNotificationDeps } from '../domain/send-notification.js';
import { EXAMPLE } from './examples.js';

const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,128}$/, '1 to 128 visible ASCII characters')
  .optional()
  .meta({
    description: 'Same key and same body (keys in any order): the same id, stored once. Same key, another body: 422.',
    example: 'order-4711-shipped',
  });

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
    bodyExample: {
      recipients: { userIds: [EXAMPLE.userId], roles: ['manager'] },
      title: 'Quarterly report',
      body: 'The Q3 report is ready for review.',
      type: 'report.ready',
      data: { reportId: 'q3-2030' },
    },
    responses: { 202: { description: 'Queued: `id` is the notification id every recipient\u2019s copy carries.', schema: z.object({ id: z.uuid() }), example: { id: EXAMPLE.notificationId } } },
    problems: ['idempotency_key_reused', 'broker_unavailable', 'database_unavailable', ...AUTH_RPC_PROBLEMS],
  }),
};

export function mountNotificationRoutes(routes: RouteMounter, deps: SendNotificationDeps) {
  routes.mount(notificationRoutes.send, async ({ headers, body }, req, res) => {
    res.status(202).json(await sendNotification(deps, authOf(req).sub, body, headers['Idempotency-Key']));
  });
}
