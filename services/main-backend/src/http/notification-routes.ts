/**
 * POST /notifications and POST /notifications/batch: Bearer with notifications:send, validated
 * body, optional Idempotency-Key. The batch route reads its body itself, after the guards, with
 * a limit of its own (BATCH_BODY_LIMIT_FACTOR times HTTP_BODY_LIMIT): a hundred notifications
 * of the size a single send accepts must fit.
 */
import { AppError } from '@warren/shared/errors';
import { authOf, requirePermission } from '@warren/shared/auth/require-auth';
import { sendNotificationBatchBodySchema, sendNotificationBodySchema } from '@warren/shared/contracts/notification-api';
import { MAX_BATCH_NOTIFICATIONS } from '@warren/shared/contracts/notifications';
import { jsonBody, type HttpApp, type Request, type RequestHandler } from '@warren/shared/http/app';
import { bodyLimitBytes } from '@warren/shared/http/body-limits';
import { bodyOf } from '@warren/shared/http/validate';
import { sendNotification, type SendNotificationDeps } from '../domain/send-notification.js';
import { sendNotificationBatch, type SendNotificationBatchDeps } from '../domain/send-notification-batch.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export const BATCH_PATH = '/notifications/batch';
/** The batch body limit is this many single-send limits: room for 100 bodies and the brackets around them. */
export const BATCH_BODY_LIMIT_FACTOR = MAX_BATCH_NOTIFICATIONS + 1;

export function mountNotificationRoutes(app: HttpApp, deps: SendNotificationDeps & SendNotificationBatchDeps & { authenticated: RequestHandler[]; bodyLimit: string }) {
  const guards = [...deps.authenticated, requirePermission('notifications:send')];

  app.post('/notifications', ...guards, async (req, res) => {
    const key = idempotencyKeyOf(req);
    const body = bodyOf(sendNotificationBodySchema, req);
    const result = await sendNotification(deps, authOf(req).sub, body, key);
    res.status(202).json(result);
  });

  app.post(BATCH_PATH, ...guards, jsonBody(BATCH_BODY_LIMIT_FACTOR * bodyLimitBytes(deps.bodyLimit)), async (req, res) => {
    const key = idempotencyKeyOf(req);
    const body = bodyOf(sendNotificationBatchBodySchema, req);
    const result = await sendNotificationBatch(deps, authOf(req).sub, body, key);
    res.status(202).json(result);
  });
}

function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) {
    throw AppError.validation([{ path: 'Idempotency-Key', message: '1 to 128 visible ASCII characters' }], 'The Idempotency-Key header is not valid.');
  }
  return key;
}
