/**
 * A send whose publish fails (the broker took it or not: its confirm never came) answers 503
 * with the key of that attempt; retried with the key, the same notification id is published
 * again (the consumer stores an id once), and once published the key answers that id without
 * publishing. In-memory ports: the end-to-end outage is test/faults/send-503-retry.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@warren/shared/errors';
import type { NotificationRequested } from '@warren/shared/contracts/notifications';
import { sendNotification } from '../src/domain/send-notification.js';
import type { IdempotencyKeys, IdempotencyRecord } from '../src/domain/ports.js';

function memoryKeys(): IdempotencyKeys {
  const rows = new Map<string, IdempotencyRecord>();
  return {
    async claim(userId, key, requestHash, notificationId) {
      const existing = rows.get(`${userId}|${key}`);
      if (existing) return { created: false, existing };
      rows.set(`${userId}|${key}`, { notificationId, requestHash, publishedAt: null });
      return { created: true };
    },
    async markPublished(userId, key) {
      const row = rows.get(`${userId}|${key}`);
      if (row) row.publishedAt = new Date();
    },
  };
}

describe('a keyless send whose publish fails', () => {
  it('When the publish fails, then the 503 names a key; retried with it, the same id is published, then answered without publishing', async () => {
    const published: NotificationRequested[] = [];
    let brokerUp = false;
    const deps = {
      idempotency: memoryKeys(),
      publishRequest: async (m: NotificationRequested) => {
        if (!brokerUp) throw new Error('broker not connected');
        published.push(m);
      },
    };
    const body = { recipients: { userIds: ['6f1c2a52-0b7e-4c1e-9a51-6d1f8a0c2b3d'] }, title: 't', body: 'b', type: 'info', data: {} };

    const failed = await sendNotification(deps, 'sender', body).then(
      () => assert.fail('accepted with the broker down'),
      (err: unknown) => err as AppError,
    );
    assert.ok(failed instanceof AppError);
    assert.equal(failed.status, 503);
    const key = failed.headers?.['Idempotency-Key'];
    assert.ok(key, 'the 503 names the key of the attempt');
    assert.equal(failed.headers?.['Retry-After'], '1');

    brokerUp = true;
    const retried = await sendNotification(deps, 'sender', body, key);
    const again = await sendNotification(deps, 'sender', body, key);
    assert.equal(again.id, retried.id);
    assert.equal(published.length, 1, 'published once, after the outage');
    assert.equal(published[0]?.notificationId, retried.id);
    await assert.rejects(sendNotification(deps, 'sender', { ...body, title: 'other' }, key), (err) => err instanceof AppError && err.status === 422);
  });
});
