/**
 * The consumer confirms user ids its directory does not know with auth (an RPC), batch by batch,
 * and batches run one at a time. With the auth service down, each such lookup waits the whole
 * RPC_TIMEOUT_MS (5 s) before the batch goes to the delay queue, so anyone who names a made-up
 * user id (any manager, or another team publishing to the broker) holds every other user's
 * notifications back for as long as auth is down. A notification to a known user must not wait
 * on a lookup it does not need.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import pg from 'pg';
import { notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { waitUntilKnown } from '../support/directory.js';
import { RABBITMQ_URL } from '../support/env.js';
import { sleep } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

describe('Auth down while a message names an unknown user id', () => {
  let stack: Stack;
  let conn: ChannelModel;
  let ch: ConfirmChannel;
  let db: pg.Client;
  let adminId: string;

  before(async () => {
    stack = await startStack();
    adminId = (await login(stack)).user.id;
    await waitUntilKnown(stack.env, [adminId]);
    conn = await amqplib.connect(RABBITMQ_URL);
    ch = await conn.createConfirmChannel();
    db = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await db.connect();
  });
  after(async () => {
    await db?.end().catch(() => undefined);
    await conn?.close().catch(() => undefined);
    await stack?.stop();
  });

  async function publish(title: string, userIds: string[]): Promise<string> {
    const notificationId = randomUUID();
    const message = notificationRequestedSchema.parse({ notificationId, recipients: { userIds }, title, body: 'b', requestedAt: new Date().toISOString() });
    ch.publish(topology(stack.env.BROKER_NAMESPACE as string).exchanges.events.name, ROUTING_KEYS.notificationRequested, Buffer.from(JSON.stringify(message)), {
      messageId: notificationId,
      contentType: 'application/json',
      persistent: true,
      type: ROUTING_KEYS.notificationRequested,
    });
    await ch.waitForConfirms();
    return notificationId;
  }

  it('when auth is down and messages name unknown user ids, then a notification to a known user is still stored within 3 s', { timeout: 120_000 }, async () => {
    await stack.auth.stop();
    // Three sends naming a made-up id, a moment apart so that each is a batch of its own.
    for (let i = 0; i < 3; i++) {
      await publish(`names a made-up id ${i}`, [randomUUID()]);
      await sleep(300);
    }
    const sentAt = Date.now();
    const id = await publish('to a known user', [adminId]);
    let storedAfterMs = -1;
    await until(async () => {
      const { rowCount } = await db.query('SELECT 1 FROM inbox_items WHERE notification_id = $1', [id]);
      if (rowCount) storedAfterMs = Date.now() - sentAt;
      return Boolean(rowCount);
    }, 'the notification to the known user stored', 60_000, 100);
    assert.ok(storedAfterMs <= 3000, `stored ${storedAfterMs} ms after it was sent: it waited on lookups for other messages' unknown ids`);
  });
});
