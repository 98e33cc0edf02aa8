/**
 * Sending a notification: publish `notification.requested` with publisher confirms and answer
 * its id. With an Idempotency-Key, the same key and body answer the same id and the message
 * is published until the broker confirmed it once; the same key with another body is a 422.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { notificationContentSchema, notificationRequestedSchema, recipientsSchema } from '@warren/shared/contracts/notifications';
import { ROUTING_KEYS } from '@warren/shared/contracts/topology';
import { AppError } from '@warren/shared/errors';
import type { Publisher } from '@warren/shared/messaging/publisher';
import type { IdempotencyRepository } from '../db/idempotency-repository.js';

export const sendNotificationBodySchema = notificationContentSchema.extend({ recipients: recipientsSchema }).strict();
export type SendNotificationBody = z.output<typeof sendNotificationBodySchema>;

export interface SendNotificationDeps {
  publisher: Publisher;
  idempotency: IdempotencyRepository;
  /** The namespace's events exchange. */
  exchange: string;
}

export async function sendNotification(
  deps: SendNotificationDeps,
  senderId: string,
  body: SendNotificationBody,
  idempotencyKey?: string,
): Promise<{ id: string }> {
  let notificationId: string = randomUUID();
  if (idempotencyKey) {
    const hash = createHash('sha256').update(JSON.stringify(body)).digest();
    const claim = await deps.idempotency.claim(senderId, idempotencyKey, hash, notificationId);
    if (!claim.created) {
      if (!timingSafeEqual(claim.existing.requestHash, hash)) {
        throw new AppError(422, 'idempotency_key_reused', 'Unprocessable Content', 'This Idempotency-Key was used with a different request.');
      }
      notificationId = claim.existing.notificationId;
      if (claim.existing.publishedAt) return { id: notificationId };
    }
  }
  try {
    // The body was parsed with the message's own content and recipient schemas at the edge.
    const message: z.output<typeof notificationRequestedSchema> = {
      notificationId,
      recipients: body.recipients,
      title: body.title,
      body: body.body,
      type: body.type,
      data: body.data,
      requestedBy: { userId: senderId },
      requestedAt: new Date().toISOString(),
    };
    await deps.publisher.publishValidated(deps.exchange, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, message, { messageId: notificationId });
  } catch {
    throw AppError.unavailable('broker_unavailable', 'The notification could not be queued; try again.');
  }
  if (idempotencyKey) await deps.idempotency.markPublished(senderId, idempotencyKey);
  return { id: notificationId };
}
