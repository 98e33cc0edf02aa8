/** POST /notifications: Bearer with notifications:send, validated body, optional Idempotency-Key. */
import type { preHandlerHookHandler } from 'fastify';
import { AppError } from '@warren/shared/errors';
import { authOf, requirePermission } from '@warren/shared/auth/require-auth';
import type { HttpApp } from '@warren/shared/http/app';
import { bodyOf } from '@warren/shared/http/validate';
import { sendNotification, sendNotificationBodySchema, type SendNotificationDeps } from '../domain/send-notification.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export function mountNotificationRoutes(app: HttpApp, deps: SendNotificationDeps & { authenticated: preHandlerHookHandler[] }) {
  const preHandler = [...deps.authenticated, requirePermission('notifications:send')];

  app.post('/notifications', { preHandler }, async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) {
      throw AppError.validation([{ path: 'Idempotency-Key', message: '1 to 128 visible ASCII characters' }], 'The Idempotency-Key header is not valid.');
    }
    const body = bodyOf(sendNotificationBodySchema, req);
    const result = await sendNotification(deps, authOf(req).sub, body, key);
    reply.code(202);
    return result;
  });
}
