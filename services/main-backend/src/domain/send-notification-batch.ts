/**
 * Sending up to 100 notifications in one request (`POST /notifications/batch`), all or nothing:
 * the body was validated whole before this runs (one bad item and nothing is sent), and the
 * answer is 202 only once the broker confirmed every message of the batch.
 *
 * The notifications travel as `notification.batch.requested` messages, as few as fit in
 * MAX_MESSAGE_BYTES each (usually one), published at once on the confirm channel and their
 * confirms awaited together: the broker sees one message where single sends cost a hundred,
 * and the consumer stores a message's notifications in one transaction, in their order.
 *
 * Ids: the batch gets one random id, and the id of its i-th notification is derived from it
 * (a name-based UUID, version 5). So an Idempotency-Key needs to record only the batch id (in
 * the same table, the same way, as a single send's id): the same key and body answer the same
 * ids, a republish carries the same ids (stored once by the consumer), and a keyless batch
 * whose publish failed gets a server-side key exactly like a single send (see
 * send-notification.ts, whose `unavailable` it shares).
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import stableStringify from 'safe-stable-stringify';
import type { SendNotificationBatchBody, SendNotificationBody } from '@warren/shared/contracts/notification-api';
import type { NotificationBatchRequested } from '@warren/shared/contracts/notifications';
import type { IdempotencyKeys, PublishNotificationBatchRequest } from './ports.js';
import { idempotencyKeyReused, unavailable } from './send-notification.js';

/**
 * Upper bound of one batch message's size. A consumer holds up to its prefetch (200 messages)
 * in memory: 100 notifications of the largest size in one message would be megabytes each.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export interface SendNotificationBatchDeps {
  idempotency: IdempotencyKeys;
  publishBatchRequest: PublishNotificationBatchRequest;
}

export async function sendNotificationBatch(
  deps: SendNotificationBatchDeps,
  senderId: string,
  body: SendNotificationBatchBody,
  idempotencyKey?: string,
): Promise<{ ids: string[] }> {
  let batchId: string = randomUUID();
  // Keys sorted at every level, as for a single send; a batch body never hashes like a single one (`notifications`).
  const requestHash = () => createHash('sha256').update(stableStringify(body) ?? '').digest();
  if (idempotencyKey) {
    const hash = requestHash();
    const claim = await deps.idempotency.claim(senderId, idempotencyKey, hash, batchId);
    if (!claim.created) {
      if (!timingSafeEqual(claim.existing.requestHash, hash)) {
        throw idempotencyKeyReused();
      }
      batchId = claim.existing.notificationId;
      if (claim.existing.publishedAt) return { ids: batchNotificationIds(batchId, body.notifications.length) };
    }
  }
  const ids = batchNotificationIds(batchId, body.notifications.length);
  try {
    const requestedAt = new Date().toISOString();
    // The items were parsed with the message's own content and recipient schemas at the edge.
    await Promise.all(packMessages(body.notifications, ids).map((chunk) => deps.publishBatchRequest({ notifications: chunk, requestedBy: { userId: senderId }, requestedAt })));
  } catch {
    throw await unavailable(deps, senderId, idempotencyKey, batchId, requestHash);
  }
  if (idempotencyKey) await deps.idempotency.markPublished(senderId, idempotencyKey);
  return { ids };
}

/** The ids of a batch's notifications: UUIDv5 of the index in the batch id's namespace. */
export function batchNotificationIds(batchId: string, count: number): string[] {
  const namespace = Buffer.from(batchId.replaceAll('-', ''), 'hex');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const h = createHash('sha1').update(namespace).update(String(i)).digest();
    h[6] = ((h[6] as number) & 0x0f) | 0x50;
    h[8] = ((h[8] as number) & 0x3f) | 0x80;
    const hex = h.toString('hex', 0, 16);
    ids.push(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
  }
  return ids;
}

type BatchItem = NotificationBatchRequested['notifications'][number];

/** The items with their ids, in order, cut into messages of at most MAX_MESSAGE_BYTES. */
export function packMessages(items: SendNotificationBody[], ids: string[]): BatchItem[][] {
  // What a message holds besides its items (sender, time, brackets).
  const envelope = 256;
  const chunks: BatchItem[][] = [];
  let chunk: BatchItem[] = [];
  let size = envelope;
  for (let i = 0; i < items.length; i++) {
    const n = items[i] as SendNotificationBody;
    const bytes = maxEncodedBytes(n);
    if (chunk.length > 0 && size + bytes > MAX_MESSAGE_BYTES) {
      chunks.push(chunk);
      chunk = [];
      size = envelope;
    }
    chunk.push({ notificationId: ids[i] as string, recipients: n.recipients, title: n.title, body: n.body, type: n.type, data: n.data });
    size += bytes;
  }
  chunks.push(chunk);
  return chunks;
}

/**
 * An upper bound of the bytes one item takes in a message, without serialising it: a character
 * of text is at most 6 bytes as JSON (a `\u001f` escape), a character of `data`'s JSON text at
 * most 3 in UTF-8; 256 bytes cover the keys, quotes and the id. The largest valid item is about
 * 90 KB, so every message holds at least two.
 */
function maxEncodedBytes(n: SendNotificationBody): number {
  const data = Object.keys(n.data).length === 0 ? 2 : 3 * JSON.stringify(n.data).length;
  return 256 + 6 * (n.title.length + n.body.length + n.type.length) + 39 * (n.recipients.userIds?.length ?? 0) + 12 * (n.recipients.roles?.length ?? 0) + data;
}
