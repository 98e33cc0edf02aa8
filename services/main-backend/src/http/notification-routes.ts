/** POST /notifications: Bearer with notifications:send, validated body, optional Idempotency-Key. */
import type { Express } from 'express';
import { AppError } from '@warren/shared/errors';
import type { RequestHandler } from 'express';
import { authOf, requirePermission } from '@warren/shared/auth/require-auth';
import { validateBody } from '@warren/shared/http/validate';
import { sendNotification, sendNotificationBodySchema, type SendNotificationBody, type SendNotificationDeps } from '../domain/send-notification.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export function mountNotificationRoutes(app: Express, deps: SendNotificationDeps & { authenticated: RequestHandler[] }) {
  app.post(
    '/notifications',
    ...deps.authenticated,
    requirePermission('notifications:send'),
    validateBody(sendNotificationBodySchema),
    async (req, res) => {
      const key = req.get('idempotency-key');
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
        throw AppError.validation([{ path: 'Idempotency-Key', message: '1 to 128 visible ASCII characters' }], 'The Idempotency-Key header is not valid.');
      }
      const result = await sendNotification(deps, authOf(res).sub, req.body as SendNotificationBody, key);
      res.status(202).json(result);
    },
  );
}
