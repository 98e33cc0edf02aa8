/**
 * What the main backend's use cases need from outside the domain: the idempotency record of
 * sends (db/idempotency-repository.ts) and the broker (messaging/notification-requests.ts).
 * service.ts wires them. docs/decisions/0015-ports-and-dependency-rule.md says what the domain
 * may import.
 */
import type { NotificationBatchRequested, NotificationRequested } from '@warren/shared/contracts/notifications';

export interface IdempotencyRecord {
  notificationId: string;
  requestHash: Buffer;
  publishedAt: Date | null;
}

/** Idempotency keys of notification sends, per user. */
export interface IdempotencyKeys {
  /** Claims the key for `notificationId`; if it was claimed before, returns that earlier record. */
  claim(
    userId: string,
    key: string,
    requestHash: Buffer,
    notificationId: string,
  ): Promise<{ created: true } | { created: false; existing: IdempotencyRecord }>;
  markPublished(userId: string, key: string): Promise<void>;
}

/**
 * Queues `notification.requested` with the broker; resolves once the broker confirmed it. The
 * message is built only from parts validated against the contract (the HTTP body, parsed with
 * the message's own schemas, plus ids and times the server made), so it is not parsed again.
 * Every publish of one notification carries its `notificationId` as message id (a republish
 * after a reconnect too), which is what lets the consumer store it once.
 */
export type PublishNotificationRequest = (message: NotificationRequested) => Promise<void>;

/**
 * Queues one `notification.batch.requested` with the broker; resolves once the broker confirmed
 * it. Built, like a single request, only from validated parts; its message id is stable across
 * retries of the same batch (the id of its first notification).
 */
export type PublishNotificationBatchRequest = (message: NotificationBatchRequested) => Promise<void>;
