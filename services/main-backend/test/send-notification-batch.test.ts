/**
 * The two pure parts of a batch send: the ids of its notifications (derived from the batch id,
 * so an Idempotency-Key need record only that) and how its items are cut into messages (each at
 * most MAX_MESSAGE_BYTES on the wire, whatever the items hold, in their order).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { sendNotificationBodySchema, type SendNotificationBody } from '@warren/shared/contracts/notification-api';
import { notificationBatchRequestedSchema } from '@warren/shared/contracts/notifications';
import { batchNotificationIds, MAX_MESSAGE_BYTES, packMessages } from '../src/domain/send-notification-batch.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The bytes of a batch message holding `chunk`, as the publisher encodes it. */
function wireBytes(chunk: ReturnType<typeof packMessages>[number]): number {
  const message = notificationBatchRequestedSchema.parse({ notifications: chunk, requestedBy: { userId: randomUUID() }, requestedAt: new Date().toISOString() });
  return Buffer.byteLength(JSON.stringify(message));
}

describe('batch notification ids', () => {
  it('Then they are name-based UUIDs (version 5), distinct, and the same for the same batch id', () => {
    const batchId = randomUUID();
    const ids = batchNotificationIds(batchId, 100);
    assert.equal(ids.length, 100);
    assert.equal(new Set(ids).size, 100);
    for (const id of ids) assert.match(id, UUID);
    assert.deepEqual(batchNotificationIds(batchId, 100), ids);
    assert.deepEqual(batchNotificationIds(batchId, 3), ids.slice(0, 3), 'the i-th id does not depend on the batch size');
    const other = batchNotificationIds(randomUUID(), 100);
    assert.equal(other.filter((id) => ids.includes(id)).length, 0);
  });
});

describe('packing a batch into messages', () => {
  const parse = (body: unknown): SendNotificationBody => sendNotificationBodySchema.parse(body);

  it('When items are small, then the whole batch is one message, in order', () => {
    const items = Array.from({ length: 100 }, (_, i) => parse({ recipients: { userIds: [randomUUID()] }, title: `t ${i}`, body: 'Your weekly report is ready.' }));
    const ids = batchNotificationIds(randomUUID(), 100);
    const chunks = packMessages(items, ids);
    assert.equal(chunks.length, 1);
    assert.deepEqual(chunks[0]?.map((n) => n.notificationId), ids);
    assert.deepEqual(chunks[0]?.map((n) => n.title), items.map((n) => n.title));
  });

  it('When every item is as large as a single send allows, then each message stays within the bound and the items keep their order', () => {
    // The worst case on the wire: control characters (6 bytes each as JSON), 1 000 ids, every
    // role, data of 8 KiB of JSON text made of 3-byte characters.
    const data = { k: '€'.repeat(8192 - 10) };
    assert.ok(JSON.stringify(data).length <= 8192);
    const items = Array.from({ length: 100 }, (_, i) =>
      parse({
        recipients: { userIds: Array.from({ length: 1000 }, () => randomUUID()), roles: ['admin', 'manager', 'employee'] },
        title: `${i} ${'\u0001'.repeat(190)}`,
        body: '\u0001'.repeat(4000),
        type: 'a'.repeat(64),
        data,
      }),
    );
    const ids = batchNotificationIds(randomUUID(), 100);
    const chunks = packMessages(items, ids);
    assert.ok(chunks.length > 1);
    for (const [i, chunk] of chunks.entries()) {
      const bytes = wireBytes(chunk);
      assert.ok(bytes <= MAX_MESSAGE_BYTES, `message ${i}: ${bytes} bytes`);
      assert.ok(chunk.length >= 2, 'two of the largest items fit in one message');
    }
    assert.deepEqual(chunks.flat().map((n) => n.notificationId), ids);
  });

  it('When items differ in size, then small ones fill the messages the large ones leave room in', () => {
    const small = (i: number) => parse({ recipients: { roles: ['employee'] }, title: `small ${i}`, body: '' });
    const large = (i: number) => parse({ recipients: { roles: ['employee'] }, title: `large ${i}`, body: 'x'.repeat(4000), data: { d: 'y'.repeat(8000) } });
    const items = Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? large(i) : small(i)));
    const chunks = packMessages(items, batchNotificationIds(randomUUID(), 100));
    for (const chunk of chunks) assert.ok(wireBytes(chunk) <= MAX_MESSAGE_BYTES);
    assert.ok(chunks.length <= 2, `${chunks.length} messages for ten large items`);
    assert.deepEqual(chunks.flat().map((n) => n.title), items.map((n) => n.title));
  });
});
