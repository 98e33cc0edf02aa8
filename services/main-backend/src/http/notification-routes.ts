/** POST /notifications: Bearer with notifications:send, validated body, optional Idempotency-Key. */
import { AppError } from '@warren/shared/errors';
import { authOf, requirePermission } from '@warren/shared/auth/require-auth';
import type { HttpApp, RequestHandler } from '@warren/shared/http/app';
import { bodyOf } from '@warren/shared/http/validate';
import { sendNotification, sendNotificationBodySchema, type SendNotificationDeps } from '../domain/send-notification.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export function mountNotificationRoutes(app: HttpApp, deps: SendNotificationDeps & { authenticated: RequestHandler[] }) {
  const guards = [...deps.authenticated, requirePermission('notifications:send')];

  app.post('/notifications', ...guards, async (req, res) => {
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) {
      throw AppError.validation([{ path: 'Idempotency-Key', message: '1 to 128 visible ASCII characters' }], 'The Idempotency-Key header is not valid.');
    }
    const body = bodyOf(sendNotificationBodySchema, req);
    const result = await sendNotification(deps, authOf(req).sub, body, key);
    res.status(202).json(result);
  });
}
