/**
 * Reusing a send's id. An outside attack published `notification.requested` with the id of an
 * admin's send, its own recipient and title: the new content was stored under the admin's send
 * (as from the admin) and its status counted the extra recipient. Now a send's record keeps a
 * hash of what it asked for: the same content again is a redelivery (nothing new stored), other
 * content or recipients under a recorded id are dead-lettered (`notification_id_conflict`),
 * alone, and store nothing. Also: user ids in upper case are the same users (lowered when parsed).
 * Checked with the real stack: HTTP sends, raw broker publishes, the notification database.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import pg from 'pg';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { announceUsers } from '../support/directory.js';
import { RABBITMQ_URL } from '../support/env.js';
import { call } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

describe('Notification id reuse', () => {
  let stack: Stack;
  let admin: Awaited<ReturnType<typeof login>>;
  let db: pg.Client;
  let conn: ChannelModel;
  let ch: ConfirmChannel;
  let alan: string;
  let eve: string;

  before(async () => {
    stack = await startStack();
    admin = await login(stack);
    alan = randomUUID();
    eve = randomUUID();
    await announceUsers(stack.env, [alan, eve, admin.user.id]);
    db = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await db.connect();
    conn = await amqplib.connect(RABBITMQ_URL);
    ch = await conn.createConfirmChannel();
  });
  after(async () => {
    await conn?.close().catch(() => undefined);
    await db?.end();
    await stack?.stop();
  });

  const deadLettered = (reason: string) =>
    stack.logs.notification.lines.filter((l) => l.message === 'message dead-lettered' && l.reason === reason).map((l) => String(l.messageId));
  const rowsOf = async (notificationId: string) =>
    (await db.query<{ user_id: string; title: string }>('SELECT user_id, title FROM inbox_items WHERE notification_id = $1 ORDER BY user_id', [notificationId])).rows;
  const recorded = async (notificationId: string) =>
    until(async () => (await db.query('SELECT 1 FROM sends WHERE notification_id = $1', [notificationId])).rowCount === 1, `send ${notificationId} recorded`);

  /** Publishes raw messages on the events exchange, as any publisher on the broker can; returns their message ids. */
  async function publish(...messages: Record<string, unknown>[]): Promise<string[]> {
    const exchange = topology(stack.env.BROKER_NAMESPACE as string).exchanges.events.name;
    const ids = messages.map((m) => {
      const messageId = randomUUID();
      ch.publish(exchange, ROUTING_KEYS.notificationRequested, Buffer.from(JSON.stringify({ requestedAt: new Date().toISOString(), ...m })), {
        messageId,
        contentType: 'application/json',
        persistent: true,
        type: ROUTING_KEYS.notificationRequested,
      });
      return messageId;
    });
    await ch.waitForConfirms();
    return ids;
  }

  async function httpSend(body: Record<string, unknown>): Promise<string> {
    const res = await call<{ id: string }>(`${stack.mainUrl}/notifications`, { token: admin.accessToken, body });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.id;
  }

  it("When a publisher reuses an admin's send id with its own recipient and title, then the message is dead-lettered and the send stays the admin's alone", async () => {
    // Arrange
    const x = await httpSend({ recipients: { userIds: [alan] }, title: 'innocent', body: 'hello' });
    await recorded(x);

    // Act: the finding's message, then variants that change one thing each (an upper-case id is the same id)
    const same = { notificationId: x, recipients: { userIds: [alan] }, title: 'innocent', body: 'hello', type: 'general', data: {}, requestedBy: { userId: admin.user.id } };
    const hostile = await publish(
      { notificationId: x, recipients: { userIds: [eve] }, title: 'HIJACK', body: 'hello', requestedBy: { userId: admin.user.id } },
      { ...same, notificationId: x.toUpperCase(), recipients: { userIds: [alan, eve] } },
      { ...same, body: 'changed' },
      { ...same, type: 'alert' },
      { ...same, data: { link: 'https://evil.test' } },
      { ...same, requestedBy: { userId: eve } },
      { ...same, requestedBy: undefined },
      { ...same, recipients: { userIds: [alan], roles: ['admin'] } },
    );

    // Assert: each dead-lettered for what it is; nothing reached Eve; the status counts Alan only
    await until(() => hostile.every((id) => deadLettered('notification_id_conflict').includes(id)), 'every reuse dead-lettered', 15_000);
    assert.deepEqual((await rowsOf(x)).map((r) => [r.user_id, r.title]), [[alan, 'innocent']]);
    const status = await call(`${stack.notificationUrl}/notifications/${x}`, { token: admin.accessToken });
    assert.equal(status.status, 200);
    assert.equal(status.body.recipients, 1);
    assert.equal(status.body.title, 'innocent');
    const line = stack.logs.notification.lines.find((l) => l.message === 'message dead-lettered' && l.messageId === hostile[0]);
    assert.match(String(line?.detail), new RegExp(x));
  });

  it('When the same send arrives again (keys and ids in another order and case), then it is acked and nothing new is stored', async () => {
    // Arrange
    const x = await httpSend({ recipients: { userIds: [alan, eve] }, title: 'twice', body: 'b', data: { a: 1, b: { c: 2, d: 3 } } });
    await recorded(x);

    // Act
    const [again] = await publish({
      requestedBy: { userId: admin.user.id.toUpperCase() },
      data: { b: { d: 3, c: 2 }, a: 1 },
      body: 'b',
      title: 'twice',
      recipients: { userIds: [eve.toUpperCase(), alan, alan] },
      notificationId: x,
    });

    // Assert
    await until(() => stack.logs.notification.lines.some((l) => l.message === 'notifications stored' && l.newRows === 0 && l.notifications === 1), 'the redelivery handled', 15_000);
    assert.equal(stack.logs.notification.lines.filter((l) => l.message === 'message dead-lettered' && l.messageId === again).length, 0);
    assert.equal((await rowsOf(x)).length, 2);
  });

  it('When one message of a broker batch reuses an id, then only it is dead-lettered and the others of its batch are stored', async () => {
    // Arrange
    const x = await httpSend({ recipients: { userIds: [alan] }, title: 'original', body: 'b' });
    await recorded(x);
    const fresh = [randomUUID(), randomUUID(), randomUUID()];
    const twin = randomUUID();

    // Act: in one go, so the consumer takes them as one batch; `twin` is used twice in it with different content
    const ids = await publish(
      { notificationId: fresh[0], recipients: { userIds: [eve] }, title: 'fine 0', body: 'b' },
      { notificationId: x, recipients: { userIds: [eve] }, title: 'HIJACK', body: 'b' },
      { notificationId: fresh[1], recipients: { userIds: [eve] }, title: 'fine 1', body: 'b' },
      { notificationId: twin, recipients: { userIds: [eve] }, title: 'first twin', body: 'b' },
      { notificationId: twin, recipients: { userIds: [eve] }, title: 'second twin', body: 'b' },
      { notificationId: fresh[2], recipients: { userIds: [eve] }, title: 'fine 2', body: 'b' },
    );

    // Assert
    await until(() => [ids[1], ids[4]].every((id) => deadLettered('notification_id_conflict').includes(id as string)), 'the two reuses dead-lettered', 15_000);
    for (const [i, id] of fresh.entries()) {
      await recorded(id);
      assert.deepEqual((await rowsOf(id)).map((r) => r.title), [`fine ${i}`]);
    }
    assert.deepEqual((await rowsOf(twin)).map((r) => r.title), ['first twin']);
    assert.deepEqual((await rowsOf(x)).map((r) => [r.user_id, r.title]), [[alan, 'original']]);
    for (const id of [ids[0], ids[2], ids[3], ids[5]]) assert.ok(!deadLettered('notification_id_conflict').includes(id as string));
  });

  it('When a batch message reuses the id of a recorded send in one of its notifications, then the whole batch message is dead-lettered and stores nothing', async () => {
    // Arrange
    const x = await httpSend({ recipients: { userIds: [alan] }, title: 'mine', body: 'b' });
    await recorded(x);
    const other = randomUUID();
    const exchange = topology(stack.env.BROKER_NAMESPACE as string).exchanges.events.name;
    const messageId = randomUUID();

    // Act
    const batch = {
      notifications: [
        { notificationId: other, recipients: { userIds: [eve] }, title: 'rides along', body: 'b' },
        { notificationId: x, recipients: { userIds: [eve] }, title: 'HIJACK', body: 'b' },
      ],
      requestedAt: new Date().toISOString(),
    };
    ch.publish(exchange, ROUTING_KEYS.notificationBatchRequested, Buffer.from(JSON.stringify(batch)), { messageId, contentType: 'application/json', persistent: true });
    await ch.waitForConfirms();

    // Assert: a batch is valid or refused as a whole (decision 0018)
    await until(() => deadLettered('notification_id_conflict').includes(messageId), 'the batch message dead-lettered', 15_000);
    assert.equal((await rowsOf(other)).length, 0);
    assert.equal((await db.query('SELECT 1 FROM sends WHERE notification_id = $1', [other])).rowCount, 0);
    assert.equal((await rowsOf(x)).length, 1);
  });

  describe('upper-case user ids', () => {
    it('When a single send, a batch and a broker message name a user in upper case, then the user gets each and the status shows 1 recipient, none unknown', async () => {
      // Act
      const single = await httpSend({ recipients: { userIds: [alan.toUpperCase()] }, title: 'upper single', body: 'b' });
      const batch = await call<{ ids: string[] }>(`${stack.mainUrl}/notifications/batch`, {
        token: admin.accessToken,
        body: { notifications: [{ recipients: { userIds: [alan.toUpperCase(), alan] }, title: 'upper batch', body: 'b' }] },
      });
      assert.equal(batch.status, 202, JSON.stringify(batch.body));
      const brokerId = randomUUID().toUpperCase();
      await publish({ notificationId: brokerId, recipients: { userIds: [alan.toUpperCase()] }, title: 'upper broker', body: 'b', requestedBy: { userId: admin.user.id.toUpperCase() } });

      // Assert
      for (const id of [single, batch.body.ids[0] as string, brokerId.toLowerCase()]) {
        await recorded(id);
        assert.deepEqual((await rowsOf(id)).map((r) => r.user_id), [alan]);
        const status = await call(`${stack.notificationUrl}/notifications/${id}`, { token: admin.accessToken });
        assert.equal(status.status, 200, id);
        assert.equal(status.body.recipients, 1);
        assert.deepEqual(status.body.unknownUserIds, []);
        assert.equal((status.body.sender as { id: string }).id, admin.user.id);
      }
    });
  });
});
