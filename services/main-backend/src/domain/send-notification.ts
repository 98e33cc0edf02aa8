/**
 * Sending a notification: publish `notification.requested` with publisher confirms and answer
 * its id. With an Idempotency-Key, the same key and body answer the same id and the message
 * is published until the broker confirmed it once; the same key with another body is a 422.
 *
 * A 503 does not mean "not delivered": the broker may have taken the message and its confirm
 * been lost. What makes a retry safe is the notification id, which the consumer stores once per
 * recipient. A send without a key gets a server-side one for its in-flight attempt: its id is
 * fixed before the first publish, and every (re)publish of the attempt (the connection manager
 * republishes after a reconnect) carries that id. If the attempt fails, the key is recorded
 * like a client's and answered in the 503 (`Idempotency-Key` header), so the client can retry
 * exactly that attempt without risking a duplicate.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import stableStringify from 'safe-stable-stringify';
import type { SendNotificationBody } from '@warren/shared/contracts/notification-api';
import type { NotificationRequested } from '@warren/shared/contracts/notifications';
import { AppError } from '@warren/shared/errors';
import type { IdempotencyKeys, PublishNotificationRequest } from './ports.js';

export interface SendNotificationDeps {
  idempotency: IdempotencyKeys;
  publishRequest: PublishNotificationRequest;
}

export async function sendNotification(
  deps: SendNotificationDeps,
  senderId: string,
  body: SendNotificationBody,
  idempotencyKey?: string,
): Promise<{ id: string }> {
  let notificationId: string = randomUUID();
  if (idempotencyKey) {
    const hash = requestHashOf(body);
    const claim = await deps.idempotency.claim(senderId, idempotencyKey, hash, notificationId);
    if (!claim.created) {
      if (!timingSafeEqual(claim.existing.requestHash, hash)) {
        throw idempotencyKeyReused();
      }
      notificationId = claim.existing.notificationId;
      if (claim.existing.publishedAt) return { id: notificationId };
    }
  }
  try {
    // The body was parsed with the message's own content and recipient schemas at the edge.
    const message: NotificationRequested = {
      notificationId,
      recipients: body.recipients,
      title: body.title,
      body: body.body,
      type: body.type,
      data: body.data,
      requestedBy: { userId: senderId },
      requestedAt: new Date().toISOString(),
    };
    await deps.publishRequest(message);
  } catch {
    throw await unavailable(deps, senderId, idempotencyKey, notificationId, () => requestHashOf(body));
  }
  if (idempotencyKey) await deps.idempotency.markPublished(senderId, idempotencyKey);
  return { id: notificationId };
}

/** Keys sorted at every level: the same body with its `data` keys in another order is the same request. */
function requestHashOf(body: SendNotificationBody): Buffer {
  return createHash('sha256').update(stableStringify(body) ?? '').digest();
}

/** The 422 of a key claimed before for another request (another body, or a batch for a single send). */
export function idempotencyKeyReused(): AppError {
  return new AppError({
    status: 422,
    code: 'idempotency_key_reused',
    title: 'Unprocessable Content',
    detail: 'This Idempotency-Key was used with a different request.',
  });
}

/**
 * The 503 of a failed attempt, with the key that retries it safely: the client's own, or for a
 * keyless send the server-side one, recorded now (only on this rare path: a send that succeeds
 * costs no write). If even that record cannot be written, the answer has no key.
 */
export async function unavailable(
  deps: { idempotency: IdempotencyKeys },
  senderId: string,
  clientKey: string | undefined,
  notificationId: string,
  requestHash: () => Buffer,
): Promise<AppError> {
  let key = clientKey;
  if (!key) {
    const serverKey = `server-${notificationId}`;
    key = await deps.idempotency.claim(senderId, serverKey, requestHash(), notificationId).then(
      () => serverKey,
      () => undefined,
    );
  }
  const detail = key
    ? 'The notification could not be queued, and may still be delivered: retry with the Idempotency-Key header of this answer.'
    : 'The notification could not be queued; try again.';
  return new AppError({
    status: 503,
    code: 'broker_unavailable',
    title: 'Service Unavailable',
    detail,
    headers: key ? { 'Idempotency-Key': key, 'Retry-After': '1' } : { 'Retry-After': '1' },
  });
}
