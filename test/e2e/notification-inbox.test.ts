/**
 * The durable inbox: exact unread counts past 100, cursor paging stable under inserts, read
 * state and isolation over REST, role fan-out from the user directory the auth service
 * publishes, idempotent redelivery, poison messages, two replicas and retention.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import pg from 'pg';
import { notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { createPool } from '@warren/shared/db/database';
import { Broker } from '@warren/shared/messaging/broker';
import { Publisher } from '@warren/shared/messaging/publisher';
import { routeResources } from '@warren/shared/messaging/topology';
import { InboxRepository } from '../../services/notification/src/db/inbox-repository.js';
import { RetentionPruner } from '../../services/notification/src/domain/retention.js';
import { RABBITMQ_URL } from '../support/env.js';
import { call, sleep } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket } from '../support/ws-client.js';

describe('the durable inbox', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  let admin: Awaited<ReturnType<typeof login>>;

  before(async () => {
    smtp = await startSmtpServer();
    stack = await startStack({ SMTP_URL: smtp.url });
    admin = await login(stack);
  });
  after(async () => {
    await stack?.stop();
    await smtp?.stop();
  });

  const send = (recipients: object, title: string, token = admin.accessToken) =>
    call(`${stack.mainUrl}/notifications`, { token, body: { recipients, title, body: `body of ${title}` } });
  const inbox = (token: string, query = '') => call(`${stack.notificationUrl}/inbox${query}`, { token });
  const unread = async (token: string) => (await call(`${stack.notificationUrl}/inbox/unread-count`, { token })).body.count as number;
  async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await sleep(50);
    }
    assert.fail(`timed out waiting for ${what}`);
  }

  async function newUser(email: string) {
    const password = 'a long enough passphrase 9';
    await call(`${stack.mainUrl}/auth/register`, { body: { email, password, name: email.split('@')[0] } });
    const code = codeIn(await smtp.waitForMessage((m) => m.envelope.to.includes(email), 10_000));
    await call(`${stack.mainUrl}/auth/verify-email`, { body: { email, code } });
    return login(stack, email, password);
  }

  it('When 150 notifications arrive, then the unread count is exactly 150 and follows reads', async () => {
    const user = await newUser('counter@warren.test');
    for (let i = 0; i < 150; i++) assert.equal((await send({ userIds: [user.user.id] }, `count ${i}`)).status, 202);
    await until(async () => (await unread(user.accessToken)) === 150, '150 unread');

    const page = await inbox(user.accessToken, '?limit=3');
    const [first, second] = page.body.items as { id: string }[];
    assert.equal((await call(`${stack.notificationUrl}/inbox/${first?.id}/read`, { method: 'POST', token: user.accessToken })).status, 204);
    assert.equal((await call(`${stack.notificationUrl}/inbox/${first?.id}/read`, { method: 'POST', token: user.accessToken })).status, 204, 'again: no change, no error');
    assert.equal((await call(`${stack.notificationUrl}/inbox/${second?.id}/read`, { method: 'POST', token: user.accessToken })).status, 204);
    assert.equal(await unread(user.accessToken), 148);
    const listed = await inbox(user.accessToken, '?limit=3');
    assert.ok(listed.body.items[0].readAt, 'readAt is set');

    assert.equal((await call(`${stack.notificationUrl}/inbox/read-all`, { method: 'POST', token: user.accessToken })).status, 204);
    assert.equal(await unread(user.accessToken), 0);
    assert.equal(await countInDatabase(user.user.id), 0, 'the counter agrees with the rows');
  });

  it('When paging while new notifications arrive, then pages neither repeat nor skip', async () => {
    const user = await newUser('pager@warren.test');
    for (let i = 0; i < 25; i++) await send({ userIds: [user.user.id] }, `page ${i}`);
    await until(async () => (await unread(user.accessToken)) === 25, '25 stored');

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await inbox(user.accessToken, `?limit=10${cursor ? `&before=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      seen.push(...res.body.items.map((n: { id: string }) => n.id));
      cursor = res.body.nextCursor;
      if (pages++ === 0) for (let i = 0; i < 5; i++) await send({ userIds: [user.user.id] }, `inserted ${i}`);
    } while (cursor);

    assert.equal(seen.length, 25, 'the 25 that existed when paging began, each once');
    assert.equal(new Set(seen).size, 25);
    assert.deepEqual([...seen].sort().reverse(), seen, 'newest first');
    for (const id of seen) assert.match(id, /^[0-9a-f]{16}$/);
    const bad = await inbox(user.accessToken, '?before=zzz');
    assert.equal(bad.status, 400);
  });

  it("When a user reads or marks another user's notification, then it is a 404 and nothing changes", async () => {
    const alice = await newUser('alice@warren.test');
    const bob = await newUser('bob@warren.test');
    await send({ userIds: [alice.user.id] }, 'for alice only');
    await until(async () => (await unread(alice.accessToken)) === 1, "alice's notification");

    const aliceItems = (await inbox(alice.accessToken)).body.items as { id: string }[];
    assert.equal((await inbox(bob.accessToken)).body.items.length, 0, 'bob sees nothing of alice');
    const hers = aliceItems[0]?.id as string;
    const res = await call(`${stack.notificationUrl}/inbox/${hers}/read`, { method: 'POST', token: bob.accessToken });
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'notification_not_found');
    assert.equal((await call(`${stack.notificationUrl}/inbox/not-an-id/read`, { method: 'POST', token: bob.accessToken })).status, 404);
    assert.equal(await unread(alice.accessToken), 1, 'still unread');
    await call(`${stack.notificationUrl}/inbox/read-all`, { method: 'POST', token: bob.accessToken });
    assert.equal(await unread(alice.accessToken), 1, "bob's read-all does not touch alice's");
  });

  it('When a notification names a role, then every user holding it then receives it, and a role change is followed', async () => {
    const emp = await newUser('emp@warren.test');
    const mgr = await newUser('mgr@warren.test');
    assert.equal((await call(`${stack.mainUrl}/users/${mgr.user.id}`, { method: 'PATCH', token: admin.accessToken, body: { role: 'manager' } })).status, 200);
    // The directory follows the auth service's events: wait until the role change is known.
    const probe = async () => {
      await send({ roles: ['manager'] }, `probe ${randomUUID()}`);
      await sleep(100);
      return (await unread(mgr.accessToken)) > 0;
    };
    await until(probe, 'the directory to know the manager');
    await call(`${stack.notificationUrl}/inbox/read-all`, { method: 'POST', token: mgr.accessToken });
    const empBefore = await unread(emp.accessToken);

    const res = await send({ roles: ['manager', 'admin'] }, 'for managers and admins');
    assert.equal(res.status, 202);
    await until(async () => (await unread(mgr.accessToken)) === 1, 'the manager to receive it');
    await until(async () => (await inbox(admin.accessToken, '?limit=100')).body.items.some((n: { title: string }) => n.title === 'for managers and admins'), 'the admin to receive it');
    // One send's rows are stored in one transaction: the employee's would be there by now.
    assert.equal(await unread(emp.accessToken), empBefore, 'the employee did not');

    const both = await send({ roles: ['employee'], userIds: [emp.user.id] }, 'named twice');
    assert.equal(both.status, 202);
    await until(async () => (await unread(emp.accessToken)) === empBefore + 1, 'one row for a user named twice');
  });

  it('When the same message is delivered twice, then one row is stored and one frame pushed', async () => {
    const user = await newUser('twice@warren.test');
    const socket = openSocket(`${stack.notificationWsUrl}?token=${user.accessToken}`);
    assert.equal((await socket.next()).type, 'ready');
    const { logger } = captureLogs('test-publisher');
    const broker = new Broker({ url: RABBITMQ_URL, connectionName: 'test-twice', logger });
    await broker.waitConnected(5000);
    const publisher = new Publisher({ broker, logger, declares: routeResources(topology(stack.env.BROKER_NAMESPACE as string).events.notificationRequested) });
    try {
      const notificationId = randomUUID();
      const message = {
        notificationId,
        recipients: { userIds: [user.user.id] },
        title: 'exactly once',
        body: 'b',
        requestedAt: new Date().toISOString(),
      };
      const exchange = topology(stack.env.BROKER_NAMESPACE as string).exchanges.events.name;
      await publisher.publish(exchange, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, message, { messageId: notificationId });
      await publisher.publish(exchange, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, message, { messageId: notificationId });

      const frame = await socket.next();
      assert.equal((frame.notification as { title: string }).title, 'exactly once');
      // A later message must be the very next frame: a second push of the first would come before it.
      const laterId = randomUUID();
      await publisher.publish(exchange, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, { ...message, notificationId: laterId, title: 'the one after' }, { messageId: laterId });
      assert.equal(((await socket.next()).notification as { title: string }).title, 'the one after', 'no second push');
      const items = (await inbox(user.accessToken)).body.items as { title: string }[];
      assert.equal(items.filter((n) => n.title === 'exactly once').length, 1);
    } finally {
      socket.close();
      await publisher.close();
      await broker.close();
    }
  });

  it('When poison messages arrive between good ones, then they are dead-lettered and counted while the good ones are stored', async () => {
    const user = await newUser('poison@warren.test');
    const t = topology(stack.env.BROKER_NAMESPACE as string);
    const conn = await amqplib.connect(RABBITMQ_URL);
    try {
      const ch = await conn.createConfirmChannel();
      const good = (title: string) =>
        Buffer.from(JSON.stringify({ notificationId: randomUUID(), recipients: { userIds: [user.user.id] }, title, body: 'b', requestedAt: new Date().toISOString() }));
      const publish = (body: Buffer) => ch.publish(t.exchanges.events.name, ROUTING_KEYS.notificationRequested, body, { persistent: true, messageId: randomUUID() });
      publish(good('good 1'));
      publish(Buffer.from('this is not json'));
      publish(Buffer.from(JSON.stringify({ title: 'no recipients' })));
      publish(good('good 2'));
      await ch.waitForConfirms();

      await until(async () => (await unread(user.accessToken)) === 2, 'the two good ones');
      const dlq = t.queues.notificationRequests.deadLetterQueue;
      await until(async () => (await ch.checkQueue(dlq)).messageCount >= 2, 'two dead letters');
      const metrics = await (await fetch(`${stack.notificationUrl}/metrics`)).text();
      assert.match(metrics, /amqp_messages_dead_lettered_total\{[^}]*reason="invalid_json"[^}]*\} 1/);
      assert.match(metrics, /amqp_messages_dead_lettered_total\{[^}]*reason="validation_failed"[^}]*\} 1/);
      await ch.purgeQueue(dlq);
    } finally {
      await conn.close();
    }
  });

  it('When two replicas share the work, then a socket on either receives every notification exactly once', async () => {
    const user = await newUser('replicas@warren.test');
    const replica = await stack.addNotificationReplica();
    const onA = openSocket(`${stack.notificationWsUrl}?token=${user.accessToken}`);
    const onB = openSocket(`${replica.wsUrl}?token=${user.accessToken}`);
    assert.equal((await onA.next()).type, 'ready');
    assert.equal((await onB.next()).type, 'ready');

    const n = 40;
    for (let i = 0; i < n; i++) assert.equal((await send({ userIds: [user.user.id] }, `replicated ${String(i).padStart(2, '0')}`)).status, 202);

    for (const socket of [onA, onB]) {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const frame = await socket.next(10_000);
        assert.equal(frame.type, 'notification');
        ids.push((frame.notification as { id: string }).id);
      }
      assert.equal(new Set(ids).size, n, 'no duplicates');
      assert.deepEqual([...ids].sort(), ids, 'in creation order');
      await assert.rejects(socket.next(500), /no frame/, 'nothing more');
    }
    const storedBy = (lines: Record<string, unknown>[]) => lines.filter((l) => l.message === 'notifications stored' && Number(l.newRows) > 0).length;
    assert.ok(storedBy(stack.logs.notification.lines) > 0 && storedBy(replica.logs.lines) > 0, 'both replicas stored some');
    onA.close();
    onB.close();
  });

  it('When notifications pass the retention age, then the background pruner deletes them and their unread count', async () => {
    const user = await newUser('old@warren.test');
    await send({ userIds: [user.user.id] }, 'ancient');
    await send({ userIds: [user.user.id] }, 'recent');
    await until(async () => (await unread(user.accessToken)) === 2, 'two stored');
    const client = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await client.connect();
    await client.query("UPDATE inbox_items SET created_at = now() - interval '200 days' WHERE title = 'ancient'");
    await client.end();

    const { logger } = captureLogs('retention');
    const pool = createPool(stack.env.NOTIFICATION_DATABASE_URL as string, 2, logger);
    try {
      const pruned = await new RetentionPruner(new InboxRepository(pool), 180, logger, 1).pruneAll();
      assert.equal(pruned, 1);
    } finally {
      await pool.end();
    }
    const titles = (await inbox(user.accessToken)).body.items.map((n: { title: string }) => n.title);
    assert.deepEqual(titles, ['recent']);
    assert.equal(await unread(user.accessToken), 1);
  });

  async function countInDatabase(userId: string): Promise<number> {
    const client = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox_items WHERE user_id = $1 AND read_at IS NULL', [userId]);
      return rows[0]?.n ?? -1;
    } finally {
      await client.end();
    }
  }
});
